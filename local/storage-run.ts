/**
 * `npm start -- --source storage`: the local run through Braze's storage export instead of the HTTP door. The local
 * Cloud Storage stand-in is started and each connector's bucket created (its `storage` from the definition; a connector
 * without one gets `currents-local-export` with its name as prefix); the live import is wired as the bucket notification
 * would (local/storage-import.ts). Each connector's sample feed (local/feed.ts, without the malformed events, which an
 * Avro schema cannot hold) is written as one Avro file per event type under Braze's path layout with the real client;
 * the live import picks the files up, the functions deliver, and the run reconciles:
 *  - every event meant to be delivered was accepted by the Segment server (by messageId), and nothing else was;
 *  - the files of types the connector does not select or that are not exportable were skipped without being read;
 *  - the events of users without an external id were skipped by the function (its `batch_done` counts).
 * With `--keep-running --json`, the ready object also holds `storage: { apiEndpoint }` and each connector's `storage`;
 * any object anyone uploads later under a connector's prefix is imported live.
 */
import { Storage } from '@google-cloud/storage';
import type { FieldSpec } from '../shared/catalog-fields';
import { canonicalType } from '../shared/catalog';
import type { Connector } from '../shared/connector';
import { loadEnvironmentsOrThrow, pick } from '../common/definitions';
import { table } from '../common/table';
import { LOCAL_DEFINITIONS } from './definitions';
import { brazeObjectName, formatHour } from '../runtime/storage/paths';
import { durationMs } from '../shared/duration';
import { backfillHour, reportResent, takeRemote, type RemoteOutcome } from './backfill-remote';
import { avroFile, fieldsFor, toRecord } from './avro-export';
import { feedEvents, type FeedEvent } from './feed';
import { startLiveImport, type LiveImport } from './storage-import';
import { startStorageServer, type LocalStorageServer } from './storage-server';
import type { Emulators } from './emulators';
import { startLocalStack, type LocalStack } from './stack';
import type { LocalConnector } from './connector-runner';
import { stopOnSignals } from './shutdown';
import { logEntry, LogTap } from './outcomes';

export const LOCAL_EXPORT_BUCKET = 'currents-local-export';

export interface StorageRunOptions {
  env: string;
  events: number;
  definitions?: string;
  timeoutSeconds: number;
  out: (line: string) => void;
  /** Reuse running emulators under this project id (tests); by default they are started here. */
  emulators?: Emulators;
  projectId?: string;
  /**
   * `backfill`: the first connector's credential is removed and its grace period passed (the function's clock moved),
   * so that it is expired and drops the events imported live; the credential is then restored and the dropped hour
   * backfilled with `currents import --reimport` (its code); every dropped event must then reach Segment.
   */
  scenario?: 'backfill';
  /** The backfill through the deployed path (`currents import --remote`): N importer hosts, one killed mid-way. */
  remote?: { hosts: number };
}

export interface StorageRunSummary {
  connector: string;
  files: { imported: number; skipped: number };
  expectedDelivered: number;
  delivered: number;
  unexpected: number;
  skippedNoExternalId: { expected: number; seen: number };
  /** Events the function dropped (the backfill scenario's connector, before the backfill). */
  dropped: number;
  reconciled: boolean;
}

/** The connector with its `storage`, or the local default. */
export function withLocalStorage(c: Connector): Connector {
  return c.storage ? c : { ...c, storage: { bucket: LOCAL_EXPORT_BUCKET, prefix: c.name } };
}

/** Fields of a type without a field list in the product (non-exportable types of the feed), read off its events. */
function fieldsOfEvents(events: readonly Record<string, unknown>[]): FieldSpec[] {
  const names = new Map<string, FieldSpec>();
  for (const e of events) {
    for (const [name, v] of Object.entries(e)) {
      if (name === 'event_type' || names.has(name)) continue;
      names.set(name, {
        name,
        type: typeof v === 'number' ? 'long' : typeof v === 'boolean' ? 'boolean' : 'string',
        optional: true,
      });
    }
  }
  return [...names.values()];
}

/** Writes one connector's feed as one Avro file per type, under Braze's layout; returns the files' names and types. */
async function writeFeed(storage: Storage, c: Connector, feed: readonly FeedEvent[], hour: Date): Promise<number> {
  const byType = new Map<string, Record<string, unknown>[]>();
  for (const e of feed) (byType.get(e.type) ?? byType.set(e.type, []).get(e.type)!).push(e.body);
  let files = 0;
  for (const [type, events] of byType) {
    // The feed's events carry every field their type requires (local/feed.ts), so the type's own schema holds them.
    const fields = canonicalType(type) ? fieldsFor(canonicalType(type)!) : fieldsOfEvents(events);
    const data = await avroFile(
      type,
      events.map((e) => toRecord(fields, e)),
      { fields },
    );
    const name = brazeObjectName({ prefix: c.storage!.prefix, eventType: type, hour, file: `${c.name}-${files}` });
    await storage.bucket(c.storage!.bucket).file(name).save(data, { resumable: false, contentType: 'avro/binary' });
    files++;
  }
  return files;
}

/** What the run counts from the functions' log lines, per connector: skips without an external id and drops (by
 * Pub/Sub message), and the credential states reached (`connector:state`). */
class RunLog {
  readonly noExternalId = new Map<string, Map<string, number>>();
  readonly dropped = new Map<string, Map<string, number>>();
  readonly reached = new Set<string>();

  constructor(
    connectors: readonly Connector[],
    private readonly out: (line: string) => void,
  ) {
    for (const c of connectors) {
      this.noExternalId.set(c.name, new Map());
      this.dropped.set(c.name, new Map());
    }
  }

  read(connector: string, line: string): void {
    const e = logEntry(line) as
      | {
          event?: string;
          pubsubMessageId?: string;
          skipped?: Record<string, number>;
          counts?: Record<string, number>;
          to?: string;
        }
      | undefined;
    if (e?.event === 'batch_done' && e.pubsubMessageId) {
      this.noExternalId.get(connector)!.set(e.pubsubMessageId, e.skipped?.no_external_user_id ?? 0);
      this.dropped.get(connector)!.set(e.pubsubMessageId, e.counts?.dropped ?? 0);
    } else if (e?.event === 'state_change') {
      this.reached.add(`${connector}:${e.to}`);
      this.out(`[${connector}] state → ${e.to}`);
    }
  }
}

const sum = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);

/** Polls `check` every 200 ms for up to `seconds`; its last answer. */
async function waitUntil(check: () => boolean, seconds: number): Promise<boolean> {
  const until = Date.now() + seconds * 1000;
  while (!check() && Date.now() < until) await new Promise((r) => setTimeout(r, 200));
  return check();
}

/** The backfill scenario, before the feed: the victim's credential is removed and its grace period passes. */
async function expireVictim(victim: LocalConnector, log: RunLog, options: StorageRunOptions): Promise<void> {
  const name = victim.connector.name;
  options.out(`\nScenario backfill: the credential of '${name}' is removed and its grace period passes: it expires.`);
  victim.setSecret(undefined);
  await victim.probe();
  await victim.setClockOffset(durationMs(victim.connector.credentialGracePeriod) + 3_600_000);
  await victim.probe();
  if (!(await waitUntil(() => log.reached.has(`${name}:expired`), options.timeoutSeconds))) {
    throw new Error(`'${name}' did not expire`);
  }
}

/** The backfill scenario, after the feed: the victim dropped the live import; its credential is restored and the hour
 * imported again (`currents import --reimport`, with `--remote` through the local backfill path). */
async function backfillVictim(
  victim: LocalConnector,
  run: {
    stack: LocalStack;
    server: LocalStorageServer;
    log: RunLog;
    feed: FeedEvent[];
    hour: Date;
    envName: string;
    onLog: (connector: string, line: string) => void;
  },
  options: StorageRunOptions,
): Promise<RemoteOutcome | undefined> {
  const { stack, server, log, feed, hour, envName } = run;
  const { out } = options;
  const c = victim.connector;
  const meant = feed.filter((e) => e.intent === 'delivered').length;
  await waitUntil(() => sum(log.dropped.get(c.name)!) >= meant, options.timeoutSeconds);
  out(`[${c.name}] expired: the function dropped ${sum(log.dropped.get(c.name)!)} event(s) imported live.`);
  victim.setSecret(stack.credentials.get(c.name)!.secretValue);
  await victim.setClockOffset(0);
  await victim.probe();
  if (!(await waitUntil(() => log.reached.has(`${c.name}:active`), options.timeoutSeconds))) {
    throw new Error(`'${c.name}' did not recover`);
  }
  const from = hour;
  const to = new Date(hour.getTime() + 3_600_000);
  out(
    `[${c.name}] credential restored; backfilling: currents import --env ${envName} --connector ${c.name} ` +
      `--from ${formatHour(from).replace(/-(\d\d)$/, 'T$1')} --to ${formatHour(to).replace(/-(\d\d)$/, 'T$1')} ` +
      `--bucket ${c.storage!.bucket} --prefix ${c.storage!.prefix} --reimport${options.remote ? ' --remote' : ''}`,
  );
  return backfillHour(
    { stack, server, local: victim, from, to, out, onLog: (l) => run.onLog(c.name, l) },
    options.remote,
  );
}

/** Where each connector's feed ended, from the Segment server, the live import's results and the log counts. */
function summarize(
  connectors: readonly Connector[],
  run: { stack: LocalStack; live: LiveImport; log: RunLog; feeds: Map<string, FeedEvent[]>; victim?: string },
): StorageRunSummary[] {
  const { stack, live, log, feeds, victim } = run;
  return connectors.map((c) => {
    const feed = feeds.get(c.name)!;
    const accepted = new Set(stack.servers[c.segment.region].accepted().map((a) => a.messageId));
    const meant = feed.filter((e) => e.intent === 'delivered').map((e) => e.id);
    const notMeant = feed.filter((e) => e.intent !== 'delivered' && accepted.has(e.id)).length;
    const results = live.results.filter((r) => r.connector === c.name && r.result);
    const imported = results.filter((r) => r.result!.status === 'done').length;
    const skipped = results.filter((r) => r.result!.status === 'skipped').length;
    const skippedTypes = new Set(
      feed
        .filter((e) => e.intent === 'skipped:not_selected' || e.intent === 'skipped:not_exportable')
        .map((e) => e.type),
    );
    const expectedNoId = feed.filter((e) => e.intent === 'skipped:no_external_user_id').length;
    const seenNoId = sum(log.noExternalId.get(c.name)!);
    const delivered = meant.filter((id) => accepted.has(id)).length;
    return {
      connector: c.name,
      files: { imported, skipped },
      expectedDelivered: meant.length,
      delivered,
      unexpected: notMeant,
      skippedNoExternalId: { expected: expectedNoId, seen: seenNoId },
      dropped: sum(log.dropped.get(c.name)!),
      // The backfill's connector skips its users without an external id twice (the live import, then the backfill).
      reconciled:
        delivered === meant.length &&
        notMeant === 0 &&
        skipped === skippedTypes.size &&
        (victim === c.name ? seenNoId >= expectedNoId : seenNoId === expectedNoId),
    };
  });
}

function printSummaries(out: (line: string) => void, summaries: StorageRunSummary[], victim?: string): void {
  out(
    table(
      [
        'connector',
        'files imported',
        'files skipped',
        'delivered',
        'skipped (no external id)',
        'dropped',
        'reconciled',
      ],
      summaries.map((s) => [
        s.connector,
        String(s.files.imported),
        String(s.files.skipped),
        `${s.delivered}/${s.expectedDelivered}${s.unexpected ? ` (+${s.unexpected} not meant)` : ''}`,
        skippedNoIdCell(s.skippedNoExternalId, victim === s.connector),
        String(s.dropped),
        s.reconciled ? 'yes' : 'NO',
      ]),
    ),
  );
}

export async function runStorageLocal(options: StorageRunOptions): Promise<{
  summaries: StorageRunSummary[];
  stack: LocalStack;
  server: LocalStorageServer;
  live: LiveImport;
  /** Every log line of the stack's processes, for the watch of `--keep-running` (local/outcomes.ts). */
  logs: LogTap;
  /** The scenario's remote backfill (`remote`), its hosts already stopped. */
  remote?: RemoteOutcome;
}> {
  const { out } = options;
  const { environment, connectors: defined } = pick(
    loadEnvironmentsOrThrow(options.definitions ?? LOCAL_DEFINITIONS),
    options.env,
  );
  const connectors = defined.map(withLocalStorage);
  out(`Environment '${environment.name}': ${connectors.length} connector(s) fed through the storage export…`);
  const log = new RunLog(connectors, out);
  const logs = new LogTap();
  const onLog = (connector: string, line: string): void => {
    logs.emit(connector, line);
    log.read(connector, line);
  };
  const stack = await startLocalStack({
    environment,
    connectors,
    emulators: options.emulators,
    projectId: options.projectId,
    testClock: options.scenario === 'backfill',
    onLog,
  });
  Object.assign(process.env, stack.emulators.env);
  const server = await startStorageServer();
  const live = startLiveImport({ server, project: stack.projectId, connectors, sink: () => undefined });
  const storage = new Storage({ apiEndpoint: server.apiEndpoint, projectId: stack.projectId });
  out(
    `Local Cloud Storage on ${server.apiEndpoint}; buckets: ${[...new Set(connectors.map((c) => c.storage!.bucket))].join(', ')}`,
  );

  const victim = options.scenario === 'backfill' ? stack.connectors[0] : undefined;
  if (victim) await expireVictim(victim, log, options);

  const hour = new Date(Math.floor(Date.now() / 3_600_000) * 3_600_000);
  const feeds = new Map<string, FeedEvent[]>();
  for (const [i, c] of connectors.entries()) {
    const feed = feedEvents(c, { events: options.events, seed: i + 1 }).filter(
      (e) => e.intent !== 'dead_letter:invalid',
    );
    feeds.set(c.name, feed);
    const files = await writeFeed(storage, c, feed, hour);
    out(
      `[${c.name}] wrote ${feed.length} event(s) as ${files} Avro file(s) under gs://${c.storage!.bucket}/${c.storage!.prefix}/`,
    );
  }
  await live.idle();
  let remote: RemoteOutcome | undefined;
  if (victim) {
    const feed = feeds.get(victim.connector.name)!;
    const backfillRun = { stack, server, log, feed, hour, envName: environment.name, onLog };
    remote = await backfillVictim(victim, backfillRun, options);
  }

  const run = { stack, live, log, feeds, victim: victim?.connector.name };
  const deadline = Date.now() + options.timeoutSeconds * 1000;
  let summaries = summarize(connectors, run);
  while (!summaries.every((s) => s.reconciled) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 250));
    summaries = summarize(connectors, run);
  }
  printSummaries(out, summaries, run.victim);
  if (remote && victim) reportResent(remote, stack, victim.connector, feeds, out);
  out(summaries.every((s) => s.reconciled) ? 'Reconciled (storage export).' : 'NOT reconciled (storage export).');
  await remote?.stop();
  return { summaries, stack, server, live, logs, remote };
}

/** `storage` additions to the `--keep-running --json` ready object. */
export function storageReady(server: LocalStorageServer, connectors: readonly Connector[]) {
  return {
    storage: { apiEndpoint: server.apiEndpoint },
    connectorStorage: Object.fromEntries(connectors.map((c) => [c.name, withLocalStorage(c).storage!])),
  };
}

/** Takes `--source http|storage` out of the arguments (npm start's other options are parsed as before). */
export function takeSource(argv: readonly string[]): {
  source: 'http' | 'storage';
  rest: string[];
  scenario?: 'backfill';
  remote?: { hosts: number };
} {
  const rest = [...argv];
  // `--scenario backfill` runs through the storage export (the other scenarios are npm start's own).
  const s = rest.findIndex((a, i) => (a === '--scenario' && rest[i + 1] === 'backfill') || a === '--scenario=backfill');
  if (s >= 0) {
    rest.splice(s, rest[s] === '--scenario' ? 2 : 1);
    const other = takeSource(rest);
    if (other.source !== 'storage' && rest.some((a) => a.startsWith('--source'))) {
      throw new Error('--scenario backfill runs through the storage export (--source storage)');
    }
    return { source: 'storage', rest: other.rest, scenario: 'backfill', ...takeRemote(other.rest) };
  }
  const i = rest.findIndex((a) => a === '--source' || a.startsWith('--source='));
  if (i < 0) return { source: 'http', rest };
  const value = rest[i]!.includes('=') ? rest[i]!.split('=')[1] : rest[i + 1];
  rest.splice(i, rest[i]!.includes('=') ? 1 : 2);
  if (value !== 'http' && value !== 'storage')
    throw new Error(`--source must be http or storage (got '${value ?? ''}')`);
  return { source: value, rest };
}

/** The storage run as `npm start` runs it: summary, then with --keep-running the ready object and accepted events. */
export async function storageMain(
  opts: {
    env: string;
    events: number;
    definitions?: string;
    timeoutSeconds: number;
    keepRunning: boolean;
    json: boolean;
    scenario?: 'backfill';
    remote?: { hosts: number };
  },
  hooks: {
    readyObject: (stack: LocalStack) => { connectors: Array<{ name: string }> } & Record<string, unknown>;
    tail: (stack: LocalStack, out: (l: string) => void, json: boolean, logs?: LogTap) => Promise<void>;
  },
): Promise<number> {
  const human = opts.json ? (l: string) => console.error(l) : (l: string) => console.log(l);
  const { summaries, stack, server, live, logs } = await runStorageLocal({ ...opts, out: human });
  const ok = summaries.every((s) => s.reconciled);
  if (!opts.keepRunning) {
    await live.close();
    await server.close();
    await stack.stop();
    return ok ? 0 : 1;
  }
  // SIGINT, SIGTERM or SIGHUP stops everything this run started (local/shutdown.ts).
  stopOnSignals(
    async () => {
      await live.close();
      await server.close();
      await stack.stop();
    },
    { say: human },
  );
  const extra = storageReady(
    server,
    stack.connectors.map((l) => l.connector),
  );
  if (opts.json) {
    const ready = hooks.readyObject(stack);
    console.log(
      JSON.stringify({
        ...ready,
        storage: extra.storage,
        connectors: ready.connectors.map((c) => ({ ...c, storage: extra.connectorStorage[c.name] })),
      }),
    );
  } else {
    human(
      `Upload Avro files with the real client (apiEndpoint ${server.apiEndpoint}) under a connector's prefix; they are imported live:`,
    );
    for (const [name, s] of Object.entries(extra.connectorStorage))
      human(`  ${name.padEnd(18)}  gs://${s.bucket}/${s.prefix}/`);
  }
  await hooks.tail(stack, (l) => console.log(l), opts.json, logs);
  return ok ? 0 : 1;
}

/** Seen/expected skips of events without an external id; a backfilled connector skips them again in the backfill. */
function skippedNoIdCell(n: { seen: number; expected: number }, backfilled: boolean): string {
  if (!backfilled || n.seen <= n.expected) return `${n.seen}/${n.expected}`;
  return `${n.expected}/${n.expected} (+${n.seen - n.expected} again in the backfill)`;
}
