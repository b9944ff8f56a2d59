/**
 * The credential expiry rule end to end, with the function's clock moved through the grace period (POST /__clock,
 * enabled for local runs only): 47h59m of failure then recovery delivers everything parked; 48h01m drops parked and new
 * events, counts them by type, alerts, and recovers when the credential works again.
 *
 * The failures are ones a deployed write-key connector really sees (Segment answers 200 to a bad write key): its source
 * disabled, as the Public API source check reports it, and its secret removed.
 */
import { pushEnvelope } from '../../../runtime/core/push';
import { sampleEvent, eventsEnvelope } from '../../../common/samples';
import { startFunctionHost } from '../../../local/function-host';
import { HOUR, parkedDocs, startFixture, type Fixture, type LogEntry } from '../../support/function/fixture';

const MINUTE = 60_000;

async function failAndPark(f: Fixture, seeds: number[]) {
  const events = seeds.map((s, i) => sampleEvent(i % 2 ? 'users.canvas.Entry' : 'users.messages.email.Open', {}, s));
  await f.stack.connector('fn-test').publish(eventsEnvelope(events));
  return events;
}

const transitions = (logs: LogEntry[], type: string) =>
  logs.filter((l) => l.event === 'state_change' && l.transition === type);

const SOURCE = 'src_fn_test';

describe('credential failure for just under the grace period, then recovery', () => {
  let f: Fixture;
  beforeAll(async () => {
    f = await startFixture({
      testClock: true,
      connector: { segment: { region: 'eu', credential: { kind: 'writeKey' }, sourceId: SOURCE } },
    });
  });
  afterAll(() => f.stop());

  it('parks everything while failing (47h59m) and delivers all of it when the credential works again', async () => {
    const server = f.stack.servers.eu;
    const local = f.stack.connector('fn-test');
    server.sources.setEnabled(SOURCE, false);
    const first = await failAndPark(f, [1, 2, 3]);
    expect(await f.waitFor(() => f.logs.some((l) => l.event === 'events_parked'))).toBe(true);
    const failing = await f.store.current();
    expect(failing).toMatchObject({
      status: 'failing',
      detail: expect.stringMatching(/src_fn_test \(eu\) is disabled/),
    });
    const [alert] = transitions(f.logs, 'failing_started');
    expect(alert).toMatchObject({ severity: 'ALERT', from: 'active', to: 'failing' });

    await local.setClockOffset(47 * HOUR + 59 * MINUTE);
    const later = await failAndPark(f, [4, 5]);
    expect(await f.waitFor(() => f.logs.filter((l) => l.event === 'events_parked').length === 2)).toBe(true);
    expect(await parkedDocs(f)).toBe(2);
    // A probe while the credential still fails: still failing, nothing dropped, failingSince unchanged.
    const stillFailing = await local.probe();
    expect(stillFailing).toMatchObject({ state: 'failing', credential: 'failing', droppedEvents: 0, parkedEvents: 5 });
    expect(await f.store.current()).toMatchObject({
      status: 'failing',
      failingSince: (failing as { failingSince: number }).failingSince,
    });
    expect(server.accepted()).toEqual([]);
    expect(server.stats().discarded).toEqual({}); // nothing was sent into the void

    server.sources.setEnabled(SOURCE, true);
    const recovered = await local.probe();
    expect(recovered).toMatchObject({ state: 'active', credential: 'ok', parkedEvents: 0, droppedEvents: 0 });
    expect(
      server
        .accepted()
        .map((e) => e.messageId)
        .sort(),
    ).toEqual([...first, ...later].map((e) => e.id).sort());
    expect(await parkedDocs(f)).toBe(0);
    expect(transitions(f.logs, 'recovered')).toEqual([expect.objectContaining({ severity: 'NOTICE', to: 'active' })]);
    expect(transitions(f.logs, 'expired')).toEqual([]);

    // Back in steady state: new events go straight to Segment.
    const after = sampleEvent('users.messages.email.Open', {}, 99);
    await local.publish(eventsEnvelope([after]));
    expect(await f.waitFor(() => server.accepted().some((e) => e.messageId === after.id))).toBe(true);
  });
});

describe('credential failure past the grace period', () => {
  let f: Fixture;
  beforeAll(async () => {
    f = await startFixture({ testClock: true });
  });
  afterAll(() => f.stop());

  it('drops parked and arriving events (counted by type, reported), then recovers to active', async () => {
    const server = f.stack.servers.eu;
    const local = f.stack.connector('fn-test');
    const secret = f.stack.credentials.get('fn-test')!.secretValue;
    local.setSecret(undefined); // the secret's version disabled or destroyed
    await failAndPark(f, [11, 12, 13]); // email.Open, canvas.Entry, email.Open
    expect(await f.waitFor(() => f.logs.some((l) => l.event === 'events_parked'))).toBe(true);

    await local.setClockOffset(48 * HOUR + 1 * MINUTE);
    await failAndPark(f, [14, 15]); // email.Open, canvas.Entry: dropped on arrival
    expect(await f.waitFor(() => f.logs.some((l) => l.event === 'events_dropped'))).toBe(true);
    const arrivalDrop = f.logs.find((l) => l.event === 'events_dropped')!;
    expect(arrivalDrop).toMatchObject({
      severity: 'ALERT',
      dropped: 2,
      counts: { 'users.messages.email.Open': 1, 'users.canvas.Entry': 1 },
    });
    expect(transitions(f.logs, 'expired')).toEqual([expect.objectContaining({ severity: 'ALERT', to: 'expired' })]);

    const probe = await local.probe();
    expect(probe).toMatchObject({
      state: 'expired',
      credential: 'failing',
      droppedEvents: 3,
      droppedByType: { 'users.messages.email.Open': 2, 'users.canvas.Entry': 1 },
      parkedEvents: 0,
    });
    expect(await parkedDocs(f)).toBe(0);
    const status = await f.store.readStatus();
    expect(status.dropped).toEqual({ total: 5, byType: { 'users.messages.email.Open': 3, 'users.canvas.Entry': 2 } });
    expect(server.accepted()).toEqual([]);

    local.setSecret(secret);
    expect(await local.probe()).toMatchObject({ state: 'active', credential: 'ok' });
    expect(transitions(f.logs, 'recovered')).toHaveLength(1);
    const after = sampleEvent('users.canvas.Entry', {}, 16);
    await local.publish(eventsEnvelope([after]));
    expect(await f.waitFor(() => server.accepted().some((e) => e.messageId === after.id))).toBe(true);
    expect(server.accepted()).toHaveLength(1);
  });
});

describe('two function instances hitting the first failure at once', () => {
  let f: Fixture;
  beforeAll(async () => {
    f = await startFixture();
  });
  afterAll(() => f.stop());

  it('agree on one failingSince and report the failure once', async () => {
    const local = f.stack.connector('fn-test');
    const secondLogs: LogEntry[] = [];
    const second = await startFunctionHost({
      env: { ...local.env },
      onLine: (line) => {
        try {
          secondLogs.push(JSON.parse(line) as LogEntry);
        } catch {
          /* framework line */
        }
      },
    });
    try {
      local.setSecret(undefined);
      const push = ({ url, headers }: typeof second, n: number) =>
        fetch(`${url}/`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...headers },
          body: JSON.stringify(
            pushEnvelope(eventsEnvelope([sampleEvent('users.messages.email.Open', {}, 200 + n)]), {}, `race-${n}`),
          ),
        }).then((r) => r.status);
      const statuses = await Promise.all(Array.from({ length: 6 }, (_, n) => push(n % 2 ? second : local.host, n)));
      expect(statuses).toEqual(Array(6).fill(204));
      const all = [...f.logs, ...secondLogs];
      expect(transitions(all, 'failing_started')).toHaveLength(1);
      const state = await f.store.current();
      expect(state.status).toBe('failing');
      const failures = all.filter((l) => l.event === 'credential_failure');
      expect(failures.length).toBeGreaterThanOrEqual(2);
      expect(new Set(failures.map((l) => l.state))).toEqual(new Set(['failing']));
      expect(await parkedDocs(f)).toBe(6);
    } finally {
      await second.stop();
    }
  });
});
