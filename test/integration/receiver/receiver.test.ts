/**
 * A workspace's door (the receiver) served by the real functions-framework in its own process, publishing to the
 * Pub/Sub emulator, reached over real HTTP: authentication, what is published (and that nothing is on a refusal), bad
 * bodies, types no connector selects, size limits, gzip.
 */
import { randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { PubSub } from '@google-cloud/pubsub';
import { acknowledge, createClients, leaseAll } from '../../../cli/ops/dead-letter-queue';
import { newReceiverToken } from '../../../shared/receiver-auth';
import { startFunctionHost, type FunctionHost } from '../../../local/function-host';
import { MAX_BODY_BYTES } from '../../../runtime/receiver/core';
import { loadEnvironments } from '../../../shared/connector';
import { resourceNames } from '../../../shared/names';
import { workspaceDoor } from '../../../shared/door';
import { doorEnvironment } from '../../../shared/door-config';
import { ENV_VARS } from '../../../shared/runtime-config';
import { connectorDefinition } from '../../support/function/fixture';

const tokens = [newReceiverToken(), newReceiverToken()];
const projectId = `rcv-${randomBytes(4).toString('hex')}`;
const [environment] = loadEnvironments([
  { name: 'test', project: projectId, region: 'europe-west1', connectors: [connectorDefinition({ name: 'rcv' })] },
]);
const connector = environment!.connectors[0]!;
const names = resourceNames(connector.name);
const pullSubscription = `projects/${projectId}/subscriptions/${names.ingestTopic}-test-pull`;

let host: FunctionHost;
let pubsub: PubSub;
let clients: Awaited<ReturnType<typeof createClients>>;
const logs: Record<string, unknown>[] = [];
const rawLines: string[] = [];

beforeAll(async () => {
  pubsub = new PubSub({ projectId });
  const [topic] = await pubsub.createTopic(names.ingestTopic);
  await topic.createSubscription(`${names.ingestTopic}-test-pull`);
  clients = await createClients();
  host = await startFunctionHost({
    serve: 'receiver',
    env: {
      PUBSUB_EMULATOR_HOST: process.env.PUBSUB_EMULATOR_HOST!,
      ...doorEnvironment({ name: 'test', project: projectId }, workspaceDoor(connector.workspace, [connector])),
      [ENV_VARS.receiverTokenSource]: 'env',
      [ENV_VARS.receiverTokens]: tokens.join('\n'),
    },
    onLine: (line) => {
      rawLines.push(line);
      try {
        logs.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        /* the framework's own lines */
      }
    },
  });
});

afterAll(async () => {
  await host?.stop();
  await Promise.allSettled([pubsub?.close(), clients?.subscriber.close(), clients?.publisher.close()]);
});

/** Everything published to the ingest topic since the last call. */
async function takePublished() {
  const got = await leaseAll(clients.subscriber, pullSubscription, { leaseSeconds: 60 });
  await acknowledge(clients.subscriber, pullSubscription, got);
  return got;
}

function event(i: number) {
  return {
    event_type: 'users.messages.email.Open',
    id: `evt-${i}-${randomBytes(4).toString('hex')}`,
    time: 1_764_000_000 + i,
    user: { user_id: `u${i}`, external_user_id: `ext-${i}` },
    properties: { campaign_name: 'Welcome' },
  };
}

async function post(
  body: string | Buffer | undefined,
  headers: Record<string, string> = {},
  opts: { method?: string; path?: string } = {},
) {
  const res = await fetch(`${host.url}${opts.path ?? '/'}`, {
    method: opts.method ?? 'POST',
    headers: { 'content-type': 'application/json', 'braze-currents-version': '1', ...headers },
    body,
  });
  return { status: res.status, headers: res.headers, text: await res.text() };
}

/** Log lines come from the receiver's process a moment after its answer. */
async function waitForLogs(count: number) {
  for (let i = 0; i < 100 && logs.length < count; i++) await new Promise((r) => setTimeout(r, 20));
}

const bearer = (t: string) => ({ authorization: `Bearer ${t}` });
const envelope = (n: number) => JSON.stringify({ events: Array.from({ length: n }, (_, i) => event(i)) });

describe('authentication (before anything else, every request)', () => {
  const refused: [string, Record<string, string>][] = [
    ['no Authorization header', {}],
    ['a Basic scheme', { authorization: `Basic ${Buffer.from(`${tokens[0]}:`).toString('base64')}` }],
    ['an empty bearer token', { authorization: 'Bearer ' }],
    ['a wrong token', bearer(newReceiverToken())],
    ['a token with one character changed', bearer(`${tokens[0]!.slice(0, -1)}${tokens[0]!.endsWith('A') ? 'B' : 'A'}`)],
    ['the token without its scheme', { authorization: tokens[0]! }],
  ];

  it.each(refused)('refuses %s with 401, says nothing about the token, publishes nothing', async (_what, headers) => {
    for (const body of [envelope(3), '', '{"events":[]}']) {
      const r = await post(body, headers);
      expect(r.status).toBe(401);
      expect(r.headers.get('www-authenticate')).toBe('Bearer');
      expect(JSON.parse(r.text)).toEqual({ error: 'unauthorized' });
      for (const t of tokens) expect(r.text).not.toContain(t);
    }
    expect(await takePublished()).toHaveLength(0);
  });

  it('accepts every configured token; publishes the body as it came, one message per request, with attributes', async () => {
    const bodies = [envelope(2), envelope(5)];
    for (const [i, t] of tokens.entries()) {
      const r = await post(bodies[i], bearer(t));
      expect(r.status).toBe(200);
      expect(JSON.parse(r.text)).toEqual({ ok: true, events: i === 0 ? 2 : 5 });
    }
    const got = await takePublished();
    expect(got.map((m) => m.data.toString()).sort()).toEqual([...bodies].sort());
    for (const m of got) {
      expect(m.attributes).toMatchObject({ source: 'receiver', braze_currents_version: '1' });
      expect(m.attributes.content_type).toBe('application/json');
      expect(Date.parse(m.attributes.received_at!)).toBeGreaterThan(Date.now() - 60_000);
    }
  });

  it('answers an authenticated empty body or empty events array 200 and publishes nothing', async () => {
    for (const body of ['', '{"events":[]}', '  \n']) {
      const r = await post(body, bearer(tokens[1]!));
      expect(r.status).toBe(200);
      expect(JSON.parse(r.text)).toEqual({ ok: true, events: 0 });
    }
    expect(await takePublished()).toHaveLength(0);
  });

  it('answers 405 to other methods and 200 to the health check, publishing nothing', async () => {
    expect((await post(undefined, bearer(tokens[0]!), { method: 'GET' })).status).toBe(405);
    expect((await post(envelope(1), bearer(tokens[0]!), { method: 'PUT' })).status).toBe(405);
    const health = await post(undefined, {}, { method: 'GET', path: '/healthz' });
    expect(health.status).toBe(200);
    expect(JSON.parse(health.text)).toEqual({ ok: true });
    expect(await takePublished()).toHaveLength(0);
  });
});

describe('bodies: never a 400 for an authenticated body', () => {
  const auth = () => bearer(tokens[0]!);

  it.each([
    ['invalid JSON', '{"events":[{"id":', 'application/json'],
    ['JSON that is not the envelope', '[1,2,3]', 'application/json'],
    ['a text content type', envelope(1), 'text/plain'],
    ['no JSON at all', 'hello braze', 'application/octet-stream'],
    ['invalid UTF-8', Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), 'application/json'],
  ])('accepts %s with 200 and publishes it unchanged (the function dead-letters it)', async (_w, body, type) => {
    const r = await post(body, { ...auth(), 'content-type': type });
    expect(r.status).toBe(200);
    const [m, ...rest] = await takePublished();
    expect(rest).toHaveLength(0);
    expect(m!.data.equals(Buffer.isBuffer(body) ? body : Buffer.from(body))).toBe(true);
  });

  it('answers 200 to events of types no connector selects, counts them by type and publishes only the rest', async () => {
    const before = logs.length;
    const future = { ...event(1), event_type: 'users.future.Thing' };
    const sms = { ...event(2), event_type: 'users.messages.sms.Send' };
    const kept = event(3);
    const r = await post(JSON.stringify({ events: [future, kept, sms, future] }), auth());
    expect(r.status).toBe(200);
    expect(JSON.parse(r.text)).toEqual({ ok: true, events: 4 });
    const [m, ...rest] = await takePublished();
    expect(rest).toHaveLength(0);
    expect(JSON.parse(m!.data.toString())).toEqual({ events: [kept] });
    const only = await post(JSON.stringify({ events: [sms] }), auth());
    expect(only.status).toBe(200);
    expect(await takePublished()).toHaveLength(0);
    await waitForLogs(before + 2);
    expect(logs.slice(before)).toEqual([
      expect.objectContaining({
        outcome: 'published',
        events: 4,
        routed: { rcv: 1 },
        notSelected: { 'users.future.Thing': 2, 'users.messages.sms.Send': 1 },
      }),
      expect.objectContaining({ outcome: 'not_selected', events: 1, notSelected: { 'users.messages.sms.Send': 1 } }),
    ]);
  });

  it('decompresses a gzip body and publishes the JSON Braze sent', async () => {
    const body = envelope(4);
    const r = await post(gzipSync(body), { ...auth(), 'content-encoding': 'gzip' });
    expect(r.status).toBe(200);
    expect(JSON.parse(r.text)).toEqual({ ok: true, events: 4 });
    const [m] = await takePublished();
    expect(m!.data.toString()).toBe(body);
    expect(m!.attributes.content_encoding).toBeUndefined();
  });

  it('publishes a corrupt gzip body as received, marked, rather than refusing it', async () => {
    const broken = gzipSync(envelope(2)).subarray(0, 30);
    const r = await post(broken, { ...auth(), 'content-encoding': 'gzip' });
    expect(r.status).toBe(200);
    const [m] = await takePublished();
    expect(m!.data.equals(broken)).toBe(true);
    expect(m!.attributes.content_encoding).toBe('gzip');
  });

  it('answers 413 to a gzip bomb (inflates past the limit) without publishing, and stays up', async () => {
    const bomb = gzipSync(Buffer.alloc(MAX_BODY_BYTES + 1_000_000, 0x20));
    expect(bomb.length).toBeLessThan(100_000);
    const r = await post(bomb, { ...auth(), 'content-encoding': 'gzip' });
    expect(r.status).toBe(413);
    expect(await takePublished()).toHaveLength(0);
    expect((await post(envelope(1), auth())).status).toBe(200);
    expect(await takePublished()).toHaveLength(1);
  });

  it('answers 413 to a body over what one Pub/Sub message holds, and accepts one just under it', async () => {
    const over = Buffer.alloc(MAX_BODY_BYTES + 1, 0x20);
    expect((await post(over, auth())).status).toBe(413);
    expect(await takePublished()).toHaveLength(0);
    // Just under the limit: one huge (malformed) event still fits in one message with its attributes.
    const under = Buffer.concat([
      Buffer.from('{"events":[{"pad":"'),
      Buffer.alloc(MAX_BODY_BYTES - 30, 0x61),
      Buffer.from('"}]}'),
    ]);
    expect(under.length).toBeLessThanOrEqual(MAX_BODY_BYTES);
    const before = logs.length;
    const r = await post(under, auth());
    expect(r.status).toBe(200);
    // Pub/Sub acknowledged the whole body (pulling a 10 MB message back exceeds the gRPC client's receive limit).
    await waitForLogs(before + 1);
    expect(logs.slice(before)).toContainEqual(
      expect.objectContaining({ event: 'receiver_request', status: 200, outcome: 'published', bytes: under.length }),
    );
  });

  it('logs one receiver_request line per request with status, events, bytes and publish latency; never a token', async () => {
    const before = logs.length;
    await post(envelope(7), auth());
    await post(envelope(1), bearer('nope-not-a-token-at-all'));
    await takePublished();
    await waitForLogs(before + 2);
    const lines = logs.slice(before).filter((l) => l.event === 'receiver_request');
    expect(lines).toEqual([
      expect.objectContaining({
        severity: 'INFO',
        status: 200,
        outcome: 'published',
        events: 7,
        routed: { rcv: 7 },
        workspace: 'ws-test',
        connector: 'currents-door-ws-test',
      }),
      expect.objectContaining({ severity: 'WARNING', status: 401, outcome: 'unauthorized' }),
    ]);
    expect(lines[0]!.bytes).toBe(Buffer.byteLength(envelope(7)));
    expect(typeof lines[0]!.publishMs).toBe('number');
    const all = rawLines.join('\n');
    for (const t of tokens) expect(all).not.toContain(t);
    expect(all).not.toContain('ext-0'); // no event content
  });
});
