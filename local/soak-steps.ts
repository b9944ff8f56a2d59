/**
 * The steps of the fault soak (local/soak.ts, runSoak): the rig around the function (the front end Pub/Sub pushes
 * through, the Segment server's faults, the dead-letter drain), the kills, the paced publishing, and the wait until
 * every event has its outcome.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { acknowledge, createClients, leaseAll, type DeadLetterView } from '../cli/ops/dead-letter-queue';
import type { LocalConnector } from './connector-runner';
import type { FaultRule, LocalSegmentServer } from './segment-server';
import type { SoakInput } from './soak-events';
import { startSoakFrontEnd, type SoakFrontEnd } from './soak-frontend';
import { owing, reconcile, type Owing, type Reconciliation } from './soak-reconcile';
import type { LocalStack } from './stack';

/** A message not pushed for this long is no longer being retried (the push backoff is at most 5 s, the ack deadline 15 s). */
const STALL_MS = 30_000;

/** The function's pushes, counted from its batch_done log lines: handled, and answered with a request to redeliver. */
export function countPushes(onLine?: (line: string) => void) {
  const counts = { handled: 0, redeliveryAsked: 0 };
  const onLog = (_connector: string, line: string) => {
    onLine?.(line);
    if (!line.includes('"batch_done"')) return;
    try {
      const entry = JSON.parse(line) as { event?: string; counts?: { retryLater?: number } };
      if (entry.event !== 'batch_done') return;
      if (entry.counts?.retryLater) counts.redeliveryAsked++;
      else counts.handled++;
    } catch {
      /* not a JSON line */
    }
  };
  return { counts, onLog };
}

/** What the soak runs against: the connector, its Segment server (faults on), the front end, the dead letters. */
export interface SoakRig {
  readonly local: LocalConnector;
  readonly server: LocalSegmentServer;
  readonly frontEnd: SoakFrontEnd;
  /** The kind (a key of the fault mix) of each fault rule id. */
  readonly kindOf: ReadonlyMap<string, string>;
  /** Every dead letter drained so far. */
  readonly letters: readonly DeadLetterView[];
  /** Leases, acknowledges and keeps every dead letter now in the dead-letter subscription. */
  drainDeadLetters(): Promise<void>;
  /** Closes the dead-letter clients. */
  closeClients(): Promise<void>;
}

/**
 * Sets the soak up on the stack: the Segment server refuses `input.rejectIds` and answers the fault mix, Pub/Sub pushes
 * through a stand-in for Cloud Run's front end (closed by the cleanup pushed onto `cleanups`), and the dead-letter
 * tools read the emulator's host and the project from the environment (set here; the caller restores it).
 */
export async function rigSoak(
  stack: LocalStack,
  connectorName: string,
  input: SoakInput,
  faults: Readonly<Record<string, FaultRule>>,
  cleanups: (() => Promise<unknown>)[],
): Promise<SoakRig> {
  const local = stack.connector(connectorName);
  const server = stack.servers[local.connector.segment.region];
  server.faults.rejectMessageIds(input.rejectIds);
  // Pub/Sub pushes through a stand-in for Cloud Run's front end (see soak-frontend.ts for why).
  const frontEnd = await startSoakFrontEnd(local.host.url);
  cleanups.push(() => frontEnd.close());
  await stack.pubsub
    .subscription(local.names.pushSubscription)
    .modifyPushConfig({ pushEndpoint: `${frontEnd.url}/${new URL(local.host.pushEndpoint).search}` });
  const kindOf = new Map<string, string>();
  for (const [kind, rule] of Object.entries(faults)) kindOf.set(server.faults.add(rule), kind);

  process.env.PUBSUB_EMULATOR_HOST = stack.emulators.env.PUBSUB_EMULATOR_HOST;
  process.env.GOOGLE_CLOUD_PROJECT = stack.projectId;
  const clients = await createClients();
  const dlq = `projects/${stack.projectId}/subscriptions/${local.names.deadLetterSubscription}`;
  const letters: DeadLetterView[] = [];
  return {
    local,
    server,
    frontEnd,
    kindOf,
    letters,
    async drainDeadLetters() {
      const got = await leaseAll(clients.subscriber, dlq, { max: 5000 });
      await acknowledge(clients.subscriber, dlq, got);
      letters.push(...got);
    },
    async closeClients() {
      await Promise.allSettled([clients.subscriber.close(), clients.publisher.close()]);
    },
  };
}

/** The reconciliation now: every event published against what Segment accepted and the dead letters drained. */
export function reconcileNow(rig: SoakRig, input: SoakInput): Reconciliation {
  return reconcile({ ...input, accepted: rig.server.accepted(), letters: rig.letters });
}

/** Which missing events Pub/Sub still owes, and which the product lost, as of now (soak-reconcile.ts, owing). */
export function owingNow(rig: SoakRig, missing: readonly string[], messageOf: ReadonlyMap<string, string>): Owing {
  return owing(missing, messageOf, rig.frontEnd.pushes(), Date.now(), STALL_MS);
}

/**
 * Kills the function at random moments of the publishing window (10%..90% of `seconds` from `publishStart`), each
 * followed by a restart after 0.3–2 s. `done` ends after the last restart.
 */
export function startKills(
  local: LocalConnector,
  plan: { kills: number; seconds: number; publishStart: number; random: () => number },
  progress: (line: string) => void,
): { done: Promise<void>; counts: { kills: number; restarts: number } } {
  const { kills, seconds, publishStart, random } = plan;
  const counts = { kills: 0, restarts: 0 };
  const killAt = Array.from({ length: kills }, () => (0.1 + 0.8 * random()) * seconds * 1000).sort((a, b) => a - b);
  const done = (async () => {
    for (const at of killAt) {
      const wait = publishStart + at - Date.now();
      if (wait > 0) await sleep(wait);
      await local.host.kill();
      counts.kills++;
      progress(`soak: killed the function (${counts.kills}/${kills})`);
      await sleep(300 + Math.floor(random() * 1700));
      await local.host.restart();
      counts.restarts++;
    }
  })();
  return { done, counts };
}

/** Publishes the input, paced evenly over `seconds` from `publishStart`; returns the Pub/Sub message of each event id. */
export async function publishPaced(
  rig: SoakRig,
  input: SoakInput,
  seconds: number,
  publishStart: number,
  progress: (line: string) => void,
): Promise<{ sent: number; messageOf: Map<string, string> }> {
  let sent = 0;
  const messageOf = new Map<string, string>();
  let lastProgress = Date.now();
  for (const m of input.messages) {
    const wait = publishStart + (seconds * 1000 * sent) / input.events - Date.now();
    if (wait > 0) await sleep(wait);
    const pubsubId = await rig.local.publish(m.data);
    for (const id of m.ids.length ? m.ids : [m.garbageMarker!]) messageOf.set(id, pubsubId);
    sent += Math.max(1, m.ids.length);
    if (Date.now() - lastProgress > 10_000) {
      lastProgress = Date.now();
      progress(`soak: published ${sent}/${input.events}, accepted ${rig.server.stats().acceptedUnique}`);
    }
  }
  return { sent, messageOf };
}

/**
 * Waits until every event has its outcome, or the deadline (`drainSeconds`); past it, as long as every missing event
 * is still owed by Pub/Sub (its message never acknowledged), up to `owedSeconds` more. Then gives late arrivals a
 * moment and drains the dead letters once more. Resolves with whether every event got its outcome in time.
 */
export async function untilAccounted(
  rig: SoakRig,
  input: SoakInput,
  messageOf: ReadonlyMap<string, string>,
  limits: { drainSeconds: number; owedSeconds: number },
  progress: (line: string) => void,
): Promise<boolean> {
  const deadline = Date.now() + limits.drainSeconds * 1000;
  const owedDeadline = deadline + limits.owedSeconds * 1000;
  let quiet = false;
  for (let said = 0; ;) {
    await rig.drainDeadLetters();
    const now = reconcileNow(rig, input);
    if (now.missing.length === 0) {
      quiet = true;
      break;
    }
    const t = Date.now();
    const o = owing(now.missing, messageOf, rig.frontEnd.pushes(), t, STALL_MS);
    if (t >= owedDeadline || (t >= deadline && o.lost.length > 0)) break;
    if (t >= deadline && t - said > 10_000) {
      said = t;
      progress(`soak: ${o.owed.length} event(s) still owed by Pub/Sub; waiting (at most ${limits.owedSeconds} s more)`);
    }
    await sleep(1000);
  }
  await sleep(3000);
  await rig.drainDeadLetters();
  return quiet;
}
