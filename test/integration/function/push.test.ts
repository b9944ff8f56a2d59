/**
 * The function end to end on the real emulators: a real push subscription on the Pub/Sub emulator delivers to the
 * function served by functions-framework on loopback, which delivers to the local Segment server.
 */
import { createHmac } from 'node:crypto';
import { LOCAL_HASH_KEY } from '../../../local/connector-runner';
import { nestEvent, sampleEvent, eventsEnvelope } from '../../../common/samples';
import { startFixture, type Fixture } from '../../support/function/fixture';

const ids = (events: { id: string }[]) => events.map((e) => e.id).sort();

describe('a message with events of every outcome', () => {
  let f: Fixture;
  beforeAll(async () => {
    f = await startFixture();
  });
  afterAll(() => f.stop());

  it('lands each event in its outcome; the Segment server has exactly the delivered ones', async () => {
    const good = [
      sampleEvent('users.messages.email.Open', {}, 1),
      sampleEvent('users.canvas.Entry', {}, 2),
      sampleEvent('users.messages.pushnotification.Send', {}, 3),
    ];
    const rejected = sampleEvent('users.messages.email.Delivery', {}, 4);
    const notSelected = sampleEvent('users.messages.sms.Send', {}, 5);
    const notExportable = { event_type: 'users.behaviors.CustomEvent', id: 'custom-1', time: 1_760_000_000 };
    const anonymous = sampleEvent('users.messages.email.Send', { external_user_id: undefined }, 6);
    const invalid = sampleEvent('users.messages.email.Click', { time: undefined }, 7);
    const tooLarge = sampleEvent('users.messages.email.Open', { campaign_name: 'x'.repeat(40_000) }, 8);
    f.stack.servers.eu.faults.rejectMessageIds([rejected.id]);

    await f.stack
      .connector('fn-test')
      .publish(
        eventsEnvelope([
          nestEvent(good[0]!),
          good[1],
          nestEvent(good[2]!),
          rejected,
          notSelected,
          notExportable,
          anonymous,
          invalid,
          tooLarge,
        ]),
      );
    const done = await f.waitFor(() => f.logs.some((l) => l.event === 'batch_done'));
    expect(done).toBe(true);

    const accepted = f.stack.servers.eu.accepted();
    expect(accepted.map((e) => e.messageId).sort()).toEqual(ids(good));
    expect(f.stack.servers.us.stats().requests).toBe(0); // an EU connector never talks to the US server
    const open = accepted.find((e) => e.messageId === good[0]!.id)!.call!;
    expect(open).toMatchObject({
      type: 'track',
      event: 'Email Opened',
      userId: good[0]!.external_user_id,
      anonymousId: good[0]!.user_id,
    });

    const batch = f.logs.find((l) => l.event === 'batch_done')!;
    expect(batch.counts).toEqual({
      received: 9,
      delivered: 3,
      skipped: 3,
      deadLettered: 3,
      parked: 0,
      dropped: 0,
      retryLater: 0,
    });
    expect(batch.skipped).toEqual({ not_selected: 1, not_exportable: 1, no_external_user_id: 1 });
    // For the dashboard: the time spent in Segment and its worst answer (the rejected event's 400, beside 200s).
    expect(batch.segmentStatus).toBe('400');
    expect(batch.segmentMs).toEqual(expect.any(Number));

    const letters = await f.takeDeadLetters();
    const byReason = Object.fromEntries(letters.map((l) => [l.reason, l]));
    expect(Object.keys(byReason).sort()).toEqual(['invalid', 'rejected', 'too_large']);
    expect(byReason.invalid).toMatchObject({ eventId: invalid.id, eventType: 'users.messages.email.Click' });
    expect(byReason.invalid!.detail).toMatch(/time/);
    expect(byReason.invalid!.attributes.connector).toBe('fn-test');
    expect(JSON.parse(byReason.invalid!.data.toString())).toEqual(invalid);
    expect(byReason.too_large).toMatchObject({ eventId: tooLarge.id });
    expect(byReason.rejected).toMatchObject({ eventId: rejected.id, eventType: 'users.messages.email.Delivery' });
    expect(byReason.rejected!.detail).toMatch(/^Segment answered 400/);
    expect(JSON.parse(byReason.rejected!.data.toString())).toEqual(rejected);
  });

  it('dead-letters an undecodable message whole and answers the push', async () => {
    await f.stack.connector('fn-test').publish('{"events": [ not json');
    const letters: Awaited<ReturnType<Fixture['takeDeadLetters']>> = [];
    await f.waitFor(async () => {
      letters.push(...(await f.takeDeadLetters()));
      return letters.length > 0;
    });
    expect(letters).toHaveLength(1);
    expect(letters[0]).toMatchObject({ reason: 'invalid' });
    expect(letters[0]!.data.toString()).toBe('{"events": [ not json');
  });

  it('answers 400 naming the problem for a request that is not a Pub/Sub push, and serves /healthz', async () => {
    const { url, headers } = f.stack.connector('fn-test').host;
    const res = await fetch(`${url}/`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: '{"hello":1}',
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: 'push envelope has no `message` object' });
    const health = await fetch(`${url}/healthz`);
    expect(await health.json()).toEqual({ ok: true, connector: 'fn-test' });
  });
});

describe('Segment failing with 5xx for a while', () => {
  let f: Fixture;
  beforeAll(async () => {
    f = await startFixture({ deliveryBudgetMs: 300 });
  });
  afterAll(() => f.stop());

  it('answers 503 so that Pub/Sub redelivers, and everything arrives once by messageId', async () => {
    const server = f.stack.servers.eu;
    const fault = server.faults.add({ status: [500, 502, 503] });
    const events = Array.from({ length: 20 }, (_, i) => sampleEvent('users.messages.email.Open', {}, 100 + i));
    await f.stack.connector('fn-test').publish(eventsEnvelope(events));
    // Wait until Pub/Sub has redelivered at least twice (two answers that ask for it), then let Segment recover.
    expect(await f.waitFor(() => f.logs.filter((l) => l.event === 'delivery_retry').length >= 2)).toBe(true);
    expect(server.accepted()).toEqual([]);
    server.faults.remove(fault);
    expect(await f.waitFor(() => server.accepted().length === events.length)).toBe(true);
    expect(
      server
        .accepted()
        .map((e) => e.messageId)
        .sort(),
    ).toEqual(ids(events));
    expect(server.stats().duplicates).toBe(0);
    const failed = Object.entries(server.stats().requestsByStatus)
      .filter(([status]) => status.startsWith('5'))
      .reduce((n, [, c]) => n + c, 0);
    expect(failed).toBeGreaterThanOrEqual(2);
  });
});

describe('a connector that opts in to a behaviour type, exports unknown types and hashes with its key', () => {
  let f: Fixture;
  beforeAll(async () => {
    f = await startFixture({
      connector: {
        events: ['rcs', 'users.behaviors.CustomEvent'],
        exportUnknownTypes: true,
        fields: { hash: ['to_phone_number'], hashAlgorithm: 'hmac-sha256' },
      },
    });
  });
  afterAll(() => f.stop());

  it('exports each, logs the unknown type by type, and skips a refused type with its reason', async () => {
    const rcs = sampleEvent('users.messages.rcs.Send', { to_phone_number: '+44 7700 900123' }, 1);
    const custom = sampleEvent('users.behaviors.CustomEvent', { name: 'Plan Upgraded', properties: '{"to":"pro"}' }, 2);
    const open = sampleEvent('users.messages.email.Open', {}, 3);
    const telegram = { ...open, event_type: 'users.messages.telegram.Send' };
    const orphan = { event_type: 'users.UserOrphan', id: 'orphan-1', time: 1_760_000_000, external_user_id: 'u' };
    await f.stack.connector('fn-test').publish(eventsEnvelope([nestEvent(rcs), custom, telegram, orphan]));
    expect(await f.waitFor(() => f.logs.some((l) => l.event === 'batch_done'))).toBe(true);

    const accepted = f.stack.servers.eu.accepted();
    const call = (id: string) => accepted.find((e) => e.messageId === id)?.call;
    const phone = createHmac('sha256', LOCAL_HASH_KEY).update('+447700900123').digest('hex');
    expect(call(rcs.id)).toMatchObject({ event: 'RCS Message Sent', context: { traits: { phone } } });
    expect(call(rcs.id)).toMatchObject({ properties: { to_phone_number: phone } });
    expect(call(custom.id)).toMatchObject({ event: 'Plan Upgraded', properties: { properties: { to: 'pro' } } });
    expect(call(telegram.id)).toMatchObject({ event: 'Telegram Send', userId: open.external_user_id });
    expect(call('orphan-1')).toBeUndefined();

    const batch = f.logs.find((l) => l.event === 'batch_done')!;
    expect(batch.skipped).toEqual({ not_exportable: 1 });
    expect(batch.unknownTypes).toEqual({ 'users.messages.telegram.Send': 1 });
    expect(f.logs.filter((l) => l.event === 'unknown_event_type')).toEqual([
      expect.objectContaining({
        severity: 'WARNING',
        eventType: 'users.messages.telegram.Send',
        events: 1,
        exported: true,
      }),
    ]);
    // The key never reaches a log line.
    expect(JSON.stringify(f.logs)).not.toContain(LOCAL_HASH_KEY);
  });
});
