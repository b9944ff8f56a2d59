/**
 * Groups the flat records of one file into ingest-topic messages, with no I/O.
 *
 * A message is a JSON array of flat records (one of the bodies runtime/core/decode.ts accepts) with the Pub/Sub attribute
 * `event_type` (the records of Braze's files carry no `event_type` of their own). A message holds at most `maxEvents`
 * records (what the function translates and delivers well within its time budget: 500 by default, five Segment batches)
 * and at most `maxBytes` of body (4 MB by default, well under Pub/Sub's 10 MB per message); a single record larger than
 * that still goes alone, and the function dead-letters it as too large if Segment would refuse it.
 */

import { CLOSE_ARRAY, COMMA, OPEN_ARRAY } from '../core/json-bytes';
import { JsonOut } from './avro-json';

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

/**
 * Accumulates records' JSON into one growing buffer; `addJson` returns a full chunk when adding one more record would cross
 * a limit. The chunk's bytes are copied out, so the buffer is reused for the next chunk.
 */
export class Chunker {
  private readonly out = new JsonOut();
  private count = 0;

  constructor(
    private readonly attributes: Record<string, string>,
    private readonly limits: ChunkLimits = DEFAULT_CHUNK,
  ) {}

  /** Adds one record given as its JSON text, `json[start, end)`; returns the chunk completed before it, if any. */
  addJson(json: Buffer, start: number, end: number): Chunk | undefined {
    const size = end - start + 1;
    let full: Chunk | undefined;
    if (this.count > 0 && (this.count >= this.limits.maxEvents || this.out.len + size + 1 > this.limits.maxBytes)) {
      full = this.flush();
    }
    this.out.byte(this.count === 0 ? OPEN_ARRAY : COMMA);
    this.out.bytes(json, start, end);
    this.count++;
    return full;
  }

  /** The records held so far as one chunk (undefined when none). */
  flush(): Chunk | undefined {
    if (this.count === 0) return undefined;
    this.out.byte(CLOSE_ARRAY);
    const data = Buffer.allocUnsafe(this.out.len);
    this.out.buf.copy(data, 0, 0, this.out.len);
    const chunk = { data, attributes: this.attributes, count: this.count };
    this.out.len = 0;
    this.count = 0;
    return chunk;
  }
}
