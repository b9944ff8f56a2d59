/**
 * One connector's importer, wired to the real adapters: Cloud Storage (the real client; the local stand-in with
 * `apiEndpoint`), the connector's ingest topic (the receiver's publisher) and the connector's Firestore database. The live
 * import (a bucket notification), `currents import` and the local run all go through `importObject` here.
 */
import { selectedTypes, type Connector } from '../../shared/connector';
import { resourceNames } from '../../shared/names';
import { PubSubIngestPublisher } from '../adapters/ingest-publisher';
import { importAgain } from './backfill';
import type { ChunkLimits } from './chunks';
import { StorageSource } from './gcs';
import { importObject, type ImportOptions, type ImportResult, type ObjectRef } from './import-object';
import { UNKNOWN_TYPES_SELECTED } from './paths';
import { FirestoreProgressStore } from './progress';

export interface ImporterOptions {
  readonly project: string;
  readonly connector: Pick<Connector, 'name' | 'events'> & Partial<Pick<Connector, 'exportUnknownTypes'>>;
  /** The local Cloud Storage stand-in's endpoint (else Google, with ADC). */
  readonly apiEndpoint?: string;
  readonly chunk?: ChunkLimits;
  readonly inFlight?: number;
  readonly progressIntervalMs?: number;
  /** Pub/Sub publish timeout per chunk (default 60 s: an import is not answering anyone). */
  readonly publishTimeoutMs?: number;
  /** The topic published on (default: the connector's ingest topic; a backfill's: its backfill topic). */
  readonly topic?: string;
  /** How long a claim on an object holds without a progress write (default DEFAULT_LEASE_MS; local runs shorten it). */
  readonly leaseMs?: number;
  /** Replaces the publisher (tests that cut Pub/Sub). */
  readonly publish?: (data: Buffer, attributes: Record<string, string>) => Promise<unknown>;
}

export class ConnectorImporter {
  readonly source: StorageSource;
  readonly progress: FirestoreProgressStore;
  readonly selected: ReadonlySet<string>;
  private readonly publisher: PubSubIngestPublisher;

  constructor(private readonly opts: ImporterOptions) {
    const names = resourceNames(opts.connector.name);
    this.source = new StorageSource({ projectId: opts.project, apiEndpoint: opts.apiEndpoint });
    this.progress = new FirestoreProgressStore({
      projectId: opts.project,
      databaseId: names.firestoreDatabase,
      leaseMs: opts.leaseMs,
    });
    this.publisher = new PubSubIngestPublisher({
      projectId: opts.project,
      topic: opts.topic ?? names.ingestTopic,
      timeoutMs: opts.publishTimeoutMs ?? 60_000,
    });
    const unknown = opts.connector.exportUnknownTypes ? [UNKNOWN_TYPES_SELECTED] : [];
    this.selected = new Set([...selectedTypes(opts.connector), ...unknown]);
  }

  import(obj: ObjectRef, extra: Pick<ImportOptions, 'onChunk' | 'again'> = {}): Promise<ImportResult> {
    return importObject(
      obj,
      {
        read: (o) => this.source.read(o),
        publish: this.opts.publish ?? ((d, a) => this.publisher.publish(d, a)),
        progress: this.progress,
      },
      {
        selected: this.selected,
        chunk: this.opts.chunk,
        inFlight: this.opts.inFlight,
        progressIntervalMs: this.opts.progressIntervalMs,
        ...extra,
      },
    );
  }

  async close(): Promise<void> {
    await Promise.allSettled([this.publisher.close(), this.progress.close()]);
  }
}

/** A backfill's file: imported again (`--reimport`) unless it was finished since the run began (backfill.ts). */
export async function importBackfillFile(
  importer: ConnectorImporter,
  obj: ObjectRef,
  after: number | undefined,
): Promise<ImportResult> {
  const again = after !== undefined && importAgain(obj, await importer.progress.get(obj), after);
  return importer.import(obj, { again });
}
