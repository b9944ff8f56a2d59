/**
 * Each storage-export object's import, recorded in the connector's own Firestore database (collection `imports`, see
 * FIRESTORE_LAYOUT), one document per object named by a hash of `bucket/name` (object names hold `/`):
 * `{ bucket, object, generation, status, eventType?, records, recordsPublished, reason?, failure?, leaseOwner?,
 *   leaseUntil?, startedAt, updatedAt, finishedAt? }`.
 *
 * `status`: `importing` (claimed: `leaseOwner` holds it until `leaseUntil`, extended by each progress write), `done`,
 * `skipped` (a type the connector does not export), `failed` (a damaged file: `failure` says where), `interrupted` (a
 * publish failed; the next attempt resumes). `recordsPublished` counts the records from the file's start whose chunks
 * Pub/Sub acknowledged. A claim is taken in a transaction, so that two deliveries of one notification never import the
 * same object at once; a claim whose lease ran out (a crashed importer) is taken over and resumed. A new generation of
 * the object starts afresh.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { Settings } from '@google-cloud/firestore';
import { FIRESTORE_IMPORTS_COLLECTION } from '../../shared/names';
import { LazyFirestore } from '../adapters/firestore/lazy-client';
import type {
  BeginResult,
  FinishedStatus,
  FinishOutcome,
  ImportFailure,
  ObjectRef,
  ProgressStore,
} from './import-object';

/** A claim outlives the importer's longest run (a function's 9 minutes) before another may take it over. */
export const DEFAULT_LEASE_MS = 10 * 60_000;

export type ImportStatus = FinishedStatus | 'importing' | 'interrupted';

export interface ImportRecord {
  readonly bucket: string;
  readonly object: string;
  readonly generation: string | null;
  readonly status: ImportStatus;
  readonly eventType?: string;
  readonly records: number;
  readonly recordsPublished: number;
  readonly reason?: string;
  readonly failure?: ImportFailure;
  readonly leaseOwner?: string | null;
  readonly leaseUntil?: number | null;
  readonly finishedAt?: number;
}

export function importDocId(obj: Pick<ObjectRef, 'bucket' | 'name'>): string {
  return createHash('sha256').update(`${obj.bucket}/${obj.name}`).digest('hex').slice(0, 40);
}

export interface FirestoreProgressOptions {
  readonly projectId: string;
  /** The connector's database (ConnectorResourceNames.firestoreDatabase). */
  readonly databaseId: string;
  readonly leaseMs?: number;
  readonly now?: () => number;
  readonly settings?: Settings;
}

export class FirestoreProgressStore implements ProgressStore {
  /** This importer's identity in leases. */
  readonly owner = randomUUID();
  private readonly client: LazyFirestore;
  private readonly leaseMs: number;
  private readonly now: () => number;

  constructor(opts: FirestoreProgressOptions) {
    this.leaseMs = opts.leaseMs ?? DEFAULT_LEASE_MS;
    this.now = opts.now ?? Date.now;
    const { projectId, databaseId, settings } = opts;
    this.client = new LazyFirestore({ projectId, databaseId, settings, ignoreUndefinedProperties: true });
  }

  private async ref(obj: ObjectRef) {
    return (await this.client.db()).collection(FIRESTORE_IMPORTS_COLLECTION).doc(importDocId(obj));
  }

  async get(obj: ObjectRef): Promise<ImportRecord | undefined> {
    const snap = await (await this.ref(obj)).get();
    return snap.exists ? (snap.data() as ImportRecord) : undefined;
  }

  async begin(obj: ObjectRef, opts: { again?: boolean } = {}): Promise<BeginResult> {
    const db = await this.client.db();
    const ref = await this.ref(obj);
    const generation = obj.generation ?? null;
    return db.runTransaction(async (tx) => {
      const snap = await tx.get(ref);
      const now = this.now();
      const cur = snap.exists ? (snap.data() as ImportRecord) : undefined;
      const sameFile = cur !== undefined && (generation === null || cur.generation === generation);
      const finished = sameFile && (cur.status === 'done' || cur.status === 'skipped');
      if (finished && !opts.again) {
        return { action: 'finished', status: cur.status, records: cur.records } as const;
      }
      if (sameFile && cur.status === 'importing' && cur.leaseOwner !== this.owner && (cur.leaseUntil ?? 0) > now) {
        return { action: 'busy' } as const;
      }
      const resumeFrom = sameFile && !finished ? cur.recordsPublished : 0;
      tx.set(ref, {
        bucket: obj.bucket,
        object: obj.name,
        generation,
        status: 'importing',
        records: sameFile ? cur.records : 0,
        recordsPublished: resumeFrom,
        leaseOwner: this.owner,
        leaseUntil: now + this.leaseMs,
        failure: null,
        reason: null,
        startedAt: sameFile ? ((cur as { startedAt?: number }).startedAt ?? now) : now,
        updatedAt: now,
      });
      return { action: 'import', resumeFrom } as const;
    });
  }

  async advance(obj: ObjectRef, recordsPublished: number): Promise<void> {
    const now = this.now();
    await (
      await this.ref(obj)
    ).set({ recordsPublished, leaseUntil: now + this.leaseMs, updatedAt: now }, { merge: true });
  }

  async finish(obj: ObjectRef, o: FinishOutcome): Promise<void> {
    const now = this.now();
    await (
      await this.ref(obj)
    ).set(
      {
        bucket: obj.bucket,
        object: obj.name,
        generation: obj.generation ?? null,
        status: o.status,
        eventType: o.eventType,
        records: o.records,
        recordsPublished: o.recordsPublished,
        reason: o.reason ?? null,
        failure: o.failure ?? null,
        leaseOwner: null,
        leaseUntil: null,
        updatedAt: now,
        finishedAt: now,
      },
      { merge: true },
    );
  }

  async release(obj: ObjectRef): Promise<void> {
    await (
      await this.ref(obj)
    ).set({ status: 'interrupted', leaseOwner: null, leaseUntil: null, updatedAt: this.now() }, { merge: true });
  }

  async close(): Promise<void> {
    await this.client.close();
  }
}
