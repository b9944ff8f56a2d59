/**
 * `npm run soak`: a bounded fault soak of the whole local path — Pub/Sub emulator → push subscription → the function
 * (functions-framework, its own process) → the local Segment server — that stops by itself and proves that nothing is
 * lost.
 *
 * While a seeded mix of Currents messages is published (runtime/core samples; some malformed, some not selected, some
 * too large, some refused by Segment with 400, some bodies that are not JSON: local/soak-events.ts), the Segment server
 * answers a fault mix (random 500/502/503, 429 with Retry-After, slow answers, connections closed before answering and
 * after accepting) and the function process is killed (SIGKILL, mid-request) and restarted a few times. The delivery
 * budget is short and the push subscription's backoff small, so that redeliveries happen within the soak.
 *
 * When every published event is accounted for (or a deadline passes), it reconciles, per event id:
 * - deliverable events: accepted by the Segment server (one entry per messageId; repeats are counted as "redelivered
 *   (deduplicated by Segment)", which at-least-once delivery allows), or in the dead-letter subscription;
 * - events the product must dead-letter: in the dead-letter subscription with the expected reason (drained with
 *   cli/ops/dead-letter-queue.ts), and never accepted;
 * - events skipped on purpose: neither accepted nor dead-lettered;
 * anything else is missing (an event without its outcome) or unexpected (accepted or dead-lettered without being
 * published so, or with the wrong reason). A missing event whose Pub/Sub message the function never acknowledged is
 * still owed by Pub/Sub, not lost: the soak waits for those (bounded: `--owed-seconds`) and reports what is still owed
 * apart. Prints the counts as a table; exits 1 on any event lost (its message acknowledged, no outcome), still owed
 * but failed by the function at every push, or unexpected.
 *
 *   npm run soak [-- --events N] [--seconds S] [--kills K] [--seed N] [--drain-seconds S]   (`-- --help`: the options)
 *
 * `runSoak()` is the same soak as a function: the reliability tests run a short one on the test emulators.
 */
import { randomBytes } from 'node:crypto';
import { loadEnvironments, type Environment } from '../shared/connector';
import { prng } from '../common/samples';
import { killEmulatorGroupsSync, startEmulators, type Emulators } from './emulators';
import { soakInput, type SoakInput } from './soak-events';
import { formatSoakReport, type Reconciliation } from './soak-reconcile';
import {
  countPushes,
  owingNow,
  publishPaced,
  reconcileNow,
  rigSoak,
  startKills,
  untilAccounted,
  type SoakRig,
} from './soak-steps';

export { formatSoakReport, reconcile } from './soak-reconcile';
import { startLocalStack, type LocalStack } from './stack';
import type { FaultRule } from './segment-server';
import { setTimeout as sleep } from 'node:timers/promises';
import { localGoogleClients } from '../common/google-clients';
import { parse, parseOrExit, UsageError, type CommandSpec } from '../common/args';
import { dropLibraryWarnings } from '../common/library-warnings';
import { stopOnSignals } from './shutdown';

export interface SoakOptions {
  /** Events to publish (default 20,000). */
  readonly events?: number;
  /** Seconds over which they are published (default 120); the function is killed within this window. */
  readonly seconds?: number;
  /** Times the function process is killed and restarted (default 3). */
  readonly kills?: number;
  /** Seed of the input mix, the kill times and the Segment server's faults (default 1). */
  readonly seed?: number;
  /** After publishing, how long to wait at most for the pipeline to go quiet (default max(60, seconds)). */
  readonly drainSeconds?: number;
  /**
   * Past `drainSeconds`, how much longer to wait while every missing event is still owed by Pub/Sub (its message never
   * acknowledged by the function), default 180 (the emulator sometimes holds a message back for minutes).
   */
  readonly owedSeconds?: number;
  /** Running emulators to use (tests); otherwise fresh ones are started and stopped with the stack. */
  readonly emulators?: Emulators;
  /** Project id on the emulators (default a fresh one per run). */
  readonly projectId?: string;
  /** Delivery budget of one push (default 2,000 ms, so that slow answers make Pub/Sub redeliver). */
  readonly deliveryBudgetMs?: number;
  /** Progress lines (default: none). */
  readonly progress?: (line: string) => void;
  /** Every log line of the function. */
  readonly onLog?: (line: string) => void;
  /** Called once the stack is up (for Ctrl-C handling). */
  readonly onStack?: (stack: LocalStack) => void;
}

export interface SoakReport extends Reconciliation {
  readonly published: number;
  readonly messages: number;
  readonly kills: number;
  readonly restarts: number;
  /** Faults the Segment server injected, by kind (a request can have a latency and a status). */
  readonly faults: Record<string, number>;
  /** Segment server: tracking requests by answer. */
  readonly requestsByStatus: Record<string, number>;
  /** Function: pushes handled, and pushes answered with a request to redeliver (from its batch_done log lines). */
  readonly pushesHandled: number;
  readonly pushesRedeliveryAsked: number;
  /** Pushes the front end answered 503 (or reset) because the function's process died handling them. */
  readonly frontEnd503: number;
  /** Times the front end held a push because the function's process was not listening (see soak-frontend.ts). */
  readonly frontEndHeld: number;
  /** For each Pub/Sub message with missing events: how often it was pushed and the last answer. */
  readonly missingPushes: readonly string[];
  /**
   * Missing events whose message the function acknowledged (2xx): lost by the product. The other missing events belong
   * to messages the function never acknowledged, which Pub/Sub owes a redelivery (the emulator sometimes stalls them).
   */
  readonly missingAcknowledged: readonly string[];
  /** Missing events whose message the function never acknowledged: Pub/Sub still owes them (not lost). */
  readonly owed: readonly string[];
  /** Of `owed`, those whose message Pub/Sub still pushes and the function still fails (fails the soak). */
  readonly owedFailing: readonly string[];
  /** Whether every event was accounted for before the deadline. */
  readonly quiet: boolean;
  readonly publishSeconds: number;
  readonly durationSeconds: number;
  readonly eventsPerSecond: number;
  /** No missing and no unexpected event. */
  readonly ok: boolean;
}

/** The one connector of the soak: a write key in the US region, email and campaign events, no anonymous users. */
export function soakEnvironment(projectId: string): Environment {
  const [env] = loadEnvironments([
    {
      name: 'soak',
      project: projectId,
      region: 'europe-west1',
      connectors: [
        {
          name: 'soak',
          displayName: 'Reliability soak',
          contactEmail: 'soak@example.com',
          workspace: 'soak-workspace',
          segment: { region: 'us', credential: { kind: 'writeKey' } },
          events: ['email', 'campaigns'],
        },
      ],
    },
  ]);
  return env!;
}

/** Default of SoakOptions.owedSeconds. */
const DEFAULT_OWED_SECONDS = 180;

/** The Segment-side fault mix, one rule per kind (each rule fires on its own; see FaultRule). */
export const SOAK_FAULTS: Readonly<Record<string, FaultRule>> = {
  '5xx (500/502/503)': { status: [500, 502, 503], probability: 0.08 },
  '429 with Retry-After 1 s': { status: 429, retryAfterSeconds: 1, probability: 0.04 },
  'connection closed before answering': { destroyConnection: true, probability: 0.03 },
  'connection closed after accepting': { destroyAfterAccept: true, probability: 0.03 },
  'slow answer (+2.5 s, over the delivery budget)': { latencyMs: 2500, probability: 0.03 },
};

export async function runSoak(options: SoakOptions = {}): Promise<SoakReport> {
  const s = soakSettings(options);
  const environment = soakEnvironment(s.projectId);
  const connector = environment.connectors[0]!;
  const input = soakInput(connector, { events: s.events, seed: s.seed, tag: `soak${s.seed}` });
  const pushes = countPushes(options.onLog);

  const started = Date.now();
  s.progress(
    `soak: ${input.events} events in ${input.messages.length} messages over ${s.seconds} s, ${s.kills} kill(s)`,
  );
  const stack = await startLocalStack({
    environment,
    emulators: options.emulators,
    projectId: s.projectId,
    deliveryBudgetMs: options.deliveryBudgetMs ?? 2000,
    // Small backoffs so that redeliveries happen within the soak; the ack deadline fits the short delivery budget as
    // production's (function timeout + 20 s) fits its own.
    provision: { minimumBackoffSeconds: 1, maximumBackoffSeconds: 5, maxDeliveryAttempts: 100, ackDeadlineSeconds: 15 },
    onLog: pushes.onLog,
  });
  options.onStack?.(stack);
  const cleanups: (() => Promise<unknown>)[] = [];
  const previousEnv = { host: process.env.PUBSUB_EMULATOR_HOST, project: process.env.GOOGLE_CLOUD_PROJECT };
  try {
    const rig = await rigSoak(stack, connector.name, input, SOAK_FAULTS, cleanups);
    try {
      const publishStart = Date.now();
      const killer = startKills(rig.local, { ...s, publishStart, random: prng(s.seed ^ 0x5eed) }, s.progress);
      const { sent, messageOf } = await publishPaced(rig, input, s.seconds, publishStart, s.progress);
      await killer.done;
      const publishSeconds = (Date.now() - publishStart) / 1000;
      s.progress(
        `soak: published ${sent} events in ${publishSeconds.toFixed(1)} s; waiting for the pipeline to go quiet`,
      );
      const quiet = await untilAccounted(rig, input, messageOf, s, s.progress);
      const run = { quiet, publishSeconds, started, kills: killer.counts, pushes: pushes.counts };
      return soakReport(rig, input, messageOf, run);
    } finally {
      await rig.closeClients();
    }
  } finally {
    restoreEnv('PUBSUB_EMULATOR_HOST', previousEnv.host);
    restoreEnv('GOOGLE_CLOUD_PROJECT', previousEnv.project);
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
    await stack.stop();
  }
}

/** SoakOptions with their defaults. */
function soakSettings(options: SoakOptions) {
  const seconds = options.seconds ?? 120;
  return {
    events: options.events ?? 20_000,
    seconds,
    kills: options.kills ?? 3,
    seed: options.seed ?? 1,
    drainSeconds: options.drainSeconds ?? Math.max(60, seconds),
    owedSeconds: options.owedSeconds ?? DEFAULT_OWED_SECONDS,
    progress: options.progress ?? (() => undefined),
    projectId: options.projectId ?? `soak-${randomBytes(4).toString('hex')}`,
  };
}

/** The report once the pipeline went quiet (or the wait ended): the reconciliation, the faults, the pushes, the pace. */
function soakReport(
  rig: SoakRig,
  input: SoakInput,
  messageOf: ReadonlyMap<string, string>,
  run: {
    quiet: boolean;
    publishSeconds: number;
    started: number;
    kills: { kills: number; restarts: number };
    pushes: { handled: number; redeliveryAsked: number };
  },
): SoakReport {
  const { server, frontEnd } = rig;
  const faults: Record<string, number> = {};
  for (const rule of server.faults.list()) faults[rig.kindOf.get(rule.id) ?? rule.id] = rule.fired;
  const result = reconcileNow(rig, input);
  // Where the missing events' messages were last seen (pushed how often, last answer), to tell an event Pub/Sub
  // still owes from one the product lost.
  const o = owingNow(rig, result.missing, messageOf);
  const durationSeconds = (Date.now() - run.started) / 1000;
  return {
    ...result,
    published: input.events,
    messages: input.messages.length,
    kills: run.kills.kills,
    restarts: run.kills.restarts,
    faults,
    requestsByStatus: { ...server.stats().requestsByStatus },
    pushesHandled: run.pushes.handled,
    pushesRedeliveryAsked: run.pushes.redeliveryAsked,
    frontEnd503: frontEnd.unavailable(),
    frontEndHeld: frontEnd.held(),
    missingPushes: o.messages,
    missingAcknowledged: o.lost,
    owed: o.owed,
    owedFailing: o.owedFailing,
    quiet: run.quiet,
    publishSeconds: run.publishSeconds,
    durationSeconds,
    eventsPerSecond: input.events / durationSeconds,
    ok: o.lost.length === 0 && o.owedFailing.length === 0 && result.unexpected.length === 0,
  };
}

function restoreEnv(name: string, value: string | undefined): void {
  if (value === undefined) delete process.env[name];
  else process.env[name] = value;
}

/** `npm run soak`'s surface: its options, help and examples (common/args.ts). */
export const SOAK: CommandSpec<{
  events?: string;
  seconds?: string;
  kills?: string;
  seed?: string;
  drainSeconds?: string;
  owedSeconds?: string;
}> = {
  name: 'npm run soak --',
  summary: 'a bounded fault soak of the whole local path',
  description:
    'A bounded fault soak of the whole local path (Pub/Sub emulator → push → the function → the local Segment ' +
    'server): a seeded mix of events is published while Segment answers faults and the function process is killed ' +
    'and restarted; then every event is reconciled with its outcome. Exit 1 on any missing or unexpected event.',
  options: [
    { flags: '--events <N>', description: 'events to publish (default 20000)' },
    { flags: '--seconds <S>', description: 'seconds over which they are published (default 120)' },
    { flags: '--kills <K>', description: 'times the function process is killed and restarted (default 3)' },
    { flags: '--seed <N>', description: "seed of the input mix, the kill times and Segment's faults (default 1)" },
    { flags: '--drain-seconds <S>', description: 'after publishing, the longest wait for the pipeline to go quiet' },
    {
      flags: '--owed-seconds <S>',
      description: 'then, while every missing event is still owed by Pub/Sub, the longest further wait (default 180)',
    },
  ],
  examples: ['npm run soak', 'npm run soak -- --events 5000 --seconds 60 --kills 2 --seed 7'],
};

/** The soak's options as numbers (only those given). Throws UsageError (or HelpRequested). */
export function parseSoakArgs(argv: readonly string[]): SoakOptions {
  const { values } = parse(SOAK, argv);
  const out: Record<string, number> = {};
  for (const [key, text] of Object.entries(values)) {
    if (text === undefined) continue;
    const value = Number(text);
    const flag = `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
    if (text.trim() === '' || !Number.isInteger(value) || value < 0) {
      throw new UsageError(`${flag} needs a whole number ≥ 0`);
    }
    out[key] = value;
  }
  if (out.events === 0) throw new UsageError('--events must be at least 1');
  if (out.seconds === 0) throw new UsageError('--seconds must be at least 1');
  return out;
}

async function main(): Promise<number> {
  dropLibraryWarnings();
  localGoogleClients();
  const options = parseOrExit('soak', 'npm run soak -- --help', () => parseSoakArgs(process.argv.slice(2)));
  const emulators = await startEmulators({ projectId: 'currents-soak' });
  // This process's own Google clients: no metadata-server probing (there is none here).
  process.env.METADATA_SERVER_DETECTION = 'none';
  const pids = [emulators.pubsub.pid, emulators.firestore.pid];
  let stack: LocalStack | undefined;
  process.once('exit', () => killEmulatorGroupsSync(pids));
  // SIGINT, SIGTERM or SIGHUP: the stack, then the emulators (local/shutdown.ts).
  stopOnSignals(
    async () => {
      await Promise.race([stack?.stop(), sleep(5000)]);
      await emulators.stop();
    },
    { say: (line) => console.error(line) },
  );
  try {
    const report = await runSoak({
      ...options,
      emulators,
      progress: (line) => console.error(line),
      onStack: (s) => (stack = s),
    });
    console.log(formatSoakReport(report));
    return report.ok ? 0 : 1;
  } finally {
    await emulators.stop();
  }
}

if (require.main === module) {
  main().then(
    (code) => process.exit(code),
    (err: unknown) => {
      console.error(`soak: ${(err as Error)?.stack ?? String(err)}`);
      process.exit(1);
    },
  );
}
