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
import { setTimeout as sleep } from 'node:timers/promises';
import { loadEnvironmentsOrThrow, pick } from '../common/definitions';
import { localGoogleClients } from '../common/google-clients';
import { parseOrExit, UsageError } from '../common/args';
import { dropLibraryWarnings } from '../common/library-warnings';
import { LOCAL_DEFINITIONS } from './definitions';
import type { DoorSummary } from './door-summary';
import type { LogTap } from './outcomes';
import { stopOnSignals } from './shutdown';
import { startLocalStack, type LocalStack } from './stack';
import { parseOptions, type StartOptions } from './start-options';
import { printAfterword, printEndpoints, printReady, printSummary } from './start-print';
import { readyObject } from './start-ready';
import {
  quiet,
  readDeadLetters,
  RunLog,
  summarize,
  summarizeDoors,
  sumOf,
  type ConnectorSummary,
} from './start-reconcile';
import { startScenario, untilScenarioSeen, type ScenarioRun } from './start-scenario';
import { planFeeds, Progress, publishToTopics, sendThroughDoors } from './start-send';
import { tail } from './start-tail';
import { storageMain, takeSource } from './storage-run';

/** What a run leaves: the summaries, and with `--keep-running` the stack (its stop stops the probing too) and logs. */
export interface LocalRun {
  summaries: ConnectorSummary[];
  doors: DoorSummary[];
  stack?: LocalStack;
  logs: LogTap;
}

/** Runs the local end-to-end job; resolves with the per-connector summaries (the stack is stopped unless kept). */
export async function runLocal(options: StartOptions): Promise<LocalRun> {
  const { out } = options;
  const environments = loadEnvironmentsOrThrow(options.definitions ?? LOCAL_DEFINITIONS);
  const { environment, connectors } = pick(environments, options.env);
  out(
    `Environment '${environment.name}': ${connectors.length} connector(s); starting the emulators, a Segment server per region and the functions…`,
  );
  const log = new RunLog(connectors, out);
  const started = Date.now();
  const stack = await startLocalStack({
    environment,
    connectors,
    testClock: options.scenario === 'credential-failure',
    receivers: options.via === 'receiver',
    emulators: options.emulators,
    projectId: options.projectId,
    onLog: log.onLog,
    onDoorLog: log.onDoorLog,
  });
  // The operator clients (dead-letter reads) find the emulators the way every Google client does.
  Object.assign(process.env, stack.emulators.env);
  // SIGINT, SIGTERM or SIGHUP stops everything the stack started (local/shutdown.ts); tests own their emulators.
  let stopProbing = async (): Promise<void> => undefined;
  const stopAll = async () => {
    await stopProbing();
    await stack.stop();
  };
  const unguard = options.emulators ? () => undefined : stopOnSignals(stopAll, { say: out });
  try {
    printReady(stack, out, (Date.now() - started) / 1000);
    const feeds = planFeeds(stack, connectors, options);
    const scenario = options.scenario ? startScenario(options.scenario, stack, out) : undefined;
    stopProbing = startProbing(stack);
    await untilScenarioSeen(options.scenario, scenario?.local, log.reached, options.timeoutSeconds * 1000, out);
    const summarizeNow = (deadLetters?: Map<string, Record<string, number>>) =>
      summarize(stack, { expectations: feeds.expectations, batches: log.batches, drained: log.drained, deadLetters });

    // Send, paced by --rate: through each workspace's door (the local Braze) or straight to each connector's topic.
    const progress = new Progress(feeds.total, () => summarizeNow(), out, options.tty);
    if (feeds.door) await sendThroughDoors(stack, feeds.doorFeeds, options, progress, out);
    else await publishToTopics(stack, feeds.feeds, options.rate, progress);
    progress.show(true);
    await untilQuiet(() => summarizeNow(), scenario, options.timeoutSeconds, progress, out);
    if (!options.keepRunning) await stopProbing();
    progress.show(true); // the last progress line says what the summary says
    if (options.tty) process.stdout.write('\n');

    const summaries = summarizeNow(await readDeadLetters(stack, options.keepRunning));
    const doors = summarizeDoors(stack, feeds.doorFeeds, log);
    printSummary(summaries, doors, out, (Date.now() - progress.publishStart) / 1000);
    printAfterword(stack, log.stateLines, out, options.scenario === 'write-key-rotated');
    if (options.keepRunning) {
      printEndpoints(stack, out);
      return { summaries, doors, stack: { ...stack, stop: stopAll }, logs: log.logs };
    }
    await stack.stop();
    return { summaries, doors, logs: log.logs };
  } catch (err) {
    await stopAll();
    throw err;
  } finally {
    if (!options.keepRunning) unguard();
  }
}

/**
 * The scheduler's job, locally: probe every connector every few seconds (Cloud Scheduler does it every 3 minutes);
 * with --keep-running it goes on (parked events are drained once the credential works), until the returned stop.
 */
function startProbing(stack: LocalStack): () => Promise<void> {
  let probing = true;
  const prober = (async () => {
    while (probing) {
      await sleep(1500);
      if (!probing) break;
      await Promise.all(stack.connectors.map((l) => l.probe().catch(() => undefined)));
    }
  })();
  return async () => {
    probing = false;
    await prober;
  };
}

/**
 * Waits for the pipeline to go quiet: every connector reconciled (dead letters are read at the end), or the deadline.
 * A scenario's credential is fixed once every event of its connector is handled (parked, mostly).
 */
async function untilQuiet(
  summarizeNow: () => ConnectorSummary[],
  scenario: ScenarioRun | undefined,
  timeoutSeconds: number,
  progress: Progress,
  out: (line: string) => void,
): Promise<void> {
  const failing = scenario?.local;
  const deadline = Date.now() + timeoutSeconds * 1000;
  let restored = false;
  for (;;) {
    const summaries = summarizeNow();
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
      out(`\nTimed out after ${timeoutSeconds} s waiting for the pipeline to go quiet.`);
      break;
    }
    progress.show();
    await sleep(200);
  }
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
