/**
 * `currents dead-letters list|show|replay` against the emulators with the connector's function served locally. The
 * hold subscription gets both kinds of dead letter: single events the function wrote (an invalid one, two Segment
 * rejected) and a whole message as Pub/Sub moves it after its maximum delivery attempts (published here with the
 * attributes Pub/Sub adds). The steps share one stack and run in order.
 */
import { PubSub } from '@google-cloud/pubsub';
import { createClients, peekAll, type DeadLetterView } from '../../../cli/ops/dead-letter-queue';
import { eventsEnvelope } from '../../../common/samples';
import { connectorDef, event, startOpsFixture, waitFor, type OpsFixture } from '../../support/ops/helpers';

const DL = 'dl';
let f: OpsFixture;
let clients: Awaited<ReturnType<typeof createClients>>;
let pubsub: PubSub;
let hold: string;
let exhaustedId: string;

const eu = () => f.stack.servers.eu;
const waiting = (): Promise<DeadLetterView[]> => peekAll(clients.subscriber, hold, { leaseSeconds: 5 });
const reasons = (letters: DeadLetterView[]) => letters.map((l) => `${l.reason}:${l.eventId ?? l.messageId}`).sort();

beforeAll(async () => {
  f = await startOpsFixture('dl', [connectorDef(DL, { segment: { region: 'eu', credential: { kind: 'writeKey' } } })]);
  clients = await createClients(f.projectId);
  pubsub = new PubSub({ projectId: f.projectId });
  const names = f.stack.connector(DL).names;
  hold = `projects/${f.projectId}/subscriptions/${names.deadLetterSubscription}`;
  // Segment refuses two events (400): the function dead-letters them as `rejected`.
  eu().faults.rejectMessageIds(['dl-rej-open', 'dl-rej-click']);
  await f.stack
    .connector(DL)
    .publish(
      eventsEnvelope([
        event('users.messages.email.Open', 'dl-rej-open'),
        event('users.messages.email.Click', 'dl-rej-click'),
      ]),
    );
  await f.stack.connector(DL).publish('{"event_type":"users.messages.email.Open","id":"dl-bad"}');
  // What Pub/Sub puts on the dead-letter topic after the push subscription's maximum delivery attempts.
  exhaustedId = await pubsub.topic(names.deadLetterTopic).publishMessage({
    data: Buffer.from(eventsEnvelope([event('users.messages.email.Open', 'dl-exh')])),
    attributes: {
      CloudPubSubDeadLetterSourceDeliveryCount: '10',
      CloudPubSubDeadLetterSourceSubscription: names.pushSubscription,
      CloudPubSubDeadLetterSourceSubscriptionProject: f.projectId,
      CloudPubSubDeadLetterSourceTopicPublishTime: new Date().toISOString(),
    },
  });
  await waitFor('four dead letters', async () => (await waiting()).length === 4);
});
afterAll(async () => {
  await Promise.allSettled([clients?.subscriber.close(), clients?.publisher.close(), pubsub?.close()]);
  await f?.stop();
});

describe('currents dead-letters list / show', () => {
  it('lists every dead letter with its reason, type, id and detail, and leaves them in place', async () => {
    const r = await f.run(['dead-letters', 'list'], ['--connector', DL]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^dead letter\s+published\s+reason\s+event type\s+event id\s+detail$/m);
    expect(r.stdout).toMatch(
      /^\d+\s+\d{4}-\S+\s+rejected\s+users\.messages\.email\.Open\s+dl-rej-open\s+Segment answered 400/m,
    );
    expect(r.stdout).toMatch(
      /^\d+\s+\S+\s+rejected\s+users\.messages\.email\.Click\s+dl-rej-click\s+Segment answered 400/m,
    );
    expect(r.stdout).toMatch(/^\d+\s+\S+\s+invalid\s+users\.messages\.email\.Open\s+dl-bad\s+\S/m);
    expect(r.stdout).toMatch(
      new RegExp(
        `^${exhaustedId}\\s+\\S+\\s+delivery_attempts_exhausted\\s+not accepted after 10 delivery attempts$`,
        'm',
      ),
    );
    expect(r.stdout).toMatch(
      /^dl: 4 dead letter\(s\) \(delivery_attempts_exhausted 1, invalid 1, rejected 2\) in currents-dl-dead-letter-hold/m,
    );
    expect(await waiting()).toHaveLength(4);
  });

  it('filters by reason (JSON for scripts)', async () => {
    const r = await f.run(['dead-letters', 'list'], ['--connector', DL, '--reason', 'rejected', '--json']);
    expect(r.status).toBe(0);
    const list = JSON.parse(r.stdout) as { eventId: string; reason: string; data: string }[];
    expect(list.map((l) => l.eventId).sort()).toEqual(['dl-rej-click', 'dl-rej-open']);
    expect(JSON.parse(list[0]!.data)).toMatchObject({ id: list[0]!.eventId });
  });

  it('shows one dead letter by event id: attributes and the data pretty-printed', async () => {
    const r = await f.run(['dead-letters', 'show', 'dl-bad'], ['--connector', DL]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^dead letter \d+ of connector dl \(currents-dl-dead-letter-hold\)$/m);
    expect(r.stdout).toMatch(/^ {2}reason\s+invalid$/m);
    expect(r.stdout).toMatch(/^attributes:\n(?: {2}\S+\s+.*\n)* {2}event_id\s+dl-bad$/m);
    expect(r.stdout).toMatch(/^ {2}connector\s+dl$/m);
    expect(r.stdout).toMatch(
      /^data \(JSON, \d+ bytes\):\n\{\n {2}"event_type": "users\.messages\.email\.Open",\n {2}"id": "dl-bad"\n\}$/m,
    );
  });

  it('shows a whole-message dead letter by its message id; an unknown id exits 1 naming the connector', async () => {
    const r = await f.run(['dead-letters', 'show', exhaustedId], ['--connector', DL]);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^ {2}reason\s+delivery_attempts_exhausted$/m);
    expect(r.stdout).toMatch(/^ {2}CloudPubSubDeadLetterSourceDeliveryCount\s+10$/m);
    expect(r.stdout).toMatch(/^ {2}event\s+a whole Pub\/Sub message \(see data\)$/m);
    expect(r.stdout).toMatch(
      /^data \(JSON, \d+ bytes\):\n\{\n {2}"events": \[\n {4}\{\n {6}"event_type": "users\.messages\.email\.Open",\n {6}"id": "dl-exh",$/m,
    );
    const missing = await f.run(['dead-letters', 'show', 'no-such-id'], ['--connector', DL]);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(
      /no dead letter with event id or message id 'no-such-id' waiting for connector 'dl'/,
    );
  });
});

describe('currents dead-letters replay', () => {
  it('--dry-run shows what would be replayed and changes nothing', async () => {
    const before = eu().stats();
    const r = await f.run(['dead-letters', 'replay'], ['--connector', DL, '--dry-run']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(
      /dl: dry run: 4 dead letter\(s\) .* would be replayed to currents-dl-ingest; nothing changed/,
    );
    expect(await waiting()).toHaveLength(4);
    expect(eu().stats().requests).toBe(before.requests);
  });

  it('replays by type, then by reason, acknowledging what was republished; Segment gets each event once', async () => {
    eu().reset(); // Segment accepts the two events now
    const byType = await f.run(['dead-letters', 'replay'], ['--connector', DL, '--type', 'users.messages.email.Click']);
    expect(byType.stderr).toMatch(/dl: replaying: 1\/1/); // plain progress lines off a terminal
    expect(byType.status).toBe(0);
    expect(byType.stdout).toMatch(/^dl: replayed 1 of 1 dead letter\(s\) to currents-dl-ingest$/m);
    await waitFor('the click in Segment', () =>
      eu()
        .accepted()
        .some((e) => e.messageId === 'dl-rej-click'),
    );
    expect(reasons(await waiting())).toEqual([
      `delivery_attempts_exhausted:${exhaustedId}`,
      'invalid:dl-bad',
      'rejected:dl-rej-open',
    ]);

    const byReason = await f.run(['dead-letters', 'replay'], ['--connector', DL, '--reason', 'rejected']);
    expect(byReason.status).toBe(0);
    expect(byReason.stdout).toMatch(/^dl: replayed 1 of 1 dead letter\(s\)/m);
    await waitFor('the open in Segment', () =>
      eu()
        .accepted()
        .some((e) => e.messageId === 'dl-rej-open'),
    );

    const again = await f.run(['dead-letters', 'replay'], ['--connector', DL, '--reason', 'rejected']);
    expect(again.status).toBe(0);
    expect(again.stdout).toMatch(/^dl: nothing to replay \(none of the 2 dead letter\(s\) match\)$/m);
    // The events kept their ids: the messageIds Segment saw are the Currents event ids.
    expect(
      eu()
        .accepted()
        .map((e) => e.messageId)
        .sort(),
    ).toEqual(['dl-rej-click', 'dl-rej-open']);
    expect(eu().stats().duplicates).toBe(0);
  });

  it('replays a whole message by --id; replaying an event Segment already has adds no duplicate', async () => {
    const r = await f.run(['dead-letters', 'replay'], ['--connector', DL, '--id', exhaustedId]);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^dl: replayed 1 of 1/m);
    await waitFor('the exhausted message in Segment', () =>
      eu()
        .accepted()
        .some((e) => e.messageId === 'dl-exh'),
    );
    expect(reasons(await waiting())).toEqual(['invalid:dl-bad']);

    // The same message dead-lettered once more (a redelivery that also ran out) and replayed: Segment deduplicates.
    const names = f.stack.connector(DL).names;
    await pubsub.topic(names.deadLetterTopic).publishMessage({
      data: Buffer.from(eventsEnvelope([event('users.messages.email.Open', 'dl-exh')])),
      attributes: { CloudPubSubDeadLetterSourceDeliveryCount: '10' },
    });
    await waitFor('the second copy', async () => (await waiting()).length === 2);
    const twice = await f.run(
      ['dead-letters', 'replay'],
      ['--connector', DL, '--reason', 'delivery_attempts_exhausted'],
    );
    expect(twice.status).toBe(0);
    await waitFor(
      'the copy received',
      () =>
        eu()
          .accepted()
          .find((e) => e.messageId === 'dl-exh')?.receipts === 2,
    );
    expect(eu().stats().acceptedUnique).toBe(3);
  });

  it('replaying an invalid event warns that it comes back, and it does', async () => {
    const r = await f.run(['dead-letters', 'replay'], ['--connector', DL]);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/note: 1 of them were dead-lettered as invalid or too large/);
    expect(r.stdout).toMatch(/^dl: replayed 1 of 1/m);
    await waitFor('the invalid event dead-lettered again', async () => {
      const w = await waiting();
      return w.length === 1 && w[0]!.eventId === 'dl-bad';
    });
  });
});
