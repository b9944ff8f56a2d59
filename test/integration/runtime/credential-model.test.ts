/**
 * Model-based test of the credential state machine under concurrency. Several app instances (createApp with the real
 * adapters, each with its own Firestore client, state cache, Segment client and clock) share one Firestore emulator
 * database and one local Segment server (real HTTP, OAuth credential). fast-check generates runs of steps:
 *  - concurrent operations on random instances: pushes (new messages, or Pub/Sub redeliveries of messages answered 503)
 *    and probes, whose outcomes follow the world (delivered / credential refused / Segment down; probe ok / refused /
 *    inconclusive);
 *  - credential revoked / restored, Segment down / up (every request answered 503, token endpoint included);
 *  - the clock moved across the grace period, with the scheduler's probe run at every probe interval on the way.
 * After every step the stored state and the step's logged transitions are checked against a simple reference model:
 * the state is one the model allows; no `failing → active` without a credential check that worked (the credential valid
 * and Segment up during the step); `failingSince` is the time of the episode's first failure and never moves; expiry
 * happens past the grace period and at most one probe interval later; every event published is delivered, parked,
 * awaiting redelivery or counted dropped — exactly one of them (none lost, none both parked and dropped). Each run ends
 * with the credential restored, every message redelivered and the parked events drained: nothing is left but delivered
 * and counted drops.
 *
 * Time is the model's: it moves only by `advance` steps (and, during Segment-down retries, by each instance's own backoff
 * sleeps, which take no real time). Runs go on four at a time, each in its own world (database, Segment server,
 * instances). fast-check prints the seed and path of a failing batch; replay it with CREDENTIAL_MODEL_SEED=<seed>
 * CREDENTIAL_MODEL_PATH=<path> (the same steps; the interleavings inside a step are the machine's). CREDENTIAL_MODEL_RUNS
 * sets the number of runs.
 */
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { Firestore } from '@google-cloud/firestore';
import fc from 'fast-check';
import { startSegmentServer, type LocalSegmentServer } from '../../../local/segment-server';
import { createApp, type ConnectorApp } from '../../../runtime/app';
import type { DeadLetterSink } from '../../../runtime/ports';
import { FirestoreStateStore, stateFromDoc, versionFromDoc } from '../../../runtime/adapters/firestore-state';
import { credentialSourceFor, secretSourceFor } from '../../../runtime/adapters/secrets';
import { createSegmentClient, type SegmentClient } from '../../../runtime/adapters/segment';
import type { CredentialState } from '../../../runtime/core/expiry';
import { pushEnvelope } from '../../../runtime/core/push';
import { eventsEnvelope, sampleEvent } from '../../../common/samples';
import { createTranslator } from '../../../runtime/core/translate';
import { createLogger } from '../../../runtime/log';
import { loadEnvironments } from '../../../shared/connector';
import { FIRESTORE_LAYOUT } from '../../../shared/names';
import { functionEnvironment, parseRuntimeConfig, type RuntimeConfig } from '../../../shared/runtime-config';
import { connectorDefinition } from '../../support/function/fixture';

const projectId = process.env.GOOGLE_CLOUD_PROJECT!;
const MIN = 60_000;
const GRACE_MS = 60 * MIN;
const PROBE_INTERVAL_MS = 20 * MIN;
const CACHE_MS = 5_000;
const INSTANCES = 3;
const T0 = Date.UTC(2026, 4, 1);
const EVENT_TYPE = 'users.messages.email.Open';
const RUNS = Number(process.env.CREDENTIAL_MODEL_RUNS ?? 300);
const APP_ID = 'model-app';
/** Runs going on at the same time, each in its own world. */
const LANES = 4;

jest.setTimeout(600_000);

// ---------- the steps ----------

type Op =
  { kind: 'push'; instance: number; redeliver: boolean; message?: string } | { kind: 'probe'; instance: number };
type Step =
  | { kind: 'ops'; ops: Op[] }
  | { kind: 'revoke' }
  | { kind: 'restore' }
  | { kind: 'down' }
  | { kind: 'up' }
  | { kind: 'advance'; ms: number };

const instanceArb = fc.nat(INSTANCES - 1);
const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    arbitrary: fc.record({ kind: fc.constant('push' as const), instance: instanceArb, redeliver: fc.boolean() }),
    weight: 3,
  },
  { arbitrary: fc.record({ kind: fc.constant('probe' as const), instance: instanceArb }), weight: 2 },
);
const stepArb: fc.Arbitrary<Step> = fc.oneof(
  {
    arbitrary: fc.record({ kind: fc.constant('ops' as const), ops: fc.array(opArb, { minLength: 1, maxLength: 4 }) }),
    weight: 6,
  },
  { arbitrary: fc.record({ kind: fc.constant('revoke' as const) }), weight: 2 },
  { arbitrary: fc.record({ kind: fc.constant('restore' as const) }), weight: 2 },
  { arbitrary: fc.record({ kind: fc.constant('down' as const) }), weight: 1 },
  { arbitrary: fc.record({ kind: fc.constant('up' as const) }), weight: 1 },
  {
    arbitrary: fc.record({
      kind: fc.constant('advance' as const),
      ms: fc.constantFrom(CACHE_MS, 7 * MIN, 25 * MIN, GRACE_MS, GRACE_MS + 1),
    }),
    weight: 2,
  },
);

// ---------- the world: a Segment server, instances, the model clock ----------

interface Instance {
  readonly app: ConnectorApp;
  readonly store: FirestoreStateStore;
  readonly segment: SegmentClient;
  /** This instance's clock runs ahead of the model clock by its backoff sleeps (reset at every step). */
  skew: number;
}

interface World {
  /** The world's own local Segment server (its faults are the world's), on the world's model clock. */
  readonly server: LocalSegmentServer;
  readonly instances: Instance[];
  readonly db: Firestore;
  /** `state_change` entries logged during the current step. */
  readonly transitions: { transition: string; from: string; to: string }[];
  t: number;
  close(): Promise<void>;
}

let config: RuntimeConfig;
let secretEnv: Record<string, string>;
let publicKeyPem: string;
/** One world per lane: runs in different lanes go on at the same time (each its own database and Segment server). */
const lanes: World[] = [];

beforeAll(() => {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  publicKeyPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  const [env] = loadEnvironments([
    {
      name: 'test',
      project: projectId,
      region: 'europe-west1',
      connectors: [
        connectorDefinition({
          segment: { region: 'eu', credential: { kind: 'oauth', appId: APP_ID, keyId: 'model-key' } },
          credentialGracePeriod: '1h',
        }),
      ],
    },
  ]);
  secretEnv = {
    ...functionEnvironment(env!, env!.connectors[0]!),
    CURRENTS_SECRET_SOURCE: 'env',
    CURRENTS_SECRET_VALUE: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  };
  config = parseRuntimeConfig(secretEnv);
});

afterAll(async () => {
  await Promise.all(lanes.map((w) => w.close()));
});

/** Runs are days apart in model time, so that no state cache or token of an earlier run is still valid. */
const RUN_SPACING_MS = 10 * 24 * 60 * MIN;

/** Empties the database (state document, parked events) and the Segment server before a run; returns its start time. */
async function startRun(world: World, index: number): Promise<number> {
  world.server.reset();
  const parked = await world.db.collection(FIRESTORE_LAYOUT.parkedCollection).get();
  const batch = world.db.batch();
  for (const d of parked.docs) batch.delete(d.ref);
  batch.delete(world.db.doc(FIRESTORE_LAYOUT.stateDocument));
  await batch.commit();
  for (const i of world.instances) i.store.invalidateCache();
  world.t = T0 + index * RUN_SPACING_MS;
  return world.t;
}

const noDeadLetters: DeadLetterSink = {
  publish: (letters) =>
    Promise.reject(new Error(`unexpected dead letters: ${letters.map((l) => l.reason).join(', ')}`)),
};

/** A world: its instances share one database for the whole file; each run starts it empty (see `startRun`). */
async function startWorld(): Promise<World> {
  const databaseId = `model-${randomUUID().slice(0, 12)}`;
  let t = T0;
  const server = await startSegmentServer({
    region: 'eu',
    oauthApps: [{ appId: APP_ID, keyId: 'model-key', publicKeyPem }],
    recordCalls: false,
    // The server's clock (token lifetimes, JWT checks, revocations) is the model clock.
    now: () => t,
  });
  const world: World = {
    server,
    instances: [],
    db: new Firestore({ projectId, databaseId }),
    transitions: [],
    get t() {
      return t;
    },
    set t(v: number) {
      t = v;
    },
    close: async () => {
      await Promise.allSettled([
        world.db.terminate(),
        server.close(),
        ...world.instances.flatMap((i) => [i.store.close(), i.segment.close()]),
      ]);
    },
  };
  for (let n = 0; n < INSTANCES; n++) {
    const instance = { skew: 0 } as Instance;
    const clock = { now: () => world.t + instance.skew };
    const logger = createLogger({
      connector: config.connector.name,
      sink: (line) => {
        const entry = JSON.parse(line) as { event: string; transition: string; from: string; to: string };
        if (entry.event === 'state_change') world.transitions.push(entry);
      },
    });
    const credentials = credentialSourceFor(
      config.connector.segment.credential,
      secretSourceFor(config, { clock, env: secretEnv }),
    );
    const segment = createSegmentClient({
      region: 'eu',
      credentials,
      baseUrl: server.url,
      tokenUrl: server.tokenUrl,
      clock,
      // Backoff waits take model time on this instance's clock, not real time.
      sleep: async (ms) => {
        instance.skew += ms;
        await new Promise((r) => setImmediate(r));
      },
    });
    const store = new FirestoreStateStore({ projectId, databaseId, graceMs: GRACE_MS, clock, cacheMs: CACHE_MS });
    const app = createApp({
      translator: createTranslator(config.connector),
      segment,
      credentials,
      store,
      deadLetters: noDeadLetters,
      logger,
      clock,
      policy: { deliveryBudgetMs: 2_000, probeBudgetMs: 5_000 },
    });
    Object.assign(instance, { app, store, segment });
    world.instances.push(instance);
  }
  return world;
}

// ---------- the reference model ----------

interface ModelState {
  status: CredentialState['status'];
  failingSince?: number;
}

interface Model {
  state: ModelState;
  credentialValid: boolean;
  segmentUp: boolean;
  /** Model time the run started at. */
  readonly startedAt: number;
  /** Model time the scheduler last probed at. */
  lastScheduledProbe: number;
  /** Model time the state was last seen expired (an instance may act on that for one cache period). */
  lastExpiredAt: number;
  /** Events counted dropped so far. */
  dropped: number;
  nextMessage: number;
  /** Pub/Sub message id → its events' ids, for every message published. */
  readonly messages: Map<string, string[]>;
  /** Messages answered 503: Pub/Sub redelivers them. */
  readonly pending: Set<string>;
}

const same = (a: ModelState, b: ModelState) => a.status === b.status && a.failingSince === b.failingSince;

/**
 * The states a step may end in, from `s`, given the world during the step and whether it had pushes and probes. A
 * credential failure can only be seen with the credential revoked and Segment up; a success only with it valid and up;
 * only a probe recovers; expiry needs someone to look (a probe always does; a push only if its cached state says so).
 */
function allowedAfter(s: ModelState, m: Model, t: number, hasPush: boolean, hasProbe: boolean): ModelState[] {
  const canFail = !m.credentialValid && m.segmentUp;
  const canRecover = m.credentialValid && m.segmentUp && hasProbe;
  if (s.status === 'active') {
    return canFail && (hasPush || hasProbe) ? [s, { status: 'failing', failingSince: t }] : [s];
  }
  const expired: ModelState = { status: 'expired', failingSince: s.failingSince };
  if (canRecover) return [{ status: 'active' }];
  if (s.status === 'expired') return [s];
  if (t - s.failingSince! <= GRACE_MS) return [s];
  if (hasProbe) return [expired];
  return hasPush ? [s, expired] : [s];
}

/** The transitions a step from `from` to `to` must have logged, sorted (instances log in any order). */
function expectedTransitions(from: ModelState, to: ModelState): string[][] {
  if (same(from, to)) return [[]];
  if (to.status === 'failing') return [['failing_started']];
  if (to.status === 'expired') return [['expired']];
  // back to active: from expired, or from failing (possibly expired on the way by the same probe)
  return from.status === 'failing' ? [['recovered'], ['expired', 'recovered']] : [['recovered']];
}

// ---------- running a step ----------

async function readStored(world: World) {
  const snap = await world.db.doc(FIRESTORE_LAYOUT.stateDocument).get();
  const data = snap.data();
  const state = stateFromDoc(data);
  const dropped = (data?.dropped as { total?: number } | undefined)?.total ?? 0;
  return { state, version: versionFromDoc(data), dropped };
}

async function parkedMessageIds(world: World): Promise<string[]> {
  const snap = await world.db.collection(FIRESTORE_LAYOUT.parkedCollection).get();
  return snap.docs.flatMap((d) => (d.get('items') as { messageId: string }[]).map((i) => i.messageId));
}

function newMessage(m: Model, run: string): string {
  const id = `${run}-m${m.nextMessage++}`;
  const count = 1 + (m.nextMessage % 3);
  m.messages.set(
    id,
    Array.from({ length: count }, (_, j) => `${id}-e${j}`),
  );
  return id;
}

/**
 * Pushes a new message, or redelivers one answered 503 before; returns its id and the answer. Pub/Sub redelivers a
 * message until one of its deliveries is acknowledged (204), so the step decides what stays pending.
 */
async function push(world: World, m: Model, op: Extract<Op, { kind: 'push' }>, run: string) {
  const redeliveries = [...m.pending];
  const id = op.message ?? (op.redeliver && redeliveries.length ? redeliveries[0]! : newMessage(m, run));
  const events = m.messages.get(id)!.map((eid, j) => sampleEvent(EVENT_TYPE, { id: eid }, j + 1));
  const r = await world.instances[op.instance]!.app.handlePush(pushEnvelope(eventsEnvelope(events), {}, id));
  if (r.status !== 204 && r.status !== 503) throw new Error(`push answered ${r.status}: ${JSON.stringify(r.body)}`);
  return { id, acked: r.status === 204 };
}

async function probe(world: World, instance: number): Promise<void> {
  const r = await world.instances[instance]!.app.handleProbe();
  if (r.status !== 200) throw new Error(`probe answered ${r.status}: ${JSON.stringify(r.body)}`);
}

/** Runs `body` as one step and checks the stored state, the logged transitions and every event against the model. */
async function step(
  world: World,
  m: Model,
  label: string,
  body: () => Promise<void>,
  activity: { hasPush: boolean; hasProbe: boolean },
): Promise<void> {
  const before = m.state;
  const t = world.t;
  for (const i of world.instances) i.skew = 0;
  world.transitions.length = 0;
  await body();
  const stored = await readStored(world);
  const actual: ModelState = {
    status: stored.state.status,
    failingSince: 'failingSince' in stored.state ? stored.state.failingSince : undefined,
  };
  const where = `step ${label} at +${(t - m.startedAt) / MIN} min (credential ${m.credentialValid ? 'valid' : 'revoked'}, Segment ${m.segmentUp ? 'up' : 'down'}), from ${JSON.stringify(before)}`;
  const allowed = allowedAfter(before, m, t, activity.hasPush, activity.hasProbe);
  if (!allowed.some((a) => same(a, actual))) {
    throw new Error(`${where}: state ${JSON.stringify(actual)}, the model allows ${JSON.stringify(allowed)}`);
  }
  const logged = world.transitions.map((e) => e.transition).sort();
  const expected = expectedTransitions(before, actual);
  if (!expected.some((e) => JSON.stringify(e) === JSON.stringify(logged))) {
    throw new Error(
      `${where} to ${JSON.stringify(actual)}: transitions logged ${JSON.stringify(logged)}, expected ${expected.map((e) => JSON.stringify(e)).join(' or ')}`,
    );
  }
  if (stored.state.status === 'expired') {
    const overdue = stored.state.expiredAt - stored.state.failingSince;
    if (before.status === 'failing' && !(overdue > GRACE_MS && overdue <= GRACE_MS + PROBE_INTERVAL_MS + 10_000)) {
      throw new Error(
        `${where}: expired ${overdue} ms after failingSince (grace ${GRACE_MS}, probe interval ${PROBE_INTERVAL_MS})`,
      );
    }
  }
  if ([before.status, actual.status].includes('expired') || logged.includes('expired')) m.lastExpiredAt = t;
  // Events are dropped only while expired (or by an instance whose cached state, at most one cache period old, says so).
  if (stored.dropped > m.dropped && t - m.lastExpiredAt >= CACHE_MS) {
    throw new Error(`${where}: ${stored.dropped - m.dropped} event(s) dropped, but the connector was not expired`);
  }
  m.dropped = stored.dropped;
  if (stored.state.status === 'failing' && t - stored.state.failingSince > GRACE_MS + PROBE_INTERVAL_MS) {
    throw new Error(`${where}: still failing ${t - stored.state.failingSince} ms after failingSince`);
  }
  m.state = actual;
  await checkEvents(world, m, where, stored.dropped);
}

/** Every event published is delivered, parked, awaiting redelivery or counted dropped: exactly one of them. */
async function checkEvents(world: World, m: Model, where: string, dropped: number): Promise<void> {
  const delivered = new Set(world.server.accepted().map((e) => e.messageId));
  const parked = await parkedMessageIds(world);
  const parkedSet = new Set(parked);
  if (parkedSet.size !== parked.length) throw new Error(`${where}: an event is parked twice`);
  let unaccounted = 0;
  let published = 0;
  for (const [id, events] of m.messages) {
    for (const e of events) {
      published++;
      const outcomes = [
        delivered.has(e) && 'delivered',
        parkedSet.has(e) && 'parked',
        m.pending.has(id) && 'pending',
      ].filter(Boolean);
      if (outcomes.length > 1) throw new Error(`${where}: event ${e} is ${outcomes.join(' and ')}`);
      if (outcomes.length === 0) unaccounted++;
    }
  }
  if (unaccounted !== dropped) {
    throw new Error(
      `${where}: ${unaccounted} of ${published} event(s) are neither delivered, parked nor pending, but ${dropped} counted dropped`,
    );
  }
}

async function runStep(world: World, m: Model, s: Step, run: string): Promise<void> {
  switch (s.kind) {
    case 'revoke':
      world.server.faults.revokeCredentials({ appId: APP_ID });
      m.credentialValid = false;
      return;
    case 'restore':
      world.server.faults.restoreCredentials();
      m.credentialValid = true;
      return;
    case 'down':
      if (m.segmentUp) world.server.faults.add({ status: 503, target: 'all' });
      m.segmentUp = false;
      return;
    case 'up':
      world.server.faults.clear();
      m.segmentUp = true;
      return;
    case 'advance': {
      // The scheduler probes every PROBE_INTERVAL_MS on the way (one instance, as Cloud Scheduler does).
      const target = world.t + s.ms;
      while (m.lastScheduledProbe + PROBE_INTERVAL_MS <= target) {
        world.t = m.lastScheduledProbe += PROBE_INTERVAL_MS;
        const instance = Math.floor(m.lastScheduledProbe / PROBE_INTERVAL_MS) % INSTANCES;
        await step(world, m, 'scheduled probe', () => probe(world, instance), { hasPush: false, hasProbe: true });
      }
      world.t = target;
      return;
    }
    case 'ops':
      await step(
        world,
        m,
        s.ops.map((o) => `${o.kind}@${o.instance}`).join('+'),
        async () => {
          const answers = await Promise.all(
            s.ops.map((o) => (o.kind === 'push' ? push(world, m, o, run) : probe(world, o.instance))),
          );
          const acked = new Set(answers.flatMap((a) => (a?.acked ? [a.id] : [])));
          for (const a of answers) {
            if (a && acked.has(a.id)) m.pending.delete(a.id);
            else if (a) m.pending.add(a.id);
          }
        },
        { hasPush: s.ops.some((o) => o.kind === 'push'), hasProbe: s.ops.some((o) => o.kind === 'probe') },
      );
  }
}

/**
 * The end of a run: credential restored, Segment up, a probe while every message still answered 503 is redelivered, then
 * (if something was parked meanwhile) a probe that drains it. Nothing may be left but delivered events and counted drops.
 */
async function settle(world: World, m: Model, run: string): Promise<void> {
  await runStep(world, m, { kind: 'restore' }, run);
  await runStep(world, m, { kind: 'up' }, run);
  world.t += CACHE_MS; // every instance reads the state again
  const redeliveries = [...m.pending].map((message, i): Op => ({
    kind: 'push',
    instance: i % INSTANCES,
    redeliver: true,
    message,
  }));
  await runStep(world, m, { kind: 'ops', ops: [{ kind: 'probe', instance: 0 }, ...redeliveries] }, run);
  if (m.pending.size) throw new Error(`${m.pending.size} message(s) still answered 503 after everything was restored`);
  if (m.state.status !== 'active') throw new Error(`state ${m.state.status} after everything was restored`);
  if ((await parkedMessageIds(world)).length) {
    // parked by a redelivery that read the state before the recovery: the next probe delivers them
    world.t += CACHE_MS;
    await runStep(world, m, { kind: 'ops', ops: [{ kind: 'probe', instance: 1 }] }, run);
    const parked = await parkedMessageIds(world);
    if (parked.length) throw new Error(`${parked.length} event(s) still parked after everything was restored`);
  }
}

/** One generated run in a world: its steps, checked one by one, then the settling at the end. */
async function run(world: World, steps: Step[], index: number): Promise<void> {
  const start = await startRun(world, index);
  const m: Model = {
    state: { status: 'active' },
    credentialValid: true,
    segmentUp: true,
    startedAt: start,
    lastScheduledProbe: start,
    lastExpiredAt: -Infinity,
    dropped: 0,
    nextMessage: 0,
    messages: new Map(),
    pending: new Set(),
  };
  const name = `r${index}`;
  try {
    for (const s of steps) await runStep(world, m, s, name);
    await settle(world, m, name);
  } catch (err) {
    throw new Error(`run ${name} (lane ${lanes.indexOf(world)}): ${(err as Error).message}`);
  }
}

describe('the credential state machine under concurrency (model-based)', () => {
  it(`keeps one truth across ${INSTANCES} instances over ${RUNS} generated runs`, async () => {
    while (lanes.length < LANES) lanes.push(await startWorld());
    let runs = 0;
    const seed = process.env.CREDENTIAL_MODEL_SEED;
    const path = process.env.CREDENTIAL_MODEL_PATH;
    const runArb = fc.array(stepArb, { minLength: 1, maxLength: 5 });
    // Each property run is LANES generated runs, one per lane, at the same time (the emulator is mostly waited on).
    await fc.assert(
      fc.asyncProperty(fc.array(runArb, { minLength: LANES, maxLength: LANES }), async (batch) => {
        const first = runs;
        runs += batch.length;
        const results = await Promise.allSettled(batch.map((steps, lane) => run(lanes[lane]!, steps, first + lane)));
        for (const r of results) if (r.status === 'rejected') throw r.reason;
      }),
      {
        // A replay (seed and path of a failure) runs that one batch of runs again.
        numRuns: seed && path ? 1 : Math.ceil(RUNS / LANES),
        ...(seed ? { seed: Number(seed), path } : {}),
        endOnFailure: true,
      },
    );
  });
});
