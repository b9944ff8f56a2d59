/**
 * A Firestore client opened on first use (the library is most of a cold import, so importing an adapter stays cheap),
 * for one database; `close()` terminates it, and a later use opens a new one. The state store, the traces and the
 * storage import's progress each hold one.
 */
import type { Firestore, Settings } from '@google-cloud/firestore';

export type FirestoreModule = typeof import('@google-cloud/firestore');

export interface LazyFirestoreOptions {
  readonly projectId: string;
  readonly databaseId: string;
  readonly settings?: Settings;
  /** Drop undefined fields of written documents instead of refusing them. Default false, as the library. */
  readonly ignoreUndefinedProperties?: boolean;
}

export class LazyFirestore {
  private ready?: Promise<{ db: Firestore; fs: FirestoreModule }>;

  constructor(private readonly opts: LazyFirestoreOptions) {}

  /** The client and the library's module (for its `FieldValue`, `Timestamp`, ...). */
  open(): Promise<{ db: Firestore; fs: FirestoreModule }> {
    const { settings, projectId, databaseId, ignoreUndefinedProperties } = this.opts;
    this.ready ??= import('@google-cloud/firestore').then((fs) => ({
      fs,
      db: new fs.Firestore({
        ...settings,
        projectId,
        databaseId,
        ...(ignoreUndefinedProperties ? { ignoreUndefinedProperties } : {}),
      }),
    }));
    return this.ready;
  }

  async db(): Promise<Firestore> {
    return (await this.open()).db;
  }

  /** Terminates the client, if one was opened. */
  async close(): Promise<void> {
    const ready = this.ready;
    this.ready = undefined;
    if (ready) await (await ready).db.terminate();
  }
}
