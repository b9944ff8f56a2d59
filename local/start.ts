/**
 * `npm start [-- --env dev --events 1000 --rate 0 --keep-running --scenario credential-failure|write-key-rotated]`
 * (`npm start -- --help` lists every option, START below).
 *
 * The product end to end on this machine, with no Google Cloud account: the Pub/Sub and Firestore emulators, a local
 * Segment server per region, and every connector of the environment created on the emulators exactly as the
 * infrastructure declares it (same names, same subscription policy, from the same code), each function served by
 * functions-framework. It publishes a realistic sample feed, shows progress, and ends with a table per connector that
 * reconciles what was published with what the pipeline did. Exit code 0 only when every connector reconciles.
 *
 * Scenarios use failures a deployed connector really sees (Segment answers 200 to a bad write key, so revoking one on
 * the Tracking API would show nothing): `credential-failure` removes the first connector's secret, then puts it back;
 * `write-key-rotated` rotates the write key of the first write-key connector's Segment source, waits for the probe's
 * source check to see it, publishes (the events are parked), then puts the new key into the secret.
 */
import { randomUUID } from 'node:crypto';
import { addCounts } from '../runtime/core/counts';
import { selectedTypes } from '../shared/connector';
import { otherRegions, REGIONS } from '../shared/regions';
import { loadEnvironmentsOrThrow, pick } from '../common/definitions';
import { table } from '../common/table';
import { LOCAL_DEFINITIONS } from './definitions';
import {
  newDoorView,
  noteDoorRequest,
  printDoors,
  summarizeDoor,
  type DoorSummary,
  type DoorView,
} from './door-summary';
import { createClients, leaseAll, acknowledge } from '../cli/ops/dead-letter-queue';
import { sendLikeBraze } from './braze';
import { brazeFeed, buildFeed, intentCounts, type FeedEvent, type FeedMessage, type Intent } from './feed';
import type { Emulators } from './emulators';
import type { LocalConnector } from './connector-runner';
import { startLocalStack, type LocalStack } from './stack';
import { setTimeout as sleep } from 'node:timers/promises';
import { storageMain, takeSource } from './storage-run';
import { localGoogleClients } from '../common/google-clients';
import { parse, parseOrExit, UsageError, type CommandSpec } from '../common/args';
import { dropLibraryWarnings } from '../common/library-warnings';
import {
  describeOutcome,
  inReasonOrder,
  logEntry,
  LogTap,
  newDuplicates,
  outcomeJson,
  watchOutcomes,
} from './outcomes';
import { stopOnSignals } from './shutdown';

export const SCENARIOS = ['credential-failure', 'write-key-rotated'] as const;
export type Scenario = (typeof SCENARIOS)[number];

interface Options {
  env: string;
  events: number;
  rate: number;
  keepRunning: boolean;
  /** With keepRunning: stdout carries only JSON lines (the ready object, then each accepted event); the rest → stderr. */
  json: boolean;
  /** How the feed gets in: POSTed by the local Braze to each workspace's door (default), or published to the topics. */
  via: 'receiver' | 'topic';
  scenario?: Scenario;
  definitions?: string;
  timeoutSeconds: number;
  /** Reuse running emulators under this project id (tests); by default they are started and stopped here. */
  emulators?: Emulators;
  projectId?: string;
  /** Where progress and the summary go (tests capture it). */
  out: (line: string) => void;
  /** Rewrite one progress line in place (a TTY) or print plain lines. */
  tty: boolean;
}

export interface ConnectorSummary {
  connector: string;
  region: string;
  published: number;
  delivered: number;
  deliveredToOtherRegion: number;
  /** Its events that Segment accepted from another connector's credential (none: each went where it belongs). */
  deliveredByOther: number;
  /** Receipts of its events beyond the first (none: nothing was delivered twice). */
  duplicates: number;
  skipped: Record<string, number>;
  deadLettered: Record<string, number>;
  parked: number;
  dropped: number;
  expected: Record<Intent, number>;
  /** The Braze workspace whose door its events came through (runs through the doors). */
  workspace?: string;
  reconciled: boolean;
  problems: string[];
}

interface LogCounts {
  skipped: Record<string, number>;
  parked: number;
  dropped: number;
  deadLettered: number;
}

/** `npm start`'s surface: its options, help and examples (common/args.ts). `--source` is taken out first (takeSource). */
export const START: CommandSpec<{
  env: string;
  events: string;
  rate: string;
  keepRunning: boolean;
  scenario?: string;
  definitions?: string;
  timeout: string;
  via: string;
  json: boolean;
}> = {
  name: 'npm start --',
  summary: 'the product end to end on this machine',
  description:
    'The product end to end on this machine, with no Google Cloud account: the Pub/Sub and Firestore emulators, a ' +
    'local Segment server per region, every connector of the environment and the door of each Braze workspace, fed ' +
    'one sample Braze feed per workspace. Ends with a table per door and per connector that reconciles what was sent ' +
    'with what the pipeline did (exit 0 only when everything reconciles), or with --keep-running stays up for you to ' +
    'send events yourself.',
  options: [
    { flags: '--env <NAME>', description: 'the environment whose connectors to run', default: 'dev' },
    { flags: '--events <N>', description: 'events in the sample feed', default: '1000' },
    { flags: '--rate <EVENTS_PER_SEC>', description: 'pace of the feed (0: as fast as possible)', default: '0' },
    {
      flags: '--keep-running',
      description: 'after the summary, keep everything up and show the events you publish',
      default: false,
    },
    { flags: '--json', description: 'with --keep-running: JSON lines on stdout, for scripts', default: false },
    {
      flags: '--scenario <NAME>',
      description: `a failure to play: ${SCENARIOS.join(', ')}, or backfill (through the storage export)`,
    },
    { flags: '--source <http|storage>', description: "how events get in: Braze's HTTP export, or its storage export" },
    {
      flags: '--via <receiver|topic>',
      description: "post to each workspace's door (Braze's way) or publish to each connector's topic",
      default: 'receiver',
    },
    {
      flags: '--definitions <PATH>',
      description: "the connector definitions module (default: local/definitions.ts; 'connectors' runs yours)",
    },
    { flags: '--timeout <SECONDS>', description: 'how long to wait for the pipeline to settle', default: '120' },
  ],
  examples: [
    'npm start',
    'npm start -- --keep-running',
    'npm start -- --events 20000 --rate 500',
    'npm start -- --scenario credential-failure',
    'npm start -- --source storage',
  ],
};

/** `npm start`'s options (without `--source`, taken out by takeSource). Throws UsageError (or HelpRequested). */
export function parseOptions(argv: string[]): Omit<Options, 'out' | 'tty'> {
  const { values } = parse(START, argv);
  const events = Number(values.events);
  const rate = Number(values.rate);
  const timeoutSeconds = Number(values.timeout);
  if (!Number.isInteger(events) || events < 1) throw new UsageError('--events must be a whole number ≥ 1');
  if (!(rate >= 0)) throw new UsageError('--rate must be events per second (0 = as fast as possible)');
  if (!(timeoutSeconds > 0)) throw new UsageError('--timeout must be a number of seconds');
  if (values.scenario !== undefined && !(SCENARIOS as readonly string[]).includes(values.scenario)) {
    throw new UsageError(`unknown --scenario '${values.scenario}' (known: ${SCENARIOS.join(', ')})`);
  }
  if (values.json && !values.keepRunning) throw new UsageError('--json goes with --keep-running');
  if (values.via !== 'receiver' && values.via !== 'topic') {
    throw new UsageError(`--via must be receiver or topic (got '${values.via}')`);
  }
  return {
    env: values.env,
    events,
    rate,
    via: values.via,
    keepRunning: values.keepRunning,
    json: values.json,
    scenario: values.scenario as Scenario | undefined,
    definitions: values.definitions,
    timeoutSeconds,
  };
}

/** Runs the local end-to-end job; resolves with the per-connector summaries (the stack is stopped unless kept). */
export async function runLocal(
  options: Options,
): Promise<{ summaries: ConnectorSummary[]; doors: DoorSummary[]; stack?: LocalStack; logs: LogTap }> {
  const { out } = options;
  const environments = loadEnvironmentsOrThrow(options.definitions ?? LOCAL_DEFINITIONS);
  const { environment, connectors } = pick(environments, options.env);
  out(
    `Environment '${environment.name}': ${connectors.length} connector(s); starting the emulators, a Segment server per region and the functions…`,
  );
  // Per Pub/Sub message id: the latest batch_done of each connector (redeliveries replace, never add).
  const batches = new Map<string, Map<string, LogCounts>>(connectors.map((c) => [c.name, new Map()]));
  const drained = new Map<string, number>();
  const doorViews = new Map<string, DoorView>();
  const doorLabel = (workspace: string) =>
    connectors.filter((c) => c.workspace === workspace).sort((a, b) => a.name.localeCompare(b.name))[0]?.name ??
    workspace;
  const stateLines: string[] = [];
  /** `connector:status` of every state a connector moved to (the scenarios wait on them). */
  const reached = new Set<string>();
  /** Every log line, for the watch of `--keep-running` (local/outcomes.ts). */
  const logs = new LogTap();
  const onLog = (connector: string, line: string) => {
    logs.emit(connector, line);
    const entry = logEntry(line);
    if (!entry) return;
    if (entry.event === 'batch_done' && typeof entry.pubsubMessageId === 'string') {
      const c = entry.counts as Record<string, number>;
      batches.get(connector)!.set(entry.pubsubMessageId, {
        skipped: (entry.skipped as Record<string, number>) ?? {},
        parked: c.parked ?? 0,
        dropped: c.dropped ?? 0,
        deadLettered: c.deadLettered ?? 0,
      });
    } else if (entry.event === 'state_change') {
      reached.add(`${connector}:${String(entry.to)}`);
      const text = `[${connector}] state ${entry.from} → ${entry.to}: ${entry.message}`;
      stateLines.push(text);
      out(text);
    } else if (entry.event === 'probe' && typeof entry.drainedEvents === 'number' && entry.drainedEvents > 0) {
      drained.set(connector, (drained.get(connector) ?? 0) + entry.drainedEvents);
      out(`[${connector}] probe: drained ${entry.drainedEvents} parked event(s)`);
    }
  };
  const started = Date.now();
  const stack = await startLocalStack({
    environment,
    connectors,
    testClock: options.scenario === 'credential-failure',
    receivers: options.via === 'receiver',
    emulators: options.emulators,
    projectId: options.projectId,
    onLog,
    onDoorLog: (workspace, line) => {
      // Outcomes name a connector: the door's lines go under the first connector of its workspace (and its name).
      logs.emit(doorLabel(workspace), line);
      const entry = logEntry(line);
      if (!doorViews.has(workspace)) doorViews.set(workspace, newDoorView());
      if (entry) noteDoorRequest(doorViews.get(workspace)!, entry);
    },
  });
  // The operator clients below (dead-letter reads) find the emulators the way every Google client does.
  Object.assign(process.env, stack.emulators.env);
  // SIGINT, SIGTERM or SIGHUP stops everything the stack started (local/shutdown.ts); tests own their emulators.
  let stopProbing = async (): Promise<void> => undefined;
  const stopAll = async () => {
    await stopProbing();
    await stack.stop();
  };
  const unguard = options.emulators ? () => undefined : stopOnSignals(stopAll, { say: out });
  try {
    out(`Ready in ${((Date.now() - started) / 1000).toFixed(1)} s:`);
    out(
      table(
        ['connector', 'region', 'ingest topic', 'function'],
        stack.connectors.map((l) => [l.connector.name, l.connector.segment.region, l.names.ingestTopic, l.host.url]),
      ),
    );
    // Each workspace's Braze feed (through its door), or each connector's feed (to its topic), and what each event is
    // meant to become and which connector is meant to handle it, for the reconciliation.
    const door = options.via === 'receiver';
    const doorFeeds = new Map<string, { bodies: readonly unknown[]; events: readonly FeedEvent[] }>(
      stack.doors.map((d, i) => [d.workspace, brazeFeed(d.door.connectors, { events: options.events, seed: i + 1 })]),
    );
    const feeds = new Map<
      string,
      { messages: readonly FeedMessage[]; expected: readonly { id: string; intent: Intent }[] }
    >(
      connectors.map((c, i) => {
        if (door) {
          const events = doorFeeds.get(c.workspace)!.events.filter((e) => e.connector === c.name);
          return [c.name, { messages: [], expected: events }];
        }
        const messages = buildFeed(c, { events: options.events, seed: i + 1 });
        return [c.name, { messages, expected: messages.flatMap((m) => m.events) }];
      }),
    );
    const expectations = new Map([...feeds].map(([name, f]) => [name, f.expected]));
    const scenario = options.scenario ? startScenario(options.scenario, stack, out) : undefined;
    const failing = scenario?.local;

    // The scheduler's job, locally: probe every connector every few seconds (Cloud Scheduler does it every 3 minutes);
    // with --keep-running it goes on (parked events are drained once the credential works), until the stack stops.
    let probing = true;
    const prober = (async () => {
      while (probing) {
        await sleep(1500);
        if (!probing) break;
        await Promise.all(stack.connectors.map((l) => l.probe().catch(() => undefined)));
      }
    })();
    stopProbing = async () => {
      probing = false;
      await prober;
    };
    if (options.scenario === 'write-key-rotated' && failing) {
      // Publish only once the probe has seen it: events sent before would be answered 200 and discarded by Segment.
      const seenBy = Date.now() + options.timeoutSeconds * 1000;
      while (!reached.has(`${failing.connector.name}:failing`) && Date.now() < seenBy) await sleep(100);
      out(`[${failing.connector.name}] the probe's source check saw the rotation; events are parked from now on.`);
    }

    // Send, paced by --rate: through each workspace's door (the local Braze) or straight to each connector's topic.
    const total = door
      ? [...doorFeeds.values()].reduce((n, f) => n + f.events.length, 0)
      : [...expectations.values()].reduce((n, e) => n + e.length, 0);
    let published = 0;
    const publishStart = Date.now();
    const progress = () => {
      const s = summarize(stack, { expectations, batches, drained });
      const delivered = s.reduce((n, x) => n + x.delivered, 0);
      const skipped = s.reduce((n, x) => n + sumOf(x.skipped), 0);
      const dl = s.reduce((n, x) => n + sumOf(x.deadLettered), 0);
      const parked = s.reduce((n, x) => n + x.parked, 0);
      return `published ${published}/${total} · delivered ${delivered} · skipped ${skipped} · dead-lettered ${dl} · parked ${parked}`;
    };
    let lastPlain = 0;
    const show = (force = false) => {
      if (options.tty) process.stdout.write(`\r${progress()}   `);
      else if (force || Date.now() - lastPlain > 1000) {
        lastPlain = Date.now();
        out(progress());
      }
    };
    if (door) {
      const reports = await Promise.all(
        stack.doors.map((d) =>
          sendLikeBraze(doorFeeds.get(d.workspace)!.bodies, {
            url: d.url,
            token: d.token,
            rate: options.rate > 0 ? options.rate / stack.doors.length : 0,
            backoff: { initialMs: 250, maxMs: 5000 },
            giveUpAfterMs: options.timeoutSeconds * 1000,
            onRequest: (r) => {
              if (r.status === 200) published += r.events.length;
              show();
            },
          }),
        ),
      );
      for (const [i, r] of reports.entries()) {
        if (r.notDelivered.length) {
          out(
            `\n[${stack.doors[i]!.workspace}] Braze could not deliver ${r.notDelivered.length} event(s): ${r.notDelivered[0]!.why}`,
          );
        }
      }
    } else {
      const queues = stack.connectors.map((l) => ({ local: l, messages: [...feeds.get(l.connector.name)!.messages] }));
      const inflight: Promise<unknown>[] = [];
      while (queues.some((q) => q.messages.length)) {
        for (const q of queues) {
          const msg = q.messages.shift();
          if (!msg) continue;
          inflight.push(q.local.publish(msg.data, msg.attributes));
          published += msg.events.length;
          if (options.rate > 0) {
            const due = publishStart + (published / options.rate) * 1000;
            if (due > Date.now()) await sleep(due - Date.now());
          }
          show();
        }
        if (inflight.length > 200) await Promise.all(inflight.splice(0));
      }
      await Promise.all(inflight);
    }
    show(true);

    // Wait for the pipeline to go quiet: every connector reconciled (dead letters are read at the end), or the deadline.
    const deadline = Date.now() + options.timeoutSeconds * 1000;
    let restored = false;
    for (;;) {
      const summaries = summarize(stack, { expectations, batches, drained });
      if (failing && !restored) {
        const s = summaries.find((x) => x.connector === failing.connector.name)!;
        const handled = s.parked + s.delivered + sumOf(s.skipped) + sumOf(s.deadLettered) >= s.published;
        if (handled) {
          out(`\n[${failing.connector.name}] ${s.parked} event(s) parked in Firestore; ${scenario!.fixWhat}.`);
          scenario!.fix();
          restored = true;
        }
      } else if (summaries.every((s) => s.delivered === (s.expected.delivered ?? 0) && s.parked === 0 && quiet(s))) {
        break;
      }
      if (Date.now() > deadline) {
        out(`\nTimed out after ${options.timeoutSeconds} s waiting for the pipeline to go quiet.`);
        break;
      }
      show();
      await sleep(200);
    }
    if (!options.keepRunning) await stopProbing();
    show(true); // the last progress line says what the summary says
    if (options.tty) process.stdout.write('\n');

    // Dead letters, read from each connector's hold subscription (ground truth, keyed by event id).
    const clients = await createClients();
    const deadLetters = new Map<string, Record<string, number>>();
    for (const l of stack.connectors) {
      const sub = `projects/${stack.projectId}/subscriptions/${l.names.deadLetterSubscription}`;
      const letters = await leaseAll(clients.subscriber, sub, { leaseSeconds: 60 });
      const byReason: Record<string, number> = {};
      for (const d of letters) byReason[d.reason] = (byReason[d.reason] ?? 0) + 1;
      deadLetters.set(l.connector.name, byReason);
      if (!options.keepRunning) await acknowledge(clients.subscriber, sub, letters);
    }
    await Promise.allSettled([clients.subscriber.close(), clients.publisher.close()]);
    const summaries = summarize(stack, { expectations, batches, drained, deadLetters });
    const doors = stack.doors.map((d) =>
      summarizeDoor(
        d.workspace,
        d.door.connectors.map((c) => c.name),
        doorFeeds.get(d.workspace)!.events,
        doorViews.get(d.workspace) ?? newDoorView(),
      ),
    );
    printSummary(summaries, doors, out, (Date.now() - publishStart) / 1000);
    if (stateLines.length) out(`\nState changes:\n  ${stateLines.join('\n  ')}`);
    for (const region of REGIONS) {
      const discarded = sumOf(stack.servers[region].stats().discarded);
      if (discarded || options.scenario === 'write-key-rotated') {
        out(`Segment (${region}) discarded ${discarded} event(s) sent with a write key it does not take.`);
      }
    }
    if (options.keepRunning) {
      printEndpoints(stack, out);
      return { summaries, doors, stack: { ...stack, stop: stopAll }, logs };
    }
    await stack.stop();
    return { summaries, doors, logs };
  } catch (err) {
    await stopAll();
    throw err;
  } finally {
    if (!options.keepRunning) unguard();
  }
}

/**
 * Breaks a credential the way a deployed connector sees it break, and says how to fix it:
 *  - `credential-failure`: the first connector's secret is removed (a secret version disabled or destroyed), then put back;
 *  - `write-key-rotated`: the write key of the first write-key connector with a source check is rotated in its Segment
 *    source (the old key's batches would be answered 200 and discarded), then the new key is put into the secret.
 */
function startScenario(
  scenario: Scenario,
  stack: LocalStack,
  out: (l: string) => void,
): { local: LocalConnector; fix: () => void; fixWhat: string } {
  if (scenario === 'credential-failure') {
    const local = stack.connectors[0]!;
    out(`\nScenario credential-failure: the secret of '${local.connector.name}' is removed now (no enabled version).`);
    local.setSecret(undefined);
    const value = stack.credentials.get(local.connector.name)!.secretValue;
    return { local, fix: () => local.setSecret(value), fixWhat: 'the credential is put back into the secret now' };
  }
  const local = stack.connectors.find(
    (l) => l.connector.segment.credential.kind === 'writeKey' && l.connector.segment.sourceId !== undefined,
  );
  if (!local) {
    throw new Error(
      `--scenario write-key-rotated needs a write-key connector with segment.sourceId in environment '${stack.environment.name}'`,
    );
  }
  const { region, sourceId } = local.connector.segment;
  const newKey = stack.servers[region].sources.rotateWriteKey(sourceId!);
  out(
    `\nScenario write-key-rotated: the write key of Segment source ${sourceId} ('${local.connector.name}', ${region}) is rotated now; the Tracking API would answer 200 to the old key and discard its events.`,
  );
  return {
    local,
    fix: () => local.setSecret(newKey),
    fixWhat: "the source's new write key is put into the secret now",
  };
}

function sumOf(r: Record<string, number>): number {
  return Object.values(r).reduce((a, b) => a + b, 0);
}

function quiet(s: ConnectorSummary): boolean {
  return (
    s.delivered + sumOf(s.skipped) + sumOf(s.deadLettered) + s.parked + s.dropped >= s.published &&
    sumOf(s.skipped) === sumOf(pickSkipped(s.expected))
  );
}

function pickSkipped(expected: Record<Intent, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(expected)) if (k.startsWith('skipped:')) out[k.slice(8)] = v;
  return out;
}

interface Seen {
  expectations: Map<string, readonly { id: string; intent: Intent }[]>;
  batches: Map<string, Map<string, LogCounts>>;
  drained: Map<string, number>;
  deadLetters?: Map<string, Record<string, number>>;
}

function summarize(stack: LocalStack, seen: Seen): ConnectorSummary[] {
  const { expectations, batches, drained, deadLetters } = seen;
  return stack.connectors.map((l) => {
    const name = l.connector.name;
    const region = l.connector.segment.region;
    const others = otherRegions(region);
    const feed = expectations.get(name)!;
    const expected = intentCounts(feed);
    const published = feed.length;
    const ids = new Set(feed.map((e) => e.id));
    const mine = stack.servers[region].accepted().filter((e) => ids.has(e.messageId));
    const source = stack.segmentSource(name);
    const delivered = mine.filter((e) => e.source === source).length;
    const deliveredByOther = mine.length - delivered;
    const duplicates = mine.reduce((n, e) => n + e.receipts - 1, 0);
    const deliveredToOtherRegion = others.reduce(
      (n, r) => n + stack.servers[r].accepted().filter((e) => ids.has(e.messageId)).length,
      0,
    );
    const skipped: Record<string, number> = {};
    let parked = 0;
    let dropped = 0;
    let logDeadLettered = 0;
    for (const b of batches.get(name)!.values()) {
      addCounts(skipped, b.skipped);
      parked += b.parked;
      dropped += b.dropped;
      logDeadLettered += b.deadLettered;
    }
    parked = Math.max(0, parked - (drained.get(name) ?? 0));
    const dl = deadLetters?.get(name) ?? (logDeadLettered ? { invalid: logDeadLettered } : {});
    const problems: string[] = [];
    if (delivered !== (expected.delivered ?? 0)) {
      problems.push(`delivered ${delivered}, expected ${expected.delivered ?? 0}`);
    }
    if (deliveredToOtherRegion)
      problems.push(`${deliveredToOtherRegion} event(s) reached the ${others.join(' or ')} server`);
    if (deliveredByOther) problems.push(`${deliveredByOther} event(s) delivered by another connector's credential`);
    if (duplicates) problems.push(`${duplicates} event(s) delivered twice`);
    const expectedSkipped = pickSkipped(expected);
    for (const [reason] of inReasonOrder({ ...expectedSkipped, ...skipped })) {
      if ((skipped[reason] ?? 0) !== (expectedSkipped[reason] ?? 0)) {
        problems.push(`skipped ${reason} ${skipped[reason] ?? 0}, expected ${expectedSkipped[reason] ?? 0}`);
      }
    }
    if ((dl.invalid ?? 0) !== (expected['dead_letter:invalid'] ?? 0)) {
      problems.push(`dead-lettered invalid ${dl.invalid ?? 0}, expected ${expected['dead_letter:invalid'] ?? 0}`);
    }
    if (parked) problems.push(`${parked} event(s) still parked`);
    if (dropped) problems.push(`${dropped} event(s) dropped`);
    const accounted = delivered + sumOf(skipped) + sumOf(dl) + parked + dropped;
    if (accounted !== published) problems.push(`accounted for ${accounted} of ${published} published`);
    return {
      connector: name,
      region,
      published,
      delivered,
      deliveredToOtherRegion,
      deliveredByOther,
      duplicates,
      skipped: inOrder(skipped),
      deadLettered: dl,
      parked,
      dropped,
      expected,
      ...(l.receiver ? { workspace: l.connector.workspace } : {}),
      reconciled: problems.length === 0,
      problems,
    };
  });
}

/** A count map by reason with its keys in the fixed reason order (so that summaries print the same way every run). */
const inOrder = (r: Record<string, number>) => Object.fromEntries(inReasonOrder(r));

const fmt = (r: Record<string, number>) =>
  inReasonOrder(r)
    .filter(([, v]) => v)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ') || '0';

function printSummary(
  summaries: ConnectorSummary[],
  doors: readonly DoorSummary[],
  out: (l: string) => void,
  seconds: number,
) {
  out('');
  const door = doors.length > 0;
  if (door) {
    printDoors(doors, out);
    out('');
  }
  out(
    table(
      [
        'connector',
        door ? 'sent (Braze)' : 'published',
        'delivered (server)',
        'skipped',
        'dead-lettered',
        'parked',
        'dropped',
        'reconciled',
      ],
      summaries.map((s) => [
        s.connector,
        s.published,
        `${s.delivered} (${s.region})`,
        fmt(s.skipped),
        fmt(s.deadLettered),
        s.parked,
        s.dropped,
        s.reconciled ? 'yes' : `NO: ${s.problems.join('; ')}`,
      ]),
    ),
  );
  const ok = summaries.every((s) => s.reconciled) && doors.every((d) => d.reconciled);
  const total = door ? doors.reduce((n, d) => n + d.sent, 0) : summaries.reduce((n, s) => n + s.published, 0);
  out(
    `\n${ok ? 'Reconciled' : 'NOT reconciled'}: ${total} event(s) published in ${seconds.toFixed(1)} s; every one ` +
      `${ok ? 'ended in exactly one outcome.' : 'did not end in exactly one outcome (see above).'}`,
  );
}

function printEndpoints(stack: LocalStack, out: (l: string) => void) {
  const ps = stack.emulators.pubsub.host;
  out(`\nEverything keeps running (Ctrl-C, or SIGTERM to this process, stops it all):`);
  out(`  Pub/Sub emulator    ${ps}   (export PUBSUB_EMULATOR_HOST=${ps})`);
  out(
    `  Firestore emulator  ${stack.emulators.firestore.host}   (export FIRESTORE_EMULATOR_HOST=${stack.emulators.firestore.host})`,
  );
  out(`  Segment US server   ${stack.servers.us.url}/__admin/events`);
  out(`  Segment EU server   ${stack.servers.eu.url}/__admin/events`);
  for (const l of stack.connectors) {
    out(`  ${l.connector.name.padEnd(18)}  topic ${l.names.ingestTopic}, function ${l.host.url}`);
    if (l.receiver) {
      out(
        `  ${''.padEnd(18)}  receiver ${l.receiver.url}  token ${l.receiver.token}  (door of ${l.connector.workspace})`,
      );
    }
  }
  const first = stack.connectors[0]!;
  if (first.receiver) {
    out(
      `\nPost an event through the door of ${first.connector.workspace} (${first.connector.name} selects its type), as Braze does, and watch what becomes of it below:`,
    );
    out(`  ${curlLine(first)}`);
  }
  out(
    `\nPublish an event yourself, and watch what becomes of it below (delivered, skipped, dead-lettered, parked, dropped or duplicate, with the reason):`,
  );
  out(
    `  CLOUDSDK_AUTH_DISABLE_CREDENTIALS=true CLOUDSDK_API_ENDPOINT_OVERRIDES_PUBSUB=http://${ps}/ gcloud pubsub topics publish ` +
      `projects/${stack.projectId}/topics/${first.names.ingestTopic} --project=${stack.projectId} \\\n` +
      `    --message='{"events":[{"event_type":"${first.connector.events[0]?.includes('.') ? first.connector.events[0] : 'users.messages.email.Open'}","id":"try-1","time":${Math.floor(Date.now() / 1000)},"user":{"user_id":"b1","external_user_id":"u1"},"properties":{"email_address":"a@example.com"}}]}'`,
  );
  out(
    `  PUBSUB_EMULATOR_HOST=${ps} FIRESTORE_EMULATOR_HOST=${stack.emulators.firestore.host} npx currents status --env ${stack.environment.name}`,
  );
}

/** An event of a type the connector selects, for the hints and the curl line. */
function tryEvent(local: LocalConnector, id: string): Record<string, unknown> {
  const type = selectedTypes(local.connector)[0] ?? 'users.messages.email.Open';
  return {
    event_type: type,
    id,
    time: Math.floor(Date.now() / 1000),
    user: { user_id: 'braze-try-1', external_user_id: 'try-user-1' },
    properties: {},
  };
}

/** A `curl` command that posts one event through the connector's receiver exactly as Braze does. */
export function curlLine(local: LocalConnector, id = `try-${randomUUID()}`): string {
  const body = JSON.stringify({ events: [tryEvent(local, id)] });
  return (
    `curl -sS -X POST ${local.receiver!.url}/ -H 'Authorization: Bearer ${local.receiver!.token}' ` +
    `-H 'Braze-Currents-Version: 1' -H 'Content-Type: application/json' --data '${body}'`
  );
}

/** The first JSON line of `--keep-running --json`: where everything is, for scripts. */
export function readyObject(stack: LocalStack) {
  return {
    environment: stack.environment.name,
    projectId: stack.projectId,
    pubsubHost: stack.emulators.pubsub.host,
    firestoreHost: stack.emulators.firestore.host,
    segment: { us: stack.servers.us.url, eu: stack.servers.eu.url },
    // Each connector's receiverUrl / receiverToken: the door of its workspace.
    connectors: stack.connectors.map((l) => ({
      name: l.connector.name,
      region: l.connector.segment.region,
      ingestTopic: l.names.ingestTopic,
      receiverUrl: l.receiver?.url,
      receiverToken: l.receiver?.token,
    })),
    workspaces: stack.doors.map((d) => ({
      workspace: d.workspace,
      receiverUrl: d.url,
      receiverToken: d.token,
      connectors: d.door.connectors.map((c) => c.name),
    })),
  };
}

/**
 * Prints, until the process is stopped (or `until` is aborted), every outcome of the events published from now on:
 * each event the Segment servers accept (as before: `[region] accepted …`, or with `json` the line
 * `{"region","messageId","call"}`), and, when the run's `logs` are given, every other outcome (skipped, dead-lettered,
 * parked, dropped, retrying, refused by the receiver, duplicate: local/outcomes.ts), one line each (with `json`, a JSON
 * object with a `kind`).
 */
export async function tail(
  stack: LocalStack,
  out: (l: string) => void,
  json: boolean,
  logs?: LogTap,
  until?: AbortSignal,
): Promise<void> {
  const seen = { us: stack.servers.us.accepted().length, eu: stack.servers.eu.accepted().length };
  const receipts = { us: new Map<string, number>(), eu: new Map<string, number>() };
  const say = (o: Parameters<typeof describeOutcome>[0]) => out(json ? outcomeJson(o) : describeOutcome(o));
  for (const region of REGIONS) newDuplicates(region, stack.servers[region].accepted(), receipts[region]);
  const watch = logs && (await watchOutcomes(stack, logs, say));
  while (!until?.aborted) {
    await sleep(json ? 100 : 500);
    for (const region of REGIONS) {
      const all = stack.servers[region].accepted();
      for (const e of all.slice(seen[region])) {
        const call = e.call as { event?: string; userId?: string; anonymousId?: string } | undefined;
        out(
          json
            ? JSON.stringify({ region, messageId: e.messageId, call: e.call })
            : `[${region}] accepted ${call?.event ?? '?'} for ${call?.userId ?? call?.anonymousId ?? '?'} (messageId ${e.messageId})`,
        );
      }
      seen[region] = all.length;
      for (const d of newDuplicates(region, all, receipts[region])) say(d);
    }
  }
  await watch?.stop();
}

async function main() {
  dropLibraryWarnings();
  localGoogleClients();
  const { opts, source, backfill, remote } = parseOrExit('npm start', 'npm start -- --help', () => {
    let taken: ReturnType<typeof takeSource>;
    try {
      taken = takeSource(process.argv.slice(2));
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
    return { opts: parseOptions(taken.rest), source: taken.source, backfill: taken.scenario, remote: taken.remote };
  });
  // Through Braze's storage export (Avro files in the local Cloud Storage): local/storage-run.ts.
  if (source === 'storage')
    process.exit(await storageMain({ ...opts, scenario: backfill, remote }, { readyObject, tail }));
  // With --json, stdout is for scripts: JSON lines only; everything for people goes to stderr.
  const human = opts.json ? (l: string) => console.error(l) : (l: string) => console.log(l);
  const { summaries, stack, logs } = await runLocal({
    ...opts,
    out: human,
    tty: !opts.json && Boolean(process.stdout.isTTY),
  });
  if (stack) {
    if (opts.json) console.log(JSON.stringify(readyObject(stack)));
    await tail(stack, (l) => console.log(l), opts.json, logs);
  }
  process.exit(summaries.every((s) => s.reconciled) ? 0 : 1);
}

if (require.main === module) {
  main().catch((err) => {
    console.error(`npm start failed: ${(err as Error).message}`);
    process.exit(1);
  });
}
