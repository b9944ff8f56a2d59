/**
 * `currents import`: replays a period of Braze's storage export (Avro files in Cloud Storage) into a connector — a
 * backfill for a new Segment source, or the recovery of events dropped while a credential was failing.
 *
 * It lists the objects under the connector's `storage` bucket and prefix (or `--bucket`/`--prefix`), keeps the `.avro`
 * files of the connector's selected types whose `date=` hour lies in [--from, --to), shows their counts and sizes (and
 * what was already imported), then imports them one by one through the same sequence as the live import
 * (runtime/storage/import-object.ts) with a progress line (files, events, events/s, ETA). Progress is recorded per chunk
 * in the connector's Firestore database, so that a run stopped by Ctrl-C or a crash resumes where it stopped when run
 * again; finished files are not read again. Events delivered twice (a file imported live and again here, or a chunk
 * re-sent after a crash) are deduplicated by Segment on messageId. `--reimport` reads finished files again: the recovery
 * of events the function dropped while a credential had expired (they had been imported live, then dropped).
 *
 * Works against the real bucket with Application Default Credentials, or against the local stand-in with
 * `--storage-endpoint URL` (or STORAGE_EMULATOR_HOST).
 */
import { ConnectorImporter } from '../../runtime/storage/importer';
import type { ImportResult, ObjectRef } from '../../runtime/storage/import-object';
import { formatHour, parseHour, relevance, type Relevance } from '../../runtime/storage/paths';
import { parse, UsageError } from '../../common/args';
import * as specs from '../specs';
import { remoteImport } from '../ops/backfill-command';
import { importReporter } from '../ops/import-report';
import { checkAccess, resolveTargets, whereLabel } from '../ops/context';

type SkipReason = Extract<Relevance, { import: false }>['reason'];

export interface ImportPlan {
  readonly bucket: string;
  readonly prefix: string;
  readonly from: string;
  readonly to: string;
  readonly files: ObjectRef[];
  readonly bytes: number;
  readonly byType: Record<string, { files: number; bytes: number }>;
  /** Objects in the period left out, by reason (types not selected, not exportable, not Avro). */
  readonly skipped: Partial<Record<SkipReason, number>>;
}

export interface ImportSummary {
  readonly plan: Omit<ImportPlan, 'files'> & { files: number };
  readonly done: number;
  readonly alreadyDone: number;
  readonly failed: Array<{ object: string; detail: string; offset: number; recordsBefore: number }>;
  readonly busy: string[];
  readonly skippedFiles: number;
  /** Records in the files imported (done or failed) by this run. */
  readonly records: number;
  readonly published: number;
  /** Records an earlier, interrupted run had published (not sent again). */
  readonly resumed: number;
  readonly reconciled: boolean;
}

/** Lists and classifies the objects of one period (no progress lookups). */
export async function planImport(
  importer: ConnectorImporter,
  opts: { bucket: string; prefix: string; from: Date; to: Date },
): Promise<ImportPlan> {
  const listPrefix = opts.prefix ? `${opts.prefix}/` : '';
  const files: ObjectRef[] = [];
  const byType: Record<string, { files: number; bytes: number }> = {};
  const skipped: Partial<Record<SkipReason, number>> = {};
  let bytes = 0;
  for await (const obj of importer.source.list(opts.bucket, listPrefix)) {
    const r = relevance(obj.name, importer.selected, { from: opts.from, to: opts.to });
    if (!r.import) {
      if (r.reason !== 'outside_period') skipped[r.reason] = (skipped[r.reason] ?? 0) + 1;
      continue;
    }
    files.push(obj);
    bytes += obj.size ?? 0;
    const t = (byType[r.eventType ?? '(type from the file)'] ??= { files: 0, bytes: 0 });
    t.files++;
    t.bytes += obj.size ?? 0;
  }
  return {
    bucket: opts.bucket,
    prefix: opts.prefix,
    from: opts.from.toISOString(),
    to: opts.to.toISOString(),
    files,
    bytes,
    byType,
    skipped,
  };
}

const mb = (n: number) => `${(n / 1e6).toFixed(n < 1e7 ? 2 : 0)} MB`;

function describePlan(p: ImportPlan): string {
  const lines = [
    `${p.files.length} file(s), ${mb(p.bytes)}, in gs://${p.bucket}/${p.prefix ? `${p.prefix}/` : ''} for [${p.from}, ${p.to}):`,
    ...Object.entries(p.byType)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([t, v]) => `  ${t.padEnd(52)} ${String(v.files).padStart(6)} file(s) ${mb(v.bytes).padStart(10)}`),
  ];
  const skipped = Object.entries(p.skipped).map(([k, n]) => `${n} ${k.replace('_', ' ')}`);
  if (skipped.length) lines.push(`  left out: ${skipped.join(', ')}`);
  return lines.join('\n');
}

/** Imports the planned files in order; `onProgress` after each chunk and file. */
export async function runImport(
  importer: ConnectorImporter,
  plan: ImportPlan,
  hooks: {
    /** Import finished files again (`--reimport`). */
    again?: boolean;
    onProgress?: (s: { files: number; events: number; bytes: number }) => void;
    onFile?: (r: ImportResult) => void;
    current?: (o: ObjectRef | undefined) => void;
  } = {},
): Promise<ImportSummary> {
  let done = 0;
  let alreadyDone = 0;
  let skippedFiles = 0;
  let records = 0;
  let published = 0;
  let resumed = 0;
  let events = 0;
  let bytes = 0;
  const failed: ImportSummary['failed'] = [];
  const busy: string[] = [];
  let files = 0;
  for (const obj of plan.files) {
    hooks.current?.(obj);
    const r = await importer.import(obj, {
      again: hooks.again,
      onChunk: (n) => {
        events += n;
        hooks.onProgress?.({ files, events, bytes });
      },
    });
    hooks.current?.(undefined);
    files++;
    bytes += obj.size ?? 0;
    if (r.status === 'done') done++;
    else if (r.status === 'already_done') alreadyDone++;
    else if (r.status === 'skipped') skippedFiles++;
    else if (r.status === 'busy') busy.push(obj.name);
    else if (r.failure) failed.push({ object: obj.name, ...r.failure });
    if (r.status === 'done' || r.status === 'failed') {
      records += r.records;
      published += r.published;
      resumed += r.resumedAfter;
    }
    hooks.onFile?.(r);
    hooks.onProgress?.({ files, events, bytes });
  }
  const { files: list, ...rest } = plan;
  return {
    plan: { ...rest, files: list.length },
    done,
    alreadyDone,
    failed,
    busy,
    skippedFiles,
    records,
    published,
    resumed,
    reconciled:
      records === published + resumed &&
      done + alreadyDone + skippedFiles + failed.length + busy.length === list.length,
  };
}

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse(specs.importSpec, argv);
  const [target] = resolveTargets(values, positionals[0], { requireConnector: true });
  const t = target!;
  const from = values.from !== undefined ? parseHour(values.from) : undefined;
  const to = values.to !== undefined ? parseHour(values.to) : undefined;
  if (!from) throw new UsageError('--from must be an hour in UTC, YYYY-MM-DDTHH (e.g. 2026-11-01T00)');
  if (!to) throw new UsageError('--to must be an hour in UTC, YYYY-MM-DDTHH (e.g. 2026-11-03T00)');
  if (to <= from) throw new UsageError(`--to (${formatHour(to)}) must be after --from (${formatHour(from)})`);
  const bucket = values.bucket ?? t.connector.storage?.bucket;
  if (!bucket) {
    throw new UsageError(
      `connector '${t.connector.name}' has no 'storage' in its definition: give --bucket (and --prefix) of Braze's storage export`,
    );
  }
  const prefix = (values.prefix ?? t.connector.storage?.prefix ?? '').replace(/^\/+|\/+$/g, '');
  await checkAccess([t]);
  const apiEndpoint = values.storageEndpoint ?? process.env.STORAGE_EMULATOR_HOST;
  const importer = new ConnectorImporter({ project: t.project, connector: t.connector, apiEndpoint });
  const log = (line: string) => (values.json ? undefined : process.stdout.write(`${line}\n`));
  let current: ObjectRef | undefined;
  const onSigint = () => {
    // Give the current file's claim up, so that the next run resumes it at once; progress is already recorded.
    const release = current ? importer.progress.release(current).catch(() => undefined) : Promise.resolve();
    void release.then(() => {
      process.stderr.write('\ninterrupted: run the same command again to resume where it stopped\n');
      process.exit(130);
    });
  };
  process.once('SIGINT', onSigint);
  try {
    log(`connector '${t.connector.name}', ${whereLabel(t.project)}`);
    const plan = await planImport(importer, { bucket, prefix, from, to });
    log(describePlan(plan));
    if (values.dryRun) {
      if (values.json) {
        const { files, ...rest } = plan;
        process.stdout.write(`${JSON.stringify({ dryRun: true, ...rest, files: files.length })}\n`);
      }
      return 0;
    }
    if (values.remote) {
      process.removeListener('SIGINT', onSigint); // the remote run stops handing files off instead
      return await remoteImport(t, plan, { reimport: values.reimport, json: values.json, log });
    }
    const report = importReporter(plan, { json: values.json, log });
    const summary = await runImport(importer, plan, {
      again: values.reimport,
      current: (o) => (current = o),
      onProgress: report.onProgress,
      onFile: report.onFile,
    });
    report.end(summary, {
      count: 'held by another importer',
      line: 'busy (a live import or a crashed run holds it for up to 10 minutes; run again later)',
    });
    return summary.failed.length || summary.busy.length || !summary.reconciled ? 1 : 0;
  } finally {
    process.removeListener('SIGINT', onSigint);
    await importer.close();
  }
}
