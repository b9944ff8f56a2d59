/**
 * One door per Braze workspace, end to end on the emulators: two connectors of workspace A (their selections apart) and
 * one of workspace B, each workspace's door served by functions-framework. A token of one workspace never opens the
 * other's door; a batch whose events go to both connectors of A is answered 503 while one of their ingest topics is
 * unavailable, and once it is back Braze's re-send delivers every event, each by the connector that selects it
 * (Segment deduplicates the part that was published twice).
 */
import { randomBytes } from 'node:crypto';
import { sendLikeBraze } from '../../../local/braze';
import { emulatorsFromEnv } from '../../../local/emulators';
import { provisionConnector } from '../../../local/provision';
import { sampleFeed } from '../../../common/samples';
import { startLocalStack, type LocalStack } from '../../../local/stack';
import { loadEnvironments } from '../../../shared/connector';
import { ENV_VARS } from '../../../shared/runtime-config';
import { connectorDefinition } from '../../support/function/fixture';

const projectId = `door-${randomBytes(4).toString('hex')}`;
const [environment] = loadEnvironments([
  {
    name: 'test',
    project: projectId,
    region: 'europe-west1',
    connectors: [
      connectorDefinition({ name: 'a-email', workspace: 'ws-a', events: ['email'] }),
      connectorDefinition({ name: 'a-journeys', workspace: 'ws-a', events: ['canvas', 'campaigns'] }),
      connectorDefinition({ name: 'b-push', workspace: 'ws-b', events: ['pushnotification'] }),
    ],
  },
]);
const doorLines: string[] = [];
let stack: LocalStack;

beforeAll(async () => {
  stack = await startLocalStack({
    environment: environment!,
    emulators: emulatorsFromEnv(),
    projectId,
    receivers: true,
    doorEnv: { [ENV_VARS.receiverPublishTimeoutMs]: '1500', [ENV_VARS.receiverRetryAfterSeconds]: '1' },
    provision: { minimumBackoffSeconds: 1, maximumBackoffSeconds: 2, maxDeliveryAttempts: 100 },
    onDoorLog: (_w, line) => doorLines.push(line),
  });
}, 90_000);

afterAll(async () => {
  await stack?.stop();
});

const post = (url: string, token: string, body: string) =>
  fetch(`${url}/`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'braze-currents-version': '1' },
    body,
  });

async function waitFor(check: () => boolean, timeoutMs = 30_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!check() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  return check();
}

it('serves one door per workspace, shared by its connectors; a token of one workspace is 401 at the other', async () => {
  const [a, b] = stack.doors;
  expect(stack.doors.map((d) => [d.workspace, d.door.connectors.map((c) => c.name)])).toEqual([
    ['ws-a', ['a-email', 'a-journeys']],
    ['ws-b', ['b-push']],
  ]);
  expect(stack.connector('a-email').receiver!.url).toBe(a!.url);
  expect(stack.connector('a-journeys').receiver!.url).toBe(a!.url);
  expect(a!.token).not.toBe(b!.token);
  for (const body of ['{"events":[]}', JSON.stringify({ events: sampleFeed({ count: 2, seed: 3 }) })]) {
    const crossed = [await post(b!.url, a!.token, body), await post(a!.url, b!.token, body)];
    expect(crossed.map((r) => r.status)).toEqual([401, 401]);
  }
  expect((await post(a!.url, a!.token, '{"events":[]}')).status).toBe(200);
  expect((await post(b!.url, b!.token, '{"events":[]}')).status).toBe(200);
});

it("answers 503 to a whole batch while one connector's topic is unavailable; after Braze's re-send nothing is lost", async () => {
  const door = stack.doors[0]!;
  const journeys = stack.connector('a-journeys');
  const email = stack.connector('a-email');
  const types = [
    'users.messages.email.Open',
    'users.canvas.Entry',
    'users.campaigns.Conversion',
    'users.messages.sms.Send',
  ];
  const events = sampleFeed({ count: 400, seed: 21, types }) as unknown as { id: string; event_type: string }[];
  const meant = (name: string) =>
    new Set(events.filter((e) => door.door.routes.get(e.event_type) === name).map((e) => e.id));
  // The journeys connector's ingest topic goes away (its push subscription with it).
  await stack.pubsub.topic(journeys.names.ingestTopic).delete();
  await stack.pubsub
    .subscription(journeys.names.pushSubscription)
    .delete()
    .catch(() => undefined);
  const statuses: (number | string)[] = [];
  let restoring: Promise<unknown> | undefined;
  const report = await sendLikeBraze(events, {
    url: door.url,
    token: door.token,
    concurrency: 2,
    backoff: { initialMs: 200, maxMs: 1000 },
    giveUpAfterMs: 60_000,
    onRequest: (r) => {
      statuses.push(r.status);
      if (statuses.filter((s) => s === 503).length === 4 && !restoring) {
        restoring = provisionConnector(stack.pubsub, journeys.connector, {
          pushEndpoint: journeys.host.pushEndpoint,
          minimumBackoffSeconds: 1,
          maximumBackoffSeconds: 2,
          maxDeliveryAttempts: 100,
        });
      }
    },
  });
  await restoring;
  expect(statuses.slice(0, 4)).toEqual([503, 503, 503, 503]);
  expect(statuses.filter((s) => s !== 200 && s !== 503)).toEqual([]);
  expect(report.accepted).toBe(events.length);
  expect(report.notDelivered).toEqual([]);

  const server = stack.servers.eu;
  const forEmail = meant('a-email');
  const forJourneys = meant('a-journeys');
  expect(forEmail.size + forJourneys.size).toBe(300); // the sms events: no connector of ws-a selects them
  const done = () => server.accepted().filter((e) => forEmail.has(e.messageId) || forJourneys.has(e.messageId));
  expect(await waitFor(() => done().length === 300, 60_000)).toBe(true);
  // Each event by the connector that selects it; the email part published before each 503 only deduplicated.
  for (const e of done()) {
    expect(e.source).toBe(stack.segmentSource(forEmail.has(e.messageId) ? email.connector.name : 'a-journeys'));
  }
  expect(done().some((e) => forEmail.has(e.messageId) && e.receipts > 1)).toBe(true);
  expect(done().filter((e) => forJourneys.has(e.messageId) && e.receipts > 1)).toEqual([]);
  const lines = doorLines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.status === 503);
  expect(lines.length).toBeGreaterThanOrEqual(4);
  expect(lines[0]).toMatchObject({ outcome: 'publish_failed', routed: { 'a-email': 25, 'a-journeys': 50 } });
});
