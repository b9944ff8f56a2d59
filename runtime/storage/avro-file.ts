/**
 * Reading an Avro object container file from a stream of bytes, block by block, with no I/O of its own: the bytes come
 * from any async iterable (a Cloud Storage read stream, a file, a test's buffer).
 *
 * The rules:
 *  - the writer schema comes from the file's header (`avro.schema`), so that a newer schema (extra nullable fields, a new
 *    record name) is read as written; the codec is `null` or `deflate` (anything else is a damaged file);
 *  - at most one block (plus the bytes of the next one that already arrived) is held at a time, so memory stays flat
 *    whatever the file's size;
 *  - every record decoded before a damage is yielded; the damage is then thrown as an `AvroFileError` that says where
 *    (the byte offset of the block that could not be read) and how many records came before it. A file that ends in
 *    the middle of its header or of a block is damaged too (truncated): it is never taken as complete.
 *
 * avsc does the schema parsing and record decoding (`Type.forSchema`, `Type#decode`); the framing (header, block count,
 * size, sync marker) is read here rather than through avsc's BlockDecoder stream, which drops a trailing partial block
 * without a word and cannot say where a damage is.
 */
import { inflateRawSync } from 'node:zlib';
import { Type } from 'avsc';
import { compileJsonTranscoder, JsonOut, PastEndError } from './avro-json';

/**
 * A block inflates synchronously: for blocks of tens of KB the thread-pool round trip of the async call cost three times
 * the inflating itself. No block may inflate past this (a damaged or hostile block is refused, not allowed to take the
 * memory).
 */
const MAX_BLOCK_BYTES = 64 * 1024 * 1024;

const MAGIC = Buffer.from([0x4f, 0x62, 0x6a, 0x01]); // "Obj" 1
const SYNC_SIZE = 16;

/** The header of an object container file (the schema the Avro specification gives it). */
const HEADER_TYPE = Type.forSchema({
  type: 'record',
  name: 'org.apache.avro.file.Header',
  fields: [
    { name: 'magic', type: { type: 'fixed', name: 'Magic', size: 4 } },
    { name: 'meta', type: { type: 'map', values: 'bytes' } },
    { name: 'sync', type: { type: 'fixed', name: 'Sync', size: SYNC_SIZE } },
  ],
});

export const SUPPORTED_CODECS = ['null', 'deflate'] as const;

/** A damaged or truncated file: where, and how many records were read before it. */
export class AvroFileError extends Error {
  constructor(
    readonly detail: string,
    /** Byte offset of the header or block that could not be read. */
    readonly offset: number,
    /** Records yielded before the damage. */
    readonly recordsBefore: number,
  ) {
    super(`${detail} at byte offset ${offset} (after ${recordsBefore} records)`);
    this.name = 'AvroFileError';
  }
}

export interface AvroHeader {
  /** The writer schema's full name (namespace + name), e.g. `dataexport.S3.inner.users.messages.email.Click`. */
  readonly schemaName: string | undefined;
  readonly codec: string;
  /** The writer schema as parsed by avsc. */
  readonly writerType: Type;
}

export type AvroItem =
  | { readonly kind: 'header'; readonly header: AvroHeader }
  /** The records of one block (or the good part of a damaged one), in file order. */
  | { readonly kind: 'records'; readonly records: unknown[]; readonly offset: number }
  /**
   * The same, as JSON (`as: 'json'`): record i is `json[ends[i-1] ?? 0, ends[i])`, the text `JSON.stringify` gives for
   * it. `json` is reused for the next block: copy what must outlive the iteration step.
   */
  | { readonly kind: 'json'; readonly json: Buffer; readonly ends: readonly number[]; readonly offset: number };

/**
 * Reads one record at `pos` into the block's objects or JSON; returns the position after it (negative or past the end
 * when the record is cut short).
 */
type RecordReader = (data: Buffer, pos: number) => number;

/** A growing window over the incoming bytes: what has arrived and not been consumed yet. */
class ByteWindow {
  private buf: Buffer = Buffer.alloc(0);
  private pos = 0;
  /** File offset of `buf[0]`. */
  private base = 0;
  private ended = false;
  private readonly it: AsyncIterator<Uint8Array>;

  constructor(source: AsyncIterable<Uint8Array>) {
    this.it = source[Symbol.asyncIterator]();
  }

  get offset(): number {
    return this.base + this.pos;
  }
  get bytes(): Buffer {
    return this.buf;
  }
  get at(): number {
    return this.pos;
  }
  get available(): number {
    return this.buf.length - this.pos;
  }
  get done(): boolean {
    return this.ended && this.available === 0;
  }

  advance(n: number): void {
    this.pos += n;
  }

  /** Reads more bytes; false at the end of the stream. Drops the consumed part first, so memory holds one block. */
  async more(): Promise<boolean> {
    if (this.ended) return false;
    const next = await this.it.next();
    if (next.done) {
      this.ended = true;
      return false;
    }
    const chunk = Buffer.from(next.value.buffer, next.value.byteOffset, next.value.byteLength);
    this.base += this.pos;
    this.buf = this.pos === this.buf.length ? chunk : Buffer.concat([this.buf.subarray(this.pos), chunk]);
    this.pos = 0;
    return true;
  }

  /** Makes at least `n` bytes available; false when the stream ends first. */
  async need(n: number): Promise<boolean> {
    while (this.available < n) if (!(await this.more())) return false;
    return true;
  }

  async close(): Promise<void> {
    await this.it.return?.();
  }
}

/** Zigzag varint (Avro long) at `pos`: [value, next position], or undefined when the bytes end first. */
function readLong(buf: Buffer, pos: number): [number, number] | undefined {
  let n = 0;
  let shift = 1;
  for (let i = pos; i < buf.length; i++) {
    const b = buf[i]!;
    n += (b & 0x7f) * shift;
    shift *= 128;
    if ((b & 0x80) === 0) return [n % 2 === 0 ? n / 2 : -(n + 1) / 2, i + 1];
    if (i - pos >= 9) return [NaN, i + 1];
  }
  return undefined;
}

async function readHeader(w: ByteWindow): Promise<{ header: AvroHeader; sync: Buffer }> {
  if (!(await w.need(MAGIC.length))) throw new AvroFileError('truncated file: no Avro header', 0, 0);
  if (!w.bytes.subarray(w.at, w.at + MAGIC.length).equals(MAGIC)) {
    throw new AvroFileError('not an Avro object container file (no magic bytes)', 0, 0);
  }
  for (;;) {
    const { value, offset } = HEADER_TYPE.decode(w.bytes, w.at) as {
      value?: { meta: Record<string, Buffer> };
      offset: number;
    };
    if (offset >= 0 && value) {
      w.advance(offset - w.at);
      const codec = (value.meta['avro.codec'] ?? Buffer.from('null')).toString();
      if (!(SUPPORTED_CODECS as readonly string[]).includes(codec)) {
        throw new AvroFileError(`unsupported codec '${codec}' (expected null or deflate)`, 0, 0);
      }
      const rawSchema = value.meta['avro.schema'];
      if (!rawSchema) throw new AvroFileError("header has no 'avro.schema'", 0, 0);
      let writerType: Type;
      try {
        // Unions decode to their plain value (`null` or the value): the flat shape has no union wrappers.
        writerType = Type.forSchema(JSON.parse(rawSchema.toString()) as never, { wrapUnions: false });
      } catch (e) {
        throw new AvroFileError(
          `writer schema in the header is not a valid Avro schema (${(e as Error).message})`,
          0,
          0,
        );
      }
      const sync = Buffer.from(w.bytes.subarray(w.at - SYNC_SIZE, w.at));
      return { header: { schemaName: writerType.name, codec, writerType }, sync };
    }
    if (!(await w.more())) throw new AvroFileError('truncated file: the header is incomplete', 0, 0);
  }
}

/**
 * Reads one container file: yields its header first, then the records of each block. Throws `AvroFileError` on a damage
 * after yielding every record before it. `skipRecords` (a resumed import) leaves out the file's first records: whole
 * blocks are then framed and checked but not decompressed nor decoded; `offset`s and `recordsBefore` still count them.
 */
export async function* readAvroFile(
  source: AsyncIterable<Uint8Array>,
  opts: { skipRecords?: number; as?: 'objects' | 'json' } = {},
): AsyncGenerator<AvroItem> {
  const w = new ByteWindow(source);
  const skip = opts.skipRecords ?? 0;
  let records = 0;
  try {
    const { header, sync } = await readHeader(w);
    yield { kind: 'header', header };
    const type = header.writerType;
    const json = opts.as === 'json';
    // Objects: avsc decodes. JSON: the schema's transcoder writes each record's text (or, for a schema it does not
    // transcode, avsc decodes and JSON.stringify writes).
    let objects: unknown[] = [];
    const out = new JsonOut();
    let ends: number[] = [];
    const transcode = json ? compileJsonTranscoder(type) : undefined;
    const read: RecordReader = transcode
      ? (data, pos) => {
          const next = transcode(data, pos, out);
          ends.push(out.len);
          return next;
        }
      : (data, pos) => {
          const r = type.decode(data, pos) as { value: unknown; offset: number };
          if (r.offset < 0) return r.offset;
          if (json) {
            out.text(JSON.stringify(r.value));
            ends.push(out.len);
          } else objects.push(r.value);
          return r.offset;
        };
    for (;;) {
      if (w.available === 0 && !(await w.more())) return; // clean end: right after a sync marker
      const blockOffset = w.offset;
      // Block header: count and size (two longs), then `size` bytes and the 16-byte sync marker.
      let count: [number, number] | undefined;
      let size: [number, number] | undefined;
      for (;;) {
        count = readLong(w.bytes, w.at);
        size = count && readLong(w.bytes, count[1]);
        if (size) break;
        if (!(await w.more()))
          throw new AvroFileError('truncated file: a block header is incomplete', blockOffset, records);
      }
      const [n] = count!;
      const [len, afterSize] = size;
      if (!(n >= 0) || !(len >= 0) || !Number.isSafeInteger(n) || !Number.isSafeInteger(len)) {
        throw new AvroFileError('corrupt block header (bad record count or size)', blockOffset, records);
      }
      const headLen = afterSize - w.at;
      if (!(await w.need(headLen + len + SYNC_SIZE))) {
        throw new AvroFileError('truncated file: the last block is incomplete', blockOffset, records);
      }
      const start = w.at + headLen;
      const marker = w.bytes.subarray(start + len, start + len + SYNC_SIZE);
      if (!marker.equals(sync))
        throw new AvroFileError('corrupt block (sync marker does not match)', blockOffset, records);
      let data = w.bytes.subarray(start, start + len);
      w.advance(headLen + len + SYNC_SIZE);
      if (records + n <= skip) {
        records += n;
        continue;
      }
      if (header.codec === 'deflate') {
        try {
          data = inflateRawSync(data, { maxOutputLength: MAX_BLOCK_BYTES });
        } catch (e) {
          throw new AvroFileError(`corrupt block (deflate: ${(e as Error).message})`, blockOffset, records);
        }
      }
      objects = [];
      ends = [];
      out.len = 0;
      let pos = 0;
      let failure: string | undefined;
      for (let i = 0; i < n; i++) {
        let next: number;
        try {
          next = read(data, pos);
        } catch (e) {
          failure =
            e instanceof PastEndError
              ? `corrupt block (record ${i + 1} of ${n} runs past the block's end)`
              : `corrupt record ${i + 1} of the block (${(e as Error).message})`;
          break;
        }
        if (next < 0 || next > data.length) {
          if (ends.length > i) ends.pop();
          failure = `corrupt block (record ${i + 1} of ${n} runs past the block's end)`;
          break;
        }
        pos = next;
      }
      if (!failure && pos !== data.length)
        failure = `corrupt block (${data.length - pos} bytes left after ${n} records)`;
      const decoded = json ? ends.length : objects.length;
      const drop = Math.max(0, Math.min(decoded, skip - records));
      records += decoded;
      if (decoded > drop) {
        if (!json) yield { kind: 'records', records: drop ? objects.slice(drop) : objects, offset: blockOffset };
        else {
          const from = drop ? ends[drop - 1]! : 0;
          yield {
            kind: 'json',
            json: out.buf.subarray(from, ends[decoded - 1]),
            ends: drop || from ? ends.slice(drop).map((e) => e - from) : ends,
            offset: blockOffset,
          };
        }
      }
      if (failure) throw new AvroFileError(failure, blockOffset, records);
    }
  } finally {
    await w.close();
  }
}
