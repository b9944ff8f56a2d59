/**
 * Groups the flat records of one file into ingest-topic messages, with no I/O.
 *
 * A message is a JSON array of flat records (one of the bodies runtime/core/decode.ts accepts) with the Pub/Sub attribute
 * `event_type` (the records of Braze's files carry no `event_type` of their own). A message holds at most `maxEvents`
 * records (what the function translates and delivers well within its time budget: 500 by default, five Segment batches)
 * and at most `maxBytes` of body (4 MB by default, well under Pub/Sub's 10 MB per message); a single record larger than
 * that still goes alone, and the function dead-letters it as too large if Segment would refuse it.
 */

export const DEFAULT_CHUNK = { maxEvents: 500, maxBytes: 4_000_000 } as const;

export interface ChunkLimits {
  readonly maxEvents: number;
  readonly maxBytes: number;
}

export interface Chunk {
  readonly data: Buffer;
  readonly attributes: Record<string, string>;
  /** Records in the chunk. */
  readonly count: number;
}

/** Accumulates records; `add` returns a full chunk when adding one more record would cross a limit. */
export class Chunker {
  private parts: string[] = [];
  private bytes = 2;

  constructor(
    private readonly attributes: Record<string, string>,
    private readonly limits: ChunkLimits = DEFAULT_CHUNK,
  ) {}

  get pending(): number {
    return this.parts.length;
  }

  /** Adds one record; returns the chunk completed before it, if any. */
  add(record: unknown): Chunk | undefined {
    // Plain JSON of the decoded record (Currents schemas hold strings, numbers, booleans and arrays of strings).
    const json = JSON.stringify(record);
    const size = Buffer.byteLength(json) + 1;
    let full: Chunk | undefined;
    if (
      this.parts.length > 0 &&
      (this.parts.length >= this.limits.maxEvents || this.bytes + size > this.limits.maxBytes)
    ) {
      full = this.flush();
    }
    this.parts.push(json);
    this.bytes += size;
    return full;
  }

  /** The records held so far as one chunk (undefined when none). */
  flush(): Chunk | undefined {
    if (this.parts.length === 0) return undefined;
    const chunk = {
      data: Buffer.from(`[${this.parts.join(',')}]`),
      attributes: this.attributes,
      count: this.parts.length,
    };
    this.parts = [];
    this.bytes = 2;
    return chunk;
  }
}
