/**
 * The receiver in-process on a real HTTP server: token rotation through Secret Manager versions (no emulator exists:
 * the client is injected, as for the credential secret), Secret Manager failures, and publishes that fail because the
 * Pub/Sub emulator cannot be reached (a TCP proxy between them is cut), answered 503 with Retry-After, never 4xx.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { PubSub } from '@google-cloud/pubsub';
import { newReceiverToken } from '../../../shared/receiver-auth';
import { startTcpProxy, type TcpProxy } from '../../../local/tcp-proxy';
import { OffsetClock } from '../../../runtime/core/clock';
import { bearerToken, tokenAccepted, tokenDigest } from '../../../shared/receiver-auth';
import { PubSubIngestPublisher, TopicsPublisher, type DoorPublisher } from '../../../runtime/adapters/ingest-publisher';
import { routeBody } from '../../../runtime/receiver/route';
import { createReceiverRuntime, type ReceiverRuntime } from '../../../runtime/receiver/runtime';
import {
  parseTokenList,
  SecretManagerTokenSource,
  type SecretVersionLister,
  type ReceiverTokenSource,
} from '../../../runtime/receiver/tokens';
import { loadEnvironments } from '../../../shared/connector';
import { workspaceDoor } from '../../../shared/door';
import { doorEnvironment, parseDoorConfig } from '../../../shared/door-config';
import { resourceNames } from '../../../shared/names';
import { connectorDefinition } from '../../support/function/fixture';

const SECRET = 'projects/rcv-project/secrets/currents-door-rcv-ws-token';

/** Secret Manager as the receiver sees it: versions with a state and a payload; calls can be made to fail. */
class FakeSecretManager implements SecretVersionLister {
  versions: { n: number; token: string; state: 'ENABLED' | 'DISABLED' }[] = [];
  failWith?: { code: number };
  listCalls = 0;

  add(token: string) {
    this.versions.push({ n: this.versions.length + 1, token, state: 'ENABLED' });
    return this.versions.length;
  }

  async listSecretVersions(req: { parent: string; filter?: string }) {
    this.listCalls++;
    if (this.failWith) throw Object.assign(new Error('unavailable'), this.failWith);
    expect(req.parent).toBe(SECRET);
    const enabledOnly = req.filter === 'state:ENABLED';
    const list = this.versions
      .filter((v) => !enabledOnly || v.state === 'ENABLED')
      .map((v) => ({ name: `${SECRET}/versions/${v.n}`, state: v.state }));
    return [list] as const;
  }

  async accessSecretVersion(req: { name: string }) {
    const v = this.versions.find((x) => req.name === `${SECRET}/versions/${x.n}`);
    if (!v || v.state !== 'ENABLED') throw Object.assign(new Error('disabled'), { code: 9 });
    return [{ payload: { data: Buffer.from(v.token) } }] as const;
  }
}

function configFor(projectId: string) {
  const [environment] = loadEnvironments([
    {
      name: 'test',
      project: projectId,
      region: 'europe-west1',
      connectors: [connectorDefinition({ name: 'rcv', workspace: 'rcv-ws' })],
    },
  ]);
  const c = environment!.connectors[0]!;
  return parseDoorConfig(doorEnvironment(environment!, workspaceDoor(c.workspace, [c])));
}

async function serve(runtime: ReceiverRuntime): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => void runtime.handle(req, res));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, server };
}

async function post(url: string, token: string, body = '{"events":[{"id":"e1","time":1}]}') {
  const res = await fetch(url, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body });
  return { status: res.status, retryAfter: res.headers.get('retry-after'), text: await res.text() };
}

describe('pure core', () => {
  it('reads only well-formed bearer headers', () => {
    expect(bearerToken('Bearer abc-._~+/==')).toBe('abc-._~+/==');
    expect(bearerToken('bearer abc')).toBe('abc');
    for (const h of [undefined, '', 'Bearer', 'Bearer ', 'Basic abc', 'Bearer a b', 'Bearer abc"', ['Bearer a']]) {
      expect(bearerToken(h as string | undefined)).toBeUndefined();
    }
  });

  it('accepts exactly the listed tokens', () => {
    const accepted = ['one-token-aaaa', 'two-token-bbbb'].map(tokenDigest);
    expect(tokenAccepted('one-token-aaaa', accepted)).toBe(true);
    expect(tokenAccepted('two-token-bbbb', accepted)).toBe(true);
    expect(tokenAccepted('one-token-aaab', accepted)).toBe(false);
    expect(tokenAccepted('one-token-aaaa', [])).toBe(false);
    expect(tokenAccepted(undefined, accepted)).toBe(false);
  });

  it('counts events of the envelope; anything else is published whole to the fallback connector, not counted', () => {
    const door = { routes: new Map([['users.messages.email.Open', 'a']]), fallback: 'a' };
    const route = (text: string) => {
      const r = routeBody(Buffer.from(text), door);
      return { empty: r.empty, events: r.events, parts: r.parts.map((p) => [p.connector, p.events]) };
    };
    expect(route('')).toEqual({ empty: true, events: 0, parts: [] });
    expect(route('{"events":[]}')).toEqual({ empty: true, events: 0, parts: [] });
    expect(route('{"events":[{},{}]}')).toEqual({ empty: false, events: 2, parts: [['a', 2]] });
    expect(route('{"events":{}}')).toEqual({ empty: false, events: undefined, parts: [['a', undefined]] });
    expect(route('not json')).toEqual({ empty: false, events: undefined, parts: [['a', undefined]] });
  });

  it('splits stored token text on lines and commas', () => {
    expect(parseTokenList(' a1 \n\nb2,c3\r\n')).toEqual(['a1', 'b2', 'c3']);
  });
});

describe('token rotation through Secret Manager versions', () => {
  const published: Buffer[] = [];
  const publisher: DoorPublisher = {
    publish: async (_connector, data) => {
      published.push(data);
      return String(published.length);
    },
    close: async () => undefined,
  };
  let sm: FakeSecretManager;
  let clock: OffsetClock;
  let tokens: ReceiverTokenSource;
  let url: string;
  let server: Server;

  beforeEach(async () => {
    sm = new FakeSecretManager();
    clock = new OffsetClock();
    tokens = new SecretManagerTokenSource({ secretName: SECRET, client: sm, clock, cacheMs: 30_000, staleMs: 300_000 });
    ({ url, server } = await serve(
      createReceiverRuntime(configFor('rcv-project'), { tokens, publisher, clock, logSink: () => undefined }),
    ));
  });
  afterEach(() => new Promise<void>((r) => server.close(() => r())));

  it('accepts every enabled version; a disabled one stops working within the cache time', async () => {
    const [oldToken, newToken] = [newReceiverToken(), newReceiverToken()];
    sm.add(oldToken);
    expect((await post(url, oldToken)).status).toBe(200);
    expect((await post(url, newToken)).status).toBe(401);
    // Rotation: add the new version (both work once the cache has expired), change Braze, disable the old one.
    sm.add(newToken);
    clock.offsetMs += 30_001;
    expect((await post(url, oldToken)).status).toBe(200);
    expect((await post(url, newToken)).status).toBe(200);
    sm.versions[0]!.state = 'DISABLED';
    clock.offsetMs += 10_000;
    expect((await post(url, oldToken)).status).toBe(200); // still cached: at most the cache time
    clock.offsetMs += 20_001;
    expect((await post(url, oldToken)).status).toBe(401);
    expect((await post(url, newToken)).status).toBe(200);
  });

  it('reads Secret Manager at most once per cache period, however many requests', async () => {
    const t = newReceiverToken();
    sm.add(t);
    await Promise.all(Array.from({ length: 20 }, () => post(url, t)));
    expect(sm.listCalls).toBe(1);
  });

  it('answers 503 (never 401) when Secret Manager cannot be read and no list was ever read', async () => {
    sm.add(newReceiverToken());
    sm.failWith = { code: 14 };
    const before = published.length;
    const r = await post(url, 'whatever-token-value');
    expect(r.status).toBe(503);
    expect(r.retryAfter).toBe('10');
    expect(published).toHaveLength(before);
  });

  it('keeps the last list for a while when Secret Manager fails later, then answers 503', async () => {
    const t = newReceiverToken();
    sm.add(t);
    expect((await post(url, t)).status).toBe(200);
    sm.failWith = { code: 14 };
    clock.offsetMs += 60_000;
    expect((await post(url, t)).status).toBe(200);
    clock.offsetMs += 300_000;
    expect((await post(url, t)).status).toBe(503);
    sm.failWith = undefined;
    expect((await post(url, t)).status).toBe(200);
  });

  it('answers 503 when no version is enabled (nothing could authenticate: our configuration, not Braze)', async () => {
    const r = await post(url, newReceiverToken());
    expect(r.status).toBe(503);
  });
});

describe('publish failures (the Pub/Sub emulator unreachable)', () => {
  const projectId = `rcvf-${randomBytes(4).toString('hex')}`;
  const config = configFor(projectId);
  const token = newReceiverToken();
  let proxy: TcpProxy;
  let runtime: ReceiverRuntime;
  let url: string;
  let server: Server;
  let pubsub: PubSub;
  const logs: Record<string, unknown>[] = [];

  beforeAll(async () => {
    pubsub = new PubSub({ projectId });
    await pubsub.createTopic(resourceNames('rcv').ingestTopic);
    proxy = await startTcpProxy(process.env.PUBSUB_EMULATOR_HOST!);
    const previous = process.env.PUBSUB_EMULATOR_HOST;
    process.env.PUBSUB_EMULATOR_HOST = proxy.host; // the client reads it when created (first publish)
    runtime = createReceiverRuntime(config, {
      env: { CURRENTS_RECEIVER_TOKEN_SOURCE: 'env', CURRENTS_RECEIVER_TOKENS: token },
      publisher: new TopicsPublisher(
        config.topics,
        (topic) => new PubSubIngestPublisher({ projectId, topic, timeoutMs: 1500 }),
      ),
      logSink: (line) => logs.push(JSON.parse(line) as Record<string, unknown>),
    });
    ({ url, server } = await serve(runtime));
    expect((await post(url, token)).status).toBe(200);
    process.env.PUBSUB_EMULATOR_HOST = previous;
  });

  afterAll(async () => {
    await new Promise<void>((r) => server.close(() => r()));
    await runtime.close();
    await proxy.close();
    await pubsub.close();
  });

  it('answers 503 with Retry-After while the publish cannot be acknowledged, and 200 again once it can', async () => {
    await proxy.cut();
    const r = await post(url, token);
    expect(r.status).toBe(503);
    expect(r.retryAfter).toBe('10');
    expect(JSON.parse(r.text)).toEqual({ error: 'temporarily unavailable; retry later' });
    expect(logs).toContainEqual(
      expect.objectContaining({ event: 'receiver_request', status: 503, outcome: 'publish_failed' }),
    );
    await proxy.restore();
    let status = 0;
    for (let i = 0; i < 60 && status !== 200; i++) {
      status = (await post(url, token)).status;
      if (status !== 200) await new Promise((res) => setTimeout(res, 500));
    }
    expect(status).toBe(200);
  });
});
