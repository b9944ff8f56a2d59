/**
 * Imports one storage-export object into a connector's ingest topic. The I/O comes in through ports (read the object's
 * bytes, publish a message, record progress), so that the live import, `currents import`, the tests and the bench share
 * this one sequence:
 *
 *  1. A type the path names and the connector does not select (or that is not exportable) is skipped without reading a
 *     byte; the skip is recorded (a finished object).
 *  2. `progress.begin` claims the object: a finished object (done or skipped, same generation) is not read again; one
 *     another importer holds (a live lease) is left to it (`busy`); otherwise the import starts or resumes after the
 *     records already published.
 *  3. The records are read block by block and published in chunks (runtime/storage/chunks.ts), a few in flight at once;
 *     progress advances only over the prefix of chunks Pub/Sub acknowledged, so that a crash resumes without a gap (a
 *     resumed import may re-send the chunks that were in flight: Segment deduplicates them on messageId).
 *  4. The object is marked done only when every chunk is acknowledged. A damaged file is marked failed with its detail
 *     (byte offset, records before): the records before the damage are published, and a later attempt (`currents
 *     import`, or a rewrite of the object) resumes after them. A publish failure releases the claim and is thrown, so
 *     that the caller retries.
 */
import { type Clock, systemClock } from '../core/types';
import { canonicalType } from '../../shared/catalog';
import { AvroFileError, readAvroFile } from './avro-file';
import { Chunker, type Chunk, type ChunkLimits, DEFAULT_CHUNK } from './chunks';
import { parseObjectPath, typeDecision, typeFromSchemaName } from './paths';

export interface ObjectRef {
  readonly bucket: string;
  readonly name: string;
  /** The object's generation; a new generation (the object rewritten) is imported afresh. */
  readonly generation?: string;
  readonly size?: number;
}

export type FinishedStatus = 'done' | 'skipped' | 'failed';

export interface ImportFailure {
  readonly detail: string;
  readonly offset: number;
  readonly recordsBefore: number;
}

/** How an object's import ended, as recorded. */
export interface FinishOutcome {
  status: FinishedStatus;
  eventType?: string;
  records: number;
  recordsPublished: number;
  reason?: string;
  failure?: ImportFailure;
}

export type BeginResult =
  | { readonly action: 'import'; readonly resumeFrom: number }
  | { readonly action: 'finished'; readonly status: 'done' | 'skipped'; readonly records: number }
  | { readonly action: 'busy' };

/** The connector's record of each object's import (runtime/storage/progress.ts keeps it in Firestore). */
export interface ProgressStore {
  /** `again`: a finished object is imported afresh (a recovery backfill), not skipped. */
  begin(obj: ObjectRef, opts?: { again?: boolean }): Promise<BeginResult>;
  /** Records (from the file's start) whose chunks are all acknowledged. */
  advance(obj: ObjectRef, recordsPublished: number): Promise<void>;
  finish(obj: ObjectRef, outcome: FinishOutcome): Promise<void>;
  /** Gives the claim up without finishing (a publish failed): the next attempt resumes at once. */
  release(obj: ObjectRef): Promise<void>;
}

export interface ImportPorts {
  read(obj: ObjectRef): AsyncIterable<Uint8Array>;
  publish(data: Buffer, attributes: Record<string, string>): Promise<unknown>;
  progress: ProgressStore;
}

export interface ImportOptions {
  /** Canonical types the connector selects. */
  readonly selected: ReadonlySet<string>;
  readonly chunk?: ChunkLimits;
  /** Chunks published concurrently (default 4). */
  readonly inFlight?: number;
  /** Least time between two progress writes (default 1000 ms; 0 writes after every acknowledged chunk). */
  readonly progressIntervalMs?: number;
  /** Tells the time between progress writes (default: the system clock). */
  readonly clock?: Clock;
  /**
   * Import finished objects again from their first record (recovering events the function dropped while a credential
   * had expired: they were imported, not delivered). Segment deduplicates what it already has.
   */
  readonly again?: boolean;
  /** Called after each acknowledged chunk (progress bars). */
  readonly onChunk?: (events: number) => void;
}

export interface ImportResult {
  readonly object: string;
  /** `already_done`: finished earlier, not read again; `busy`: another importer holds it. */
  readonly status: FinishedStatus | 'already_done' | 'busy';
  readonly eventType?: string;
  /** Records in the file (as far as it could be read). */
  readonly records: number;
  /** Records published by this attempt. */
  readonly published: number;
  /** Records left out because an earlier attempt had published them. */
  readonly resumedAfter: number;
  readonly chunks: number;
  readonly reason?: string;
  readonly failure?: ImportFailure;
}

/** Publishes chunks with up to `limit` in flight; `acked` is the number of records of the acknowledged prefix. */
class ChunkPipeline {
  private readonly pending: Array<{ count: number; done: boolean }> = [];
  private readonly inFlight = new Set<Promise<void>>();
  private error: unknown;
  acked: number;
  chunks = 0;

  constructor(
    private readonly send: (c: Chunk) => Promise<unknown>,
    private readonly limit: number,
    start: number,
    private readonly onAdvance: (acked: number, events: number) => void,
  ) {
    this.acked = start;
  }

  async push(chunk: Chunk): Promise<void> {
    if (this.error) throw this.error;
    const slot = { count: chunk.count, done: false };
    this.pending.push(slot);
    const p: Promise<void> = this.send(chunk).then(
      () => {
        slot.done = true;
        this.chunks++;
        let advanced = 0;
        while (this.pending.length > 0 && this.pending[0]!.done) advanced += this.pending.shift()!.count;
        if (advanced > 0) {
          this.acked += advanced;
          this.onAdvance(this.acked, chunk.count);
        }
      },
      (e: unknown) => {
        this.error ??= e;
      },
    );
    const tracked = p.finally(() => this.inFlight.delete(tracked));
    this.inFlight.add(tracked);
    if (this.inFlight.size >= this.limit) await Promise.race(this.inFlight);
    if (this.error) throw this.error;
  }

  /** Waits for every chunk; throws the first publish failure. */
  async drain(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.race(this.inFlight);
    if (this.error) throw this.error;
  }
}

/**
 * Coalesces progress writes: at most one in flight and one per `intervalMs`, the latest value wins; `settle` writes
 * the last value noted. A crash loses at most the last interval's progress (those chunks are re-sent on resume).
 */
class ProgressWriter {
  private latest?: number;
  private running?: Promise<void>;
  private lastWrite = 0;

  constructor(
    private readonly write: (n: number) => Promise<void>,
    private readonly intervalMs: number,
    private readonly clock: Clock,
  ) {}

  note(n: number): void {
    this.latest = n;
    if (this.clock.now() - this.lastWrite >= this.intervalMs) this.flush();
  }

  private flush(): void {
    this.running ??= this.loop().finally(() => (this.running = undefined));
  }

  private async loop(): Promise<void> {
    while (this.latest !== undefined) {
      const n = this.latest;
      this.latest = undefined;
      this.lastWrite = this.clock.now();
      await this.write(n);
    }
  }

  async settle(): Promise<void> {
    while (this.running) await this.running;
    if (this.latest !== undefined) {
      this.flush();
      await this.running;
    }
  }
}

export async function importObject(obj: ObjectRef, ports: ImportPorts, opts: ImportOptions): Promise<ImportResult> {
  const base = { object: obj.name, records: 0, published: 0, resumedAfter: 0, chunks: 0 };
  /** A type the connector does not take: recorded as skipped without reading the records. */
  const skipped = async (eventType: string | undefined, reason: string): Promise<ImportResult> => {
    await ports.progress.finish(obj, { status: 'skipped', eventType, records: 0, recordsPublished: 0, reason });
    return { ...base, status: 'skipped', eventType, reason };
  };
  const pathType = parseObjectPath(obj.name).eventType;
  if (pathType !== undefined) {
    const skip = typeDecision(pathType, opts.selected);
    if (skip) return skipped(pathType, skip.reason);
  }
  const begin = await ports.progress.begin(obj, { again: opts.again });
  if (begin.action === 'busy') return { ...base, status: 'busy', eventType: pathType };
  if (begin.action === 'finished')
    return { ...base, status: 'already_done', eventType: pathType, records: begin.records };

  const resumeFrom = begin.resumeFrom;
  const writer = new ProgressWriter(
    (n) => ports.progress.advance(obj, n),
    opts.progressIntervalMs ?? 1000,
    opts.clock ?? systemClock,
  );
  let eventType = pathType !== undefined ? (canonicalType(pathType) ?? pathType) : undefined;
  let records = resumeFrom;
  let pipeline: ChunkPipeline | undefined;
  let chunker: Chunker | undefined;
  try {
    try {
      for await (const item of readAvroFile(ports.read(obj), { skipRecords: resumeFrom, as: 'json' })) {
        if (item.kind === 'header') {
          if (eventType === undefined) {
            const fromSchema = typeFromSchemaName(item.header.schemaName);
            const skip =
              fromSchema === undefined
                ? { reason: 'not_exportable' as const }
                : typeDecision(fromSchema, opts.selected);
            if (skip) {
              return skipped(fromSchema, skip.reason);
            }
            eventType = canonicalType(fromSchema!) ?? fromSchema!;
          }
          chunker = new Chunker({ event_type: eventType }, opts.chunk ?? DEFAULT_CHUNK);
          pipeline = new ChunkPipeline(
            (c) => ports.publish(c.data, c.attributes),
            opts.inFlight ?? 4,
            resumeFrom,
            (acked, events) => {
              writer.note(acked);
              opts.onChunk?.(events);
            },
          );
          continue;
        }
        if (item.kind !== 'json') continue;
        let start = 0;
        for (const end of item.ends) {
          const full = chunker!.addJson(item.json, start, end);
          start = end;
          if (full) await pipeline!.push(full);
        }
        records += item.ends.length;
      }
    } catch (e) {
      if (!(e instanceof AvroFileError)) throw e;
      // The records before the damage are published; the file is marked failed for a later attempt.
      const last = chunker?.flush();
      if (last) await pipeline!.push(last);
      await pipeline?.drain();
      await writer.settle();
      const failure = { detail: e.detail, offset: e.offset, recordsBefore: e.recordsBefore };
      const published = (pipeline?.acked ?? resumeFrom) - resumeFrom;
      await ports.progress.finish(obj, {
        status: 'failed',
        eventType,
        records: e.recordsBefore,
        recordsPublished: pipeline?.acked ?? resumeFrom,
        failure,
      });
      return {
        ...base,
        status: 'failed',
        eventType,
        records: e.recordsBefore,
        published,
        resumedAfter: resumeFrom,
        chunks: pipeline?.chunks ?? 0,
        failure,
      };
    }
    const last = chunker?.flush();
    if (last) await pipeline!.push(last);
    await pipeline?.drain();
    await writer.settle();
  } catch (e) {
    await writer.settle().catch(() => undefined);
    await ports.progress.release(obj).catch(() => undefined);
    throw e;
  }
  await ports.progress.finish(obj, { status: 'done', eventType, records, recordsPublished: records });
  return {
    ...base,
    status: 'done',
    eventType,
    records,
    published: records - resumeFrom,
    resumedAfter: resumeFrom,
    chunks: pipeline?.chunks ?? 0,
  };
}
