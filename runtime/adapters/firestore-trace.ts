/**
 * Outcomes of traced messages (Pub/Sub attribute `currents_trace`), written to `traces/<id>` in the connector's database
 * so that `currents send-test` can wait for a test event's outcome, locally or in a real project. Only traced messages
 * write here: the steady-state path never does.
 */
import type { Firestore } from '@google-cloud/firestore';
import type { TraceSink } from '../ports';

export const TRACE_COLLECTION = 'traces';

export class FirestoreTraces implements TraceSink {
  private db?: Promise<Firestore>;

  constructor(private readonly opts: { projectId: string; databaseId: string }) {}

  private client(): Promise<Firestore> {
    this.db ??= import('@google-cloud/firestore').then(
      (fs) => new fs.Firestore({ projectId: this.opts.projectId, databaseId: this.opts.databaseId }),
    );
    return this.db;
  }

  async record(traceId: string, outcome: Record<string, unknown>): Promise<void> {
    const db = await this.client();
    await db.collection(TRACE_COLLECTION).doc(traceId.replace(/\//g, '_').slice(0, 200)).set(outcome);
  }

  /** Closes the Firestore client, if one was opened (a later `record` opens a new one). */
  async close(): Promise<void> {
    const db = this.db;
    this.db = undefined;
    if (db) await (await db).terminate();
  }
}
