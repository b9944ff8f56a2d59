/**
 * `currents status` and `currents probe` against the emulators, with the connector's function served locally: one
 * connector taken through active → failing (parked events, a dead letter) → recovered by a probe (parked events
 * drained) → failing → expired (function clock moved past the grace period) → recovered. The steps share one stack and
 * run in order.
 */
import { capacity, functionShape } from '../../../shared/capacity';
import { run as statusCommand } from '../../../cli/commands/status';
import type { FetchLike, TokenSecretClient } from '../../../cli/ops/receiver';
import { eventsEnvelope } from '../../../common/samples';
import { connectorDef, event, startOpsFixture, waitFor, type OpsFixture } from '../../support/ops/helpers';

const ST = 'st';
const OTHER = 'quiet';
const SOURCE = 'src_st';
let f: OpsFixture;

beforeAll(async () => {
  f = await startOpsFixture(
    'status',
    [
      connectorDef(ST, { segment: { region: 'us', credential: { kind: 'writeKey' }, sourceId: SOURCE } }),
      connectorDef(OTHER, { segment: { region: 'eu', credential: { kind: 'writeKey' } } }),
    ],
    {
      testClock: true,
    },
  );
});
afterAll(async () => {
  await f?.stop();
});

/** The source disabled in Segment (its batches are answered 200 and discarded), seen by the scheduled probe's check. */
const disableSource = async () => {
  f.stack.servers.us.sources.setEnabled(SOURCE, false);
  expect(await f.stack.connector(ST).probe()).toMatchObject({ state: 'failing', credential: 'failing' });
};
const us = () => f.stack.servers.us;
const status = async (args: string[] = ['--connector', ST]) => {
  const r = await f.run(['status'], [...args, '--json']);
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return JSON.parse(r.stdout) as Record<string, any>[]; // eslint-disable-line @typescript-eslint/no-explicit-any
};
const parkedEvents = async () => (await f.store(ST).readStatus()).parkedEvents;

describe('currents status', () => {
  it('shows an active connector with nothing waiting, then its last delivery', async () => {
    const [before] = await status();
    expect(before).toMatchObject({
      connector: ST,
      environment: f.environment.name,
      project: f.projectId,
      state: 'active',
      parked: { events: 0, documents: 0 },
      deadLetters: { total: 0, byReason: {} },
      dropped: { total: 0 },
    });
    expect(before!.lastDeliveryAt).toBeUndefined();
    expect(before!.graceRemainingMs).toBeUndefined();
    // The URL of its workspace's door when deployed; its tokens and answers live in Secret Manager and Cloud
    // Monitoring only.
    expect(before!.receiver).toEqual({
      url: `https://europe-west1-${f.projectId}.cloudfunctions.net/currents-door-ws-${ST}`,
      workspace: `ws-${ST}`,
      connectors: [ST],
      boxes: [expect.stringMatching(new RegExp(`^for ${ST} \\(\\d+\\): `))],
      warning: expect.stringMatching(/^leave the other \d+ exportable event type\(s\) unticked/),
      local: true,
      tokenVersions: { unavailable: 'not available locally (Secret Manager has no emulator)' },
      answers: { unavailable: 'not available locally (Cloud Monitoring has no emulator)' },
    });
    expect(before!.credentialSecret).toEqual({ unavailable: 'not available locally (Secret Manager has no emulator)' });
    // The ceiling its settings imply (the model's arithmetic is tested in test/unit/shared/capacity.test.ts).
    const c = f.environment.connectors.find((x) => x.name === ST)!;
    expect(before!.capacity).toEqual({
      eventsPerSec: capacity(c, functionShape(c)).eventsPerSec,
      instances: c.maxInstances,
      concurrency: c.concurrency,
    });

    await f.stack.connector(ST).publish(eventsEnvelope([event('users.messages.email.Open', 'st-ok-1')]));
    await waitFor('the event in Segment', () =>
      us()
        .accepted()
        .some((e) => e.messageId === 'st-ok-1'),
    );
    await waitFor('lastDeliveryAt', async () => (await f.store(ST).readStatus()).lastDeliveryAt !== undefined);
    const [after] = await status();
    expect(Date.parse(after!.lastDeliveryAt)).toBeGreaterThan(Date.now() - 60_000);

    const human = await f.run(['status'], ['--connector', ST]);
    expect(human.status).toBe(0);
    expect(human.stdout).toMatch(
      new RegExp(`^${ST}  \\(environment ${f.environment.name}, project ${f.projectId}`, 'm'),
    );
    expect(human.stdout).toMatch(/^ {2}state\s+active$/m);
    expect(human.stdout).toMatch(/^ {2}grace period\s+48h$/m);
    expect(human.stdout).toMatch(/^ {2}last delivery\s+\d{4}-\d\d-\d\dT.*\(\d+s ago\)$/m);
    expect(human.stdout).toMatch(
      /^ {2}receiver\s+https:\/\/europe-west1-ops-status-\w+\.cloudfunctions\.net\/currents-door-ws-st \(when deployed/m,
    );
    expect(human.stdout).toMatch(/^ {2}tokens\s+not available locally \(Secret Manager has no emulator\)$/m);
    expect(human.stdout).toMatch(/^ {2}answers \(15m\)\s+not available locally \(Cloud Monitoring has no emulator\)$/m);
  });

  it('shows events of types the catalogue does not know, by type, the day they arrive', async () => {
    const telegram = { ...event('users.messages.email.Open', 'st-tg-1'), event_type: 'users.messages.telegram.Send' };
    await f.stack
      .connector(ST)
      .publish(
        eventsEnvelope([telegram, { ...telegram, id: 'st-tg-2' }, event('users.messages.email.Open', 'st-ok-2')]),
      );
    await waitFor('the unknown type in the state', async () =>
      Boolean((await f.store(ST).readStatus()).unknownTypes['users.messages.telegram.Send']),
    );
    const [s] = await status();
    expect(s!.unknownTypes).toEqual({
      exported: false,
      byType: {
        'users.messages.telegram.Send': { events: 2, firstSeenAt: expect.any(String), lastSeenAt: expect.any(String) },
      },
    });
    const human = await f.run(['status'], ['--connector', ST]);
    expect(human.stdout).toMatch(
      /^ {2}unknown types\s+users\.messages\.telegram\.Send 2\+ \(first \d{4}-.*\); skipped: see exportUnknownTypes/m,
    );
  });

  it('shows the receiver’s enabled token versions and answers by status from Secret Manager and Cloud Monitoring', async () => {
    const secret = `projects/${f.projectId}/secrets/currents-door-ws-${ST}-token`;
    const credential = `projects/${f.projectId}/secrets/currents-${ST}-segment-credential`;
    const secrets: TokenSecretClient = {
      addSecretVersion: async () => {
        throw new Error('status must not add versions');
      },
      disableSecretVersion: async () => {
        throw new Error('status must not disable versions');
      },
      listSecretVersions: async (req) => {
        // The connector's credential secret, made by the deploy, has no version yet; the door's has two enabled.
        if (req.parent === credential) return [[]];
        expect(req.parent).toBe(secret);
        return [[1, 2, 3].map((n) => ({ name: `${secret}/versions/${n}`, state: n === 1 ? 'DISABLED' : 'ENABLED' }))];
      },
    };
    const urls: string[] = [];
    const fetch: FetchLike = async (url) => {
      urls.push(url);
      const series = (status: string, n: number) => ({
        metric: { labels: { status } },
        points: [{ value: { int64Value: String(n) } }],
      });
      const body = { timeSeries: [series('202', 57), series('401', 1)] };
      return { ok: true, status: 200, json: async () => body, text: async () => JSON.stringify(body) };
    };
    const lines: string[] = [];
    const log = jest.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void lines.push(a.join(' ')));
    let code: number;
    try {
      const args = ['--env', f.environment.name, '--connector', ST, f.definitions];
      code = await statusCommand([...args, '--json'], { secrets, monitoring: { fetch, accessToken: async () => 't' } });
      code += await statusCommand(args, { secrets, monitoring: { fetch, accessToken: async () => 't' } });
    } finally {
      log.mockRestore();
    }
    expect(code).toBe(0);
    const [json] = JSON.parse(lines[0]!) as Record<string, any>[]; // eslint-disable-line @typescript-eslint/no-explicit-any
    expect(json!.receiver).toMatchObject({
      url: `https://europe-west1-${f.projectId}.cloudfunctions.net/currents-door-ws-${ST}`,
      workspace: `ws-${ST}`,
      tokenVersions: { enabled: 2 },
      answers: { minutes: 15, total: 58, byStatus: { '202': 57, '401': 1 } },
    });
    expect(json!.credentialSecret).toEqual({ secret: `currents-${ST}-segment-credential`, enabled: 0 });
    expect(lines[1]).toMatch(
      new RegExp(
        `^ {2}credential\\s+currents-${ST}-segment-credential has no enabled version: every event is parked`,
        'm',
      ),
    );
    expect(urls[0]).toContain(encodeURIComponent(`logging.googleapis.com/user/currents-door-ws-${ST}-requests`));
    expect(lines[1]).toMatch(/^ {2}tokens\s+2 versions enabled/m);
    expect(lines[1]).toMatch(/^ {2}answers \(15m\)\s+58 request\(s\): 202 ×57, 401 ×1$/m);
  });

  it('shows a failing connector: since when, grace left, parked events (count, oldest), dead letters by reason', async () => {
    const started = Date.now();
    await disableSource();
    await f.stack.connector(ST).publish(eventsEnvelope([event('users.messages.email.Open', 'st-p-1')]));
    await waitFor('first group parked', async () => (await parkedEvents()) === 1);
    await f.stack
      .connector(ST)
      .publish(
        eventsEnvelope([event('users.messages.email.Click', 'st-p-2'), event('users.messages.email.Open', 'st-p-3')]),
      );
    await f.stack.connector(ST).publish('{"event_type":"users.messages.email.Open","id":"st-bad"}');
    await waitFor('three events parked', async () => (await parkedEvents()) === 3);
    await waitFor('the dead letter', () => f.logs.some((l) => l.connector === ST && l.event === 'dead_lettered'));

    const [s] = await status();
    expect(s).toMatchObject({
      state: 'failing',
      parked: { events: 3 },
      deadLetters: { total: 1, byReason: { invalid: 1 } },
      gracePeriod: '48h',
    });
    expect(s!.detail).toMatch(/src_st \(us\) is disabled/);
    const since = Date.parse(s!.failingSince);
    expect(since).toBeGreaterThanOrEqual(started - 1000);
    expect(s!.graceRemainingMs).toBeGreaterThan(47 * 3_600_000);
    expect(s!.graceRemainingMs).toBeLessThanOrEqual(48 * 3_600_000);
    expect(Date.parse(s!.graceEndsAt)).toBe(since + 48 * 3_600_000);
    expect(Date.parse(s!.parked.oldest)).toBeGreaterThanOrEqual(since - 1000);

    // Counting dead letters released them: they are all still there.
    const human = await f.run(['status'], ['--connector', ST]);
    expect(human.status).toBe(0);
    expect(human.stdout).toMatch(/^ {2}state\s+FAILING: failing since \d{4}-.*ago\)$/m);
    expect(human.stdout).toMatch(/^ {2}detail\s+.*is disabled/m);
    expect(human.stdout).toMatch(/^ {2}grace left\s+(1d 23h \d+m|2d) of 48h \(expires \d{4}-/m);
    expect(human.stdout).toMatch(/^ {2}parked events\s+3 \(oldest parked \d{4}-/m);
    expect(human.stdout).toMatch(/^ {2}dead letters\s+1 waiting: invalid 1$/m);
  });

  it('without --connector shows every connector of the environment', async () => {
    const all = await status([]);
    expect(all.map((s) => [s.connector, s.state])).toEqual([
      [ST, 'failing'],
      [OTHER, 'active'],
    ]);
  });
});

describe('currents probe', () => {
  it('reports a credential that still fails, exits 1 and leaves the events parked', async () => {
    const r = await f.run(['probe'], ['--connector', ST]);
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(new RegExp(`^${ST}: probe ran in`, 'm'));
    expect(r.stdout).toMatch(/^ {2}state\s+failing \(failing since/m);
    expect(r.stdout).toMatch(/^ {2}credential\s+failing: .*is disabled/m);
    expect(r.stdout).toMatch(/^ {2}drained\s+0 parked message\(s\) delivered$/m);
    expect(r.stdout).toMatch(/^ {2}still parked\s+3$/m);
    expect(await parkedEvents()).toBe(3);
  });

  it('recovers a failing connector once the credential works and drains the parked events', async () => {
    us().sources.setEnabled(SOURCE, true);
    const r = await f.run(['probe'], ['--connector', ST, '--json']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const [p] = JSON.parse(r.stdout) as Record<string, unknown>[];
    expect(p).toMatchObject({ connector: ST, state: 'active', credential: 'ok', parkedEvents: 0, drainedGroups: 2 });
    const ids = us()
      .accepted()
      .map((e) => e.messageId);
    expect(ids).toEqual(expect.arrayContaining(['st-p-1', 'st-p-2', 'st-p-3']));
    expect(us().stats().duplicates).toBe(0);
    const [s] = await status();
    expect(s).toMatchObject({ state: 'active', parked: { events: 0 } });
    expect(s!.recoveredAt).toBeDefined();
  });
});

describe('an expired connector', () => {
  it('probe drops the parked events past the grace period; status shows it expired with the drops', async () => {
    await disableSource();
    await f.stack.connector(ST).publish(eventsEnvelope([event('users.messages.email.Open', 'st-x-1')]));
    await waitFor('the event parked', async () => (await parkedEvents()) === 1);
    await f.stack.connector(ST).setClockOffset(49 * 3_600_000);

    const probe = await f.run(['probe'], ['--connector', ST]);
    expect(probe.status).toBe(1);
    expect(probe.stdout).toMatch(/^ {2}state\s+expired/m);
    expect(probe.stdout).toMatch(
      /^ {2}dropped\s+1 parked event\(s\), past the grace period: users\.messages\.email\.Open 1$/m,
    );

    const [s] = await status();
    expect(s).toMatchObject({
      state: 'expired',
      parked: { events: 0 },
      dropped: { total: 1, byType: { 'users.messages.email.Open': 1 } },
    });
    expect(s!.graceRemainingMs).toBeUndefined();
    expect(s!.expiredAt).toBeDefined();
    const human = await f.run(['status'], ['--connector', ST]);
    expect(human.stdout).toMatch(/^ {2}state\s+EXPIRED: failing since/m);
    expect(human.stdout).toMatch(/^ {2}grace left\s+none: expired/m);
    expect(human.stdout).toMatch(/^ {2}dropped\s+1 event\(s\) in total: users\.messages\.email\.Open 1$/m);
  });

  it('comes back to active with a probe once the credential works', async () => {
    us().sources.setEnabled(SOURCE, true);
    const r = await f.run(['probe'], ['--connector', ST]);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^ {2}state\s+active$/m);
    expect(r.stdout).toMatch(/^ {2}credential\s+ok$/m);
    await f.stack.connector(ST).setClockOffset(0);
  });
});
