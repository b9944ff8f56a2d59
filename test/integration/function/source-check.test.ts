/**
 * The write-key source check through the state machine, in process with the real adapters (Firestore emulator, the local
 * Segment server's Tracking API and Public API over HTTP) and the function's movable clock. Segment answers 200 to a bad
 * write key, so the Public API check is what makes these failures visible: a failed check parks (never sends), drives
 * failing → expired at the grace period, and recovers and drains once the secret holds a key the source has; a Public
 * API that cannot answer changes nothing and is logged as credential_unverified.
 */
import { randomBytes } from 'node:crypto';
import { startSegmentServer, type LocalSegmentServer } from '../../../local/segment-server';
import { OffsetClock } from '../../../runtime/core/clock';
import { pushEnvelope } from '../../../runtime/core/push';
import { eventsEnvelope, sampleEvent } from '../../../common/samples';
import { createRuntime, type Runtime } from '../../../runtime/runtime';
import { loadEnvironments } from '../../../shared/connector';
import { ENV_VARS, functionEnvironment, parseRuntimeConfig } from '../../../shared/runtime-config';
import { connectorDefinition, HOUR, type LogEntry } from '../../support/function/fixture';

const MINUTE = 60_000;
const KEY = 'wk_source_check_us_0123456789';
const KEY_EU = 'wk_source_check_eu_0123456789';
const TOKEN = 'papi_source_check_token_0123456789';

interface Case {
  runtime: Runtime;
  clock: OffsetClock;
  /** The function's environment: the secret (`CURRENTS_SECRET_VALUE`) can be changed in place. */
  vars: Record<string, string>;
  logs: LogEntry[];
  lines: string[];
}

describe('write-key source check (Public API) through the state machine', () => {
  let us: LocalSegmentServer;
  let eu: LocalSegmentServer;
  const open: Runtime[] = [];
  let seed = 1;

  beforeAll(async () => {
    us = await startSegmentServer({
      region: 'us',
      sources: [{ id: 'src_us', writeKeys: [KEY] }],
      publicApiTokens: [TOKEN],
    });
    eu = await startSegmentServer({
      region: 'eu',
      sources: [{ id: 'src_eu', writeKeys: [KEY_EU] }],
      publicApiTokens: [TOKEN],
    });
  });
  afterEach(async () => {
    await Promise.all(open.splice(0).map((r) => r.close()));
    us.reset();
    eu.reset();
  });
  afterAll(async () => {
    await us.close();
    await eu.close();
  });

  function start(opts: { sourceId?: string; token?: string; key?: string } = {}): Case {
    const project = `sc-${randomBytes(4).toString('hex')}`;
    const [env] = loadEnvironments([
      {
        name: 'test',
        project,
        region: 'us-central1',
        connectors: [
          connectorDefinition({
            segment: { region: 'us', credential: { kind: 'writeKey' }, sourceId: opts.sourceId ?? 'src_us' },
          }),
        ],
      },
    ]);
    const vars: Record<string, string> = {
      ...functionEnvironment(env!, env!.connectors[0]!),
      [ENV_VARS.segmentBaseUrl]: us.url,
      [ENV_VARS.publicApiBaseUrl]: us.url,
      [ENV_VARS.secretSource]: 'env',
      [ENV_VARS.secretValue]: opts.key ?? KEY,
      [ENV_VARS.publicApiToken]: opts.token ?? TOKEN,
    };
    const clock = new OffsetClock();
    const logs: LogEntry[] = [];
    const lines: string[] = [];
    const runtime = createRuntime(parseRuntimeConfig(vars), {
      clock,
      env: vars,
      logSink: (line) => {
        lines.push(line);
        logs.push(JSON.parse(line) as LogEntry);
      },
    });
    open.push(runtime);
    return { runtime, clock, vars, logs, lines };
  }

  const push = (c: Case, n = 2) => {
    const events = Array.from({ length: n }, () => sampleEvent('users.messages.email.Open', {}, seed++));
    return c.runtime.app
      .handlePush(pushEnvelope(eventsEnvelope(events), {}, `m-${seed}`))
      .then((r) => ({ ...r, ids: events.map((e) => e.id) }));
  };
  const probe = (c: Case) => c.runtime.app.handleProbe().then((r) => r.body);
  const noSecretsIn = (c: Case) => {
    for (const line of c.lines) for (const s of [KEY, KEY_EU, TOKEN, 'wk_rotated']) expect(line).not.toContain(s);
  };

  it('ok: the source is enabled and has the key: events are delivered, the probe says ok', async () => {
    const c = start();
    expect((await push(c)).body).toMatchObject({ delivered: 2, parked: 0 });
    expect((await push(c)).body).toMatchObject({ delivered: 2, parked: 0 });
    expect(us.stats()).toMatchObject({ acceptedUnique: 4, discarded: {} });
    expect(await probe(c)).toMatchObject({ state: 'active', credential: 'ok' });
    expect(us.stats().publicApiRequestsByStatus).toEqual({ '200': 2 }); // at start, then the probe: never per push
  });

  // A wrong region: the connector says us, but its source is in the eu workspace (the eu server knows it; us does not).
  it.each([
    ['source missing', { sourceId: 'src_deleted' }, (): void => undefined, /src_deleted \(us\) not found/],
    ['source disabled', {}, (): void => us.sources.setEnabled('src_us', false), /src_us \(us\) is disabled/],
    ['key not among its keys', {}, (): void => void us.sources.rotateWriteKey('src_us'), /does not have the write key/],
    [
      'wrong region (a source of the eu workspace, connector says us)',
      { sourceId: 'src_eu', key: KEY_EU },
      (): void => undefined,
      /src_eu \(us\) not found by the Public API of region us/,
    ],
  ])(
    '%s: a credential failure at start: events parked, never sent into the void',
    async (_what, opts, change, detail) => {
      change();
      const c = start(opts);
      const r = await push(c);
      expect(r).toMatchObject({ status: 204, body: { delivered: 0, parked: 2 } });
      expect(us.stats()).toMatchObject({ requests: 0, acceptedUnique: 0 });
      expect(await c.runtime.store.current()).toMatchObject({
        status: 'failing',
        detail: expect.stringMatching(detail),
      });
      expect(c.logs.filter((l) => l.event === 'state_change')).toEqual([
        expect.objectContaining({ transition: 'failing_started', severity: 'ALERT' }),
      ]);
      expect(await probe(c)).toMatchObject({ state: 'failing', credential: 'failing', parkedEvents: 2 });
      noSecretsIn(c);
    },
  );

  it.each([
    ['Public API down (503)', {}, (): void => void us.faults.add({ status: 503, target: 'publicApi' }), /answered 503/],
    [
      'Public API rate-limited (429)',
      {},
      (): void => void us.faults.add({ status: 429, target: 'publicApi' }),
      /answered 429/,
    ],
    [
      'Public API unreachable',
      {},
      (): void => void us.faults.add({ destroyConnection: true, target: 'publicApi' }),
      /could not answer/,
    ],
    [
      'Public API token refused',
      { token: 'papi_not_a_token_0000' },
      (): void => undefined,
      /refused its own token \(401\)/,
    ],
  ])('%s: inconclusive: no state change, credential_unverified logged', async (_what, opts, change, detail) => {
    change();
    const c = start(opts);
    expect((await push(c)).body).toMatchObject({ delivered: 2, parked: 0 });
    expect(await probe(c)).toMatchObject({
      state: 'active',
      credential: 'unknown',
      detail: expect.stringMatching(detail),
    });
    expect(await c.runtime.store.current()).toEqual({ status: 'active' });
    const unverified = c.logs.filter((l) => l.event === 'credential_unverified');
    expect(unverified.map((l) => [l.severity, l.when])).toEqual([
      ['WARNING', 'start'],
      ['WARNING', 'probe'],
    ]);
    expect(c.logs.some((l) => l.event === 'state_change' || l.event === 'credential_failure')).toBe(false);
    noSecretsIn(c);
  });

  it('rotated key, 47h59m: still failing and parked (an unreachable Public API meanwhile changes nothing); the new key in the secret recovers and drains', async () => {
    const c = start();
    expect((await push(c)).body).toMatchObject({ delivered: 2 });
    const fresh = us.sources.rotateWriteKey('src_us');
    expect(await probe(c)).toMatchObject({ state: 'failing', credential: 'failing' }); // detected within one probe
    const since = ((await c.runtime.store.current()) as { failingSince: number }).failingSince;
    const parked = await push(c, 3);
    expect(parked.body).toMatchObject({ delivered: 0, parked: 3 });
    c.clock.offsetMs = 47 * HOUR + 59 * MINUTE;
    const down = us.faults.add({ status: 503, target: 'publicApi' });
    expect(await probe(c)).toMatchObject({ state: 'failing', credential: 'unknown', parkedEvents: 3 });
    us.faults.remove(down);
    expect(await probe(c)).toMatchObject({
      state: 'failing',
      credential: 'failing',
      droppedEvents: 0,
      parkedEvents: 3,
    });
    expect(await c.runtime.store.current()).toMatchObject({ status: 'failing', failingSince: since });
    expect(us.stats().acceptedUnique).toBe(2);

    c.vars[ENV_VARS.secretValue] = fresh; // the person puts the source's new key into the secret
    expect(await probe(c)).toMatchObject({ state: 'active', credential: 'ok', drainedEvents: 3, parkedEvents: 0 });
    const ids = us.accepted().map((e) => e.messageId);
    expect(ids).toEqual(expect.arrayContaining(parked.ids));
    expect(us.stats().discarded).toEqual({});
    noSecretsIn(c);
  });

  it('disabled source, 48h01m: expired, parked and new events dropped and counted; enabling it recovers', async () => {
    us.sources.setEnabled('src_us', false);
    const c = start();
    expect((await push(c, 3)).body).toMatchObject({ parked: 3 });
    c.clock.offsetMs = 48 * HOUR + 1 * MINUTE;
    expect((await push(c, 2)).body).toMatchObject({ dropped: 2, parked: 0 });
    expect(await probe(c)).toMatchObject({
      state: 'expired',
      credential: 'failing',
      droppedEvents: 3,
      parkedEvents: 0,
    });
    expect((await c.runtime.store.readStatus()).dropped).toMatchObject({ total: 5 });
    us.sources.setEnabled('src_us', true);
    expect(await probe(c)).toMatchObject({ state: 'active', credential: 'ok' });
    expect((await push(c, 1)).body).toMatchObject({ delivered: 1 });
    expect(us.stats()).toMatchObject({ acceptedUnique: 1, discarded: {} });
  });
});
