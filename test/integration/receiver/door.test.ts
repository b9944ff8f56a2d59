/**
 * Through the door, end to end: the local Braze posts to the receiver (functions-framework, its own process), which
 * publishes to the Pub/Sub emulator through a TCP proxy; the push subscription delivers to the function, which sends to
 * the local Segment server. Mid-run the proxy is cut (the emulator unreachable for the receiver): the receiver answers
 * 503 with Retry-After, the local Braze backs off and re-sends, and once the proxy is restored every event reaches
 * Segment exactly once by messageId; nothing answered 2xx is missing.
 */
import { sendLikeBraze } from '../../../local/braze';
import { newReceiverToken } from '../../../shared/receiver-auth';
import { startFunctionHost, type FunctionHost } from '../../../local/function-host';
import { startTcpProxy, type TcpProxy } from '../../../local/tcp-proxy';
import { sampleFeed } from '../../../common/samples';
import { workspaceDoor } from '../../../shared/door';
import { doorEnvironment } from '../../../shared/door-config';
import { ENV_VARS } from '../../../shared/runtime-config';
import { CONNECTOR, startFixture, type Fixture } from '../../support/function/fixture';

let f: Fixture;
let proxy: TcpProxy;
let receiver: FunctionHost;
const token = newReceiverToken();
const receiverLines: string[] = [];

beforeAll(async () => {
  f = await startFixture({ connector: { events: ['behaviors', 'campaigns', 'canvas', 'messages'] } });
  proxy = await startTcpProxy(process.env.PUBSUB_EMULATOR_HOST!);
  const connector = f.stack.connector(CONNECTOR).connector;
  receiver = await startFunctionHost({
    serve: 'receiver',
    env: {
      PUBSUB_EMULATOR_HOST: proxy.host,
      ...doorEnvironment({ name: 'test', project: f.projectId }, workspaceDoor(connector.workspace, [connector])),
      [ENV_VARS.receiverTokenSource]: 'env',
      [ENV_VARS.receiverTokens]: token,
      [ENV_VARS.receiverPublishTimeoutMs]: '1500',
      [ENV_VARS.receiverRetryAfterSeconds]: '1',
    },
    onLine: (line) => receiverLines.push(line),
  });
}, 60_000);

afterAll(async () => {
  await receiver?.stop();
  await proxy?.close();
  await f?.stop();
});

it('answers 503 while Pub/Sub is unreachable; Braze re-sends; every event reaches Segment exactly once', async () => {
  // Every type, users with an external id, all selected: every event is to be delivered.
  const events = sampleFeed({ count: 3000, seed: 11 });
  const statuses: (number | string)[] = [];
  let cutDone = false;
  const run = sendLikeBraze(events, {
    url: receiver.url,
    token,
    concurrency: 4,
    rate: 1500,
    backoff: { initialMs: 200, maxMs: 2000 },
    giveUpAfterMs: 90_000,
    onRequest: (r) => {
      statuses.push(r.status);
      // After the first answers, cut the receiver off Pub/Sub for 3 s.
      if (!cutDone && statuses.length === 5) {
        cutDone = true;
        void proxy.cut().then(() => setTimeout(() => void proxy.restore(), 3000));
      }
    },
  });
  const report = await run;
  expect(report.accepted).toBe(events.length);
  expect(report.notDelivered).toEqual([]);
  expect(statuses).toContain(503);
  expect(statuses.filter((s) => s !== 200 && s !== 503)).toEqual([]);
  expect(report.resentRequests).toBeGreaterThan(0);

  const server = f.stack.servers.eu;
  const ids = new Set(events.map((e) => (e as { id: string }).id));
  expect(await f.waitFor(() => server.stats().acceptedUnique >= ids.size, 60_000)).toBe(true);
  const accepted = server.accepted();
  expect(new Set(accepted.map((a) => a.messageId))).toEqual(ids);
  // Nothing was answered 2xx and then lost; repeats (a publish that timed out but completed) are deduplicated.
  expect(receiverLines.join('\n')).not.toContain(token);
});

it('accepts bad bodies and bad events (never a 400); the function dead-letters each, the door counts unknown types', async () => {
  const post = (body: string, type = 'application/json') =>
    fetch(`${receiver.url}/`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': type, 'braze-currents-version': '1' },
      body,
    });
  const good = sampleFeed({ count: 2, seed: 12 }) as unknown as { id: string }[];
  const bodies: [string, string?][] = [
    ['{"events":[{"id":"broken-json",'],
    ['"just a string"'],
    ['<xml>not json</xml>', 'text/xml'],
    [
      JSON.stringify({
        events: [
          { event_type: 'users.future.NewThing', id: 'future-1', time: 1_764_000_000, user: { external_user_id: 'u' } },
        ],
      }),
    ],
    [JSON.stringify({ events: [{ ...good[0]!, time: 'yesterday' }, good[1]] })],
  ];
  for (const [body, type] of bodies) expect((await post(body, type)).status).toBe(200);

  expect(await f.waitFor(() => f.stack.servers.eu.accepted().some((a) => a.messageId === good[1]!.id), 30_000)).toBe(
    true,
  );
  const letters: Awaited<ReturnType<Fixture['takeDeadLetters']>> = [];
  await f.waitFor(async () => {
    letters.push(...(await f.takeDeadLetters()));
    return letters.length >= 4;
  }, 30_000);
  expect(letters.map((l) => l.reason).sort()).toEqual(['invalid', 'invalid', 'invalid', 'invalid']);
  expect(letters.map((l) => l.data.toString())).toEqual(
    expect.arrayContaining(['{"events":[{"id":"broken-json",', '<xml>not json</xml>']),
  );
  expect(letters.find((l) => l.eventId === good[0]!.id)?.detail).toMatch(/time/);
  // The unknown type is counted at the door (no connector of the workspace selects it), not lost silently.
  const counted = receiverLines.some((l) => l.includes('"notSelected":{"users.future.NewThing":1}'));
  expect(counted).toBe(true);
  expect(f.stack.servers.eu.accepted().map((a) => a.messageId)).not.toContain(good[0]!.id);
});
