/**
 * Outcomes of traced messages (Pub/Sub attribute `currents_trace`), written to `traces/<id>` in the connector's database
 * so that `currents send-test` can wait for a test event's outcome, locally or in a real project. Only traced messages
 * write here: the steady-state path never does.
 */
import type { TraceSink } from '../ports';
import { LazyFirestore } from './firestore/lazy-client';

export const TRACE_COLLECTION = 'traces';

export class FirestoreTraces implements TraceSink {
  private readonly client: LazyFirestore;

  constructor(opts: { projectId: string; databaseId: string }) {
    this.client = new LazyFirestore(opts);
  }

  async record(traceId: string, outcome: Record<string, unknown>): Promise<void> {
    const db = await this.client.db();
    await db.collection(TRACE_COLLECTION).doc(traceId.replace(/\//g, '_').slice(0, 200)).set(outcome);
  }

  /** Closes the Firestore client, if one was opened (a later `record` opens a new one). */
  close(): Promise<void> {
    return this.client.close();
  }
}
