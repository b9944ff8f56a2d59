/**
 * The connector's own Firestore database, opened lazily on first use (so that importing the state store stays cheap),
 * with the two places the state store uses (`connector/state` and the `parked` collection) and the operation counts.
 */
import type { CollectionReference, DocumentReference, Firestore, Settings } from '@google-cloud/firestore';
import { FIRESTORE_LAYOUT } from '../../../shared/names';
import type { StoreStats } from '../../ports';
import { LazyFirestore, type FirestoreModule } from './lazy-client';

export type { FirestoreModule } from './lazy-client';

export interface StateRefs {
  readonly db: Firestore;
  readonly fs: FirestoreModule;
  readonly stateRef: DocumentReference;
  readonly parked: CollectionReference;
}

export class FirestoreConnection {
  /** Shared by everything that uses this connection. */
  readonly stats: StoreStats = { reads: 0, writes: 0, deletes: 0, transactions: 0 };
  private readonly client: LazyFirestore;

  constructor(opts: { projectId: string; databaseId: string; settings?: Settings }) {
    this.client = new LazyFirestore({ ...opts, ignoreUndefinedProperties: true });
  }

  async refs(): Promise<StateRefs> {
    const { db, fs } = await this.client.open();
    return {
      db,
      fs,
      stateRef: db.doc(FIRESTORE_LAYOUT.stateDocument),
      parked: db.collection(FIRESTORE_LAYOUT.parkedCollection),
    };
  }

  /** Closes the Firestore client (tests, shutdown); a later use opens a new one. */
  close(): Promise<void> {
    return this.client.close();
  }
}
