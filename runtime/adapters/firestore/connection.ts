/**
 * The connector's own Firestore database, opened lazily on first use (so that importing the state store stays cheap),
 * with the two places the state store uses (`connector/state` and the `parked` collection) and the operation counts.
 */
import type { CollectionReference, DocumentReference, Firestore, Settings } from '@google-cloud/firestore';
import { FIRESTORE_LAYOUT } from '../../../shared/names';
import type { StoreStats } from '../../ports';

export type FirestoreModule = typeof import('@google-cloud/firestore');

export interface StateRefs {
  readonly db: Firestore;
  readonly fs: FirestoreModule;
  readonly stateRef: DocumentReference;
  readonly parked: CollectionReference;
}

export class FirestoreConnection {
  /** Shared by everything that uses this connection. */
  readonly stats: StoreStats = { reads: 0, writes: 0, deletes: 0, transactions: 0 };
  private ready?: Promise<{ db: Firestore; fs: FirestoreModule }>;

  constructor(private readonly opts: { projectId: string; databaseId: string; settings?: Settings }) {}

  private client(): Promise<{ db: Firestore; fs: FirestoreModule }> {
    this.ready ??= import('@google-cloud/firestore').then((fs) => ({
      fs,
      db: new fs.Firestore({
        ...this.opts.settings,
        projectId: this.opts.projectId,
        databaseId: this.opts.databaseId,
        ignoreUndefinedProperties: true,
      }),
    }));
    return this.ready;
  }

  async refs(): Promise<StateRefs> {
    const { db, fs } = await this.client();
    return {
      db,
      fs,
      stateRef: db.doc(FIRESTORE_LAYOUT.stateDocument),
      parked: db.collection(FIRESTORE_LAYOUT.parkedCollection),
    };
  }

  /** Closes the Firestore client (tests, shutdown); a later use opens a new one. */
  async close(): Promise<void> {
    if (!this.ready) return;
    const { db } = await this.ready;
    await db.terminate();
    this.ready = undefined;
  }
}
