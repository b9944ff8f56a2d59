/**
 * `currents import --remote`: a backfill run by the deployed backfill importer, watched from here. Nothing of the files
 * is read on the operator's machine: it lists the period (object metadata only), hands each file to the backfill
 * importer as a notification-shaped message on the connector's backfill-files topic (runtime/storage/backfill.ts),
 * and reads each file's progress from the connector's Firestore database (`imports/*`, written by the importer) to
 * draw the same progress line and reconciled summary as the local import.
 *
 * At most `window` files are handed off and unfinished at once, so that Ctrl-C stops the run within a few files (those
 * already handed off finish remotely); the run is recorded in `backfills/<id>` (id: a hash of bucket, prefix, period
 * and --reimport), so that running the same command again resumes it: finished files are not handed off again, a file
 * being imported (a live lease) is watched, not re-sent. With --reimport a file counts as finished once it was
 * finished after the run first started (the importer applies the same rule to redelivered messages).
 */
import { createHash } from 'node:crypto';
import type { Firestore } from '@google-cloud/firestore';
import type { PubSub, Topic } from '@google-cloud/pubsub';
import { backfillMessage, importAgain } from '../../runtime/storage/backfill';
import type { ObjectRef } from '../../runtime/storage/import-object';
import { importDocId, type ImportRecord } from '../../runtime/storage/progress';
import { FIRESTORE_IMPORTS_COLLECTION, resourceNames, storageImportNames } from '../../shared/names';
import type { ImportPlan, ImportSummary } from '../commands/import';

/** Collection of the connector's database recording each remote backfill run. */
export const FIRESTORE_BACKFILLS_COLLECTION = 'backfills';

export type FileRecord = Pick<
  ImportRecord,
  'status' | 'generation' | 'records' | 'recordsPublished' | 'failure' | 'leaseUntil' | 'finishedAt'
>;

export interface RunRecord {
  readonly startedAt: number;
  readonly completedAt?: number | null;
  readonly from: string;
  readonly to: string;
  readonly files: number;
  readonly reimport: boolean;
}

/** What a remote run needs of Google Cloud (Firestore and Pub/Sub below; tests may pass their own). */
export interface RemotePorts {
  records(objs: readonly ObjectRef[]): Promise<Array<FileRecord | undefined>>;
  handOff(obj: ObjectRef, run: { id: string; reimportAfter?: number }): Promise<void>;
  getRun(id: string): Promise<RunRecord | undefined>;
  putRun(id: string, run: Partial<RunRecord>): Promise<void>;
  close(): Promise<void>;
}

export function runId(plan: Pick<ImportPlan, 'bucket' | 'prefix' | 'from' | 'to'>, reimport: boolean): string {
  const key = JSON.stringify([plan.bucket, plan.prefix, plan.from, plan.to, reimport]);
  return createHash('sha256').update(key).digest('hex').slice(0, 40);
}

const finished = (r: FileRecord | undefined) => r?.status === 'done' || r?.status === 'skipped';
const ended = (r: FileRecord | undefined) => finished(r) || r?.status === 'failed';

interface InFlight {
  readonly obj: ObjectRef;
  /** Records published before the hand-off (not sent again). */
  readonly baseline: number;
  /** finishedAt of the record at hand-off: a record counts as this run's once it ends after it. */
  readonly finishedBefore: number;
}

export interface RemoteHooks {
  readonly reimport?: boolean;
  /** Files handed off and unfinished at once (default 8). */
  readonly window?: number;
  readonly pollMs?: number;
  readonly now?: () => number;
  /** True once the operator asked to stop: no more files are handed off. */
  readonly stopped?: () => boolean;
  readonly onProgress?: (s: { files: number; events: number; bytes: number; inFlight: number }) => void;
  readonly onFile?: (r: {
    object: string;
    status: string;
    published: number;
    failure?: ImportRecord['failure'];
  }) => void;
  readonly onRun?: (r: { id: string; resumed: boolean; startedAt: number }) => void;
}

export type RemoteSummary = ImportSummary & { readonly runId: string; readonly interrupted: boolean };

/** Hands the plan's files off, `window` at a time, and watches them finish; resumes a run of the same id. */
export async function runRemoteImport(
  plan: ImportPlan,
  ports: RemotePorts,
  hooks: RemoteHooks = {},
): Promise<RemoteSummary> {
  const now = hooks.now ?? Date.now;
  const reimport = hooks.reimport ?? false;
  const id = runId(plan, reimport);
  const previous = await ports.getRun(id);
  const resumed = previous !== undefined && !previous.completedAt;
  const startedAt = resumed ? previous.startedAt : now();
  if (!resumed)
    await ports.putRun(id, {
      startedAt,
      completedAt: null,
      from: plan.from,
      to: plan.to,
      files: plan.files.length,
      reimport,
    });
  hooks.onRun?.({ id, resumed, startedAt });
  const window = Math.max(1, hooks.window ?? 8);
  const s = { done: 0, alreadyDone: 0, skippedFiles: 0, records: 0, published: 0, resumed: 0, events: 0, bytes: 0 };
  const failed: ImportSummary['failed'] = [];
  const inFlight = new Map<string, InFlight>();
  let files = 0;
  let next = 0;
  const report = () => hooks.onProgress?.({ files, events: s.events, bytes: s.bytes, inFlight: inFlight.size });
  const settle = (f: InFlight, r: FileRecord) => {
    inFlight.delete(f.obj.name);
    files++;
    s.bytes += f.obj.size ?? 0;
    const published = Math.max(0, r.recordsPublished - f.baseline);
    if (r.status === 'skipped') s.skippedFiles++;
    else {
      if (r.status === 'done') s.done++;
      else if (r.failure) failed.push({ object: f.obj.name, ...r.failure });
      s.records += r.records;
      s.published += published;
      s.resumed += f.baseline;
    }
    hooks.onFile?.({ object: f.obj.name, status: r.status, published, failure: r.failure ?? undefined });
  };

  while (next < plan.files.length || inFlight.size > 0) {
    // Hand off up to the window, deciding each file from its record.
    const stop = hooks.stopped?.() ?? false;
    if (!stop && inFlight.size < window && next < plan.files.length) {
      const batch = plan.files.slice(next, next + window - inFlight.size);
      next += batch.length;
      const records = await ports.records(batch);
      for (const [i, obj] of batch.entries()) {
        const r = records[i];
        const again = reimport && importAgain(obj, r, startedAt);
        const sameFile = r !== undefined && (obj.generation === undefined || r.generation === obj.generation);
        if (sameFile && finished(r) && !again) {
          files++;
          s.alreadyDone++;
          s.bytes += obj.size ?? 0;
          hooks.onFile?.({ object: obj.name, status: 'already_done', published: 0 });
          continue;
        }
        const baseline = sameFile && !finished(r) ? r.recordsPublished : 0;
        const f = { obj, baseline, finishedBefore: sameFile ? (r.finishedAt ?? 0) : 0 };
        inFlight.set(obj.name, f);
        // A file another importer holds (a live lease) is being imported: watched, not sent again.
        const held = sameFile && r.status === 'importing' && (r.leaseUntil ?? 0) > now();
        if (!held) await ports.handOff(obj, { id, ...(reimport ? { reimportAfter: startedAt } : {}) });
      }
      report();
      if (inFlight.size < window && next < plan.files.length) continue;
    }
    if (stop) break; // what was handed off finishes remotely; the same command resumes
    await new Promise((r) => setTimeout(r, hooks.pollMs ?? 1000));
    const watched = [...inFlight.values()];
    const records = await ports.records(watched.map((f) => f.obj));
    let events = 0;
    for (const [i, f] of watched.entries()) {
      const r = records[i];
      if (r && ended(r) && (r.finishedAt ?? 0) > f.finishedBefore) settle(f, r);
      else if (r && r.status !== 'done') events += Math.max(0, r.recordsPublished - f.baseline);
    }
    s.events = s.published + events;
    report();
  }
  const interrupted = next < plan.files.length || inFlight.size > 0;
  if (!interrupted) await ports.putRun(id, { completedAt: now() });
  const { files: list, ...rest } = plan;
  const accounted = s.done + s.alreadyDone + s.skippedFiles + failed.length;
  return {
    plan: { ...rest, files: list.length },
    done: s.done,
    alreadyDone: s.alreadyDone,
    failed,
    busy: [...inFlight.keys()],
    skippedFiles: s.skippedFiles,
    records: s.records,
    published: s.published,
    resumed: s.resumed,
    reconciled: !interrupted && s.records === s.published + s.resumed && accounted === list.length,
    runId: id,
    interrupted,
  };
}

/** The ports on the connector's Firestore database and backfill-files topic (ADC, or the emulators' hosts). */
export async function cloudRemotePorts(opts: { project: string; connector: string }): Promise<RemotePorts> {
  const [{ Firestore }, { PubSub }] = await Promise.all([
    import('@google-cloud/firestore'),
    import('@google-cloud/pubsub'),
  ]);
  const db: Firestore = new Firestore({
    projectId: opts.project,
    databaseId: resourceNames(opts.connector).firestoreDatabase,
    ignoreUndefinedProperties: true,
  });
  const pubsub: PubSub = new PubSub({ projectId: opts.project });
  const topic: Topic = pubsub.topic(storageImportNames(opts.connector).backfillFilesTopic);
  const imports = db.collection(FIRESTORE_IMPORTS_COLLECTION);
  const runs = db.collection(FIRESTORE_BACKFILLS_COLLECTION);
  return {
    records: async (objs) => {
      if (objs.length === 0) return [];
      const snaps = await db.getAll(...objs.map((o) => imports.doc(importDocId(o))));
      return snaps.map((s) => (s.exists ? (s.data() as FileRecord) : undefined));
    },
    handOff: async (obj, run) => {
      const m = backfillMessage(obj, run);
      await topic.publishMessage({ data: m.data, attributes: m.attributes });
    },
    getRun: async (id) => {
      const s = await runs.doc(id).get();
      return s.exists ? (s.data() as RunRecord) : undefined;
    },
    putRun: async (id, run) => {
      await runs.doc(id).set(run, { merge: true });
    },
    close: async () => {
      await Promise.allSettled([topic.flush(), pubsub.close(), db.terminate()]);
    },
  };
}
