/**
 * Avro binary straight to JSON bytes, with no object in between: a transcoder compiled once per writer schema writes
 * each record as exactly the text `JSON.stringify` gives for the record avsc decodes (`wrapUnions: false`): the fields
 * in schema order, `null` for a null branch, enums as their symbol, arrays and maps as JSON arrays and objects.
 *
 * Why: the import turns every record into JSON for the ingest topic. Decoding into objects and stringifying them again
 * made three passes over every string (UTF-8 to a JS string, escaping, back to UTF-8); here a string that needs no
 * escaping (printable ASCII without `"` or `\`, most of Currents' ids, emails and URLs) is copied byte for byte, and any
 * other goes through `JSON.stringify`, so the text is the same either way.
 *
 * Schemas with types the flat shape never holds (bytes, fixed, logical types) get no transcoder (`undefined`): the
 * caller then decodes with avsc and stringifies. Damage is thrown (`AvroTranscodeError`) or left for the caller to see as
 * a position past the end of the block, as avsc's `decode` reports it.
 */
import type { Type } from 'avsc';

export class AvroTranscodeError extends Error {}

/** A value that runs past the end of its block (a truncated or damaged block). */
export class PastEndError extends AvroTranscodeError {
  constructor() {
    super('a value runs past the end of the block');
  }
}

/** A growable output buffer. */
export class JsonOut {
  buf: Buffer;
  len = 0;

  constructor(initial = 1 << 16) {
    this.buf = Buffer.allocUnsafe(initial);
  }

  ensure(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.len + n));
    this.buf.copy(next, 0, 0, this.len);
    this.buf = next;
  }

  byte(b: number): void {
    this.ensure(1);
    this.buf[this.len++] = b;
  }

  bytes(src: Buffer, start: number, end: number): void {
    const n = end - start;
    this.ensure(n);
    if (n > SHORT_COPY) {
      this.len += src.copy(this.buf, this.len, start, end);
      return;
    }
    // Field names, ids and small strings: a loop beats the native call.
    const buf = this.buf;
    let at = this.len;
    for (let i = start; i < end; i++) buf[at++] = src[i]!;
    this.len = at;
  }

  /** A safe integer in decimal. */
  integer(value: number): void {
    this.ensure(24);
    const buf = this.buf;
    let n = value;
    if (n < 0) {
      buf[this.len++] = 0x2d; // -
      n = -n;
    }
    let digits = 1;
    for (let p = 10; p <= n; p *= 10) digits++;
    let at = this.len + digits;
    this.len = at;
    do {
      buf[--at] = 0x30 + (n % 10);
      n = Math.floor(n / 10);
    } while (n > 0);
  }

  text(s: string): void {
    this.ensure(s.length * 3);
    this.len += this.buf.write(s, this.len);
  }
}

/** Up to this many bytes are copied in a loop rather than by Buffer#copy. */
const SHORT_COPY = 32;

const NULL = Buffer.from('null');
const TRUE = Buffer.from('true');
const FALSE = Buffer.from('false');

/** Writes one value read from `src` at `pos` to `out`; returns the position after it. */
type Writer = (src: Buffer, pos: number, out: JsonOut) => number;

const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const COMMA = 0x2c;
const COLON = 0x3a;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/**
 * Zigzag varint, exact over the safe integers (avsc's float arithmetic can lose the sign bit next to 2^53; beyond the
 * safe integers both refuse with "potential precision loss"). The sign is the first byte's low bit; the magnitude is
 * the rest, halved byte by byte so that no intermediate value needs 54 bits.
 */
let longEnd = 0;
function readLong(src: Buffer, pos: number): number {
  const first = src[pos];
  if (first === undefined) {
    longEnd = pos + 1; // past the end: the caller's position check reports it
    return 0;
  }
  let half = (first & 0x7f) >>> 1;
  let i = pos + 1;
  if (first & 0x80) {
    let scale = 64;
    for (;;) {
      const b = src[i++];
      if (b === undefined) {
        longEnd = i;
        return 0;
      }
      half += (b & 0x7f) * scale;
      if ((b & 0x80) === 0) break;
      scale *= 128;
      if (i - pos > 9) throw new AvroTranscodeError('a long runs over 10 bytes');
    }
  }
  longEnd = i;
  const value = first & 1 ? -(half + 1) : half;
  if (!Number.isSafeInteger(value)) throw new AvroTranscodeError('potential precision loss');
  return value;
}

function checkLength(src: Buffer, start: number, len: number): void {
  if (len < 0) throw new AvroTranscodeError('negative length');
  if (start + len > src.length) throw new PastEndError();
}

/** A JSON string of the UTF-8 bytes src[start, end). */
function writeString(src: Buffer, start: number, end: number, out: JsonOut): void {
  for (let i = start; i < end; i++) {
    const b = src[i]!;
    if (b < 0x20 || b === QUOTE || b === BACKSLASH || b >= 0x80) {
      out.text(JSON.stringify(src.toString('utf8', start, end)));
      return;
    }
  }
  out.byte(QUOTE);
  out.bytes(src, start, end);
  out.byte(QUOTE);
}

const stringWriter: Writer = (src, pos, out) => {
  const len = readLong(src, pos);
  const start = longEnd;
  checkLength(src, start, len);
  writeString(src, start, start + len, out);
  return start + len;
};

const longWriter: Writer = (src, pos, out) => {
  out.integer(readLong(src, pos));
  return longEnd;
};

function compile(type: Type): Writer | undefined {
  const t = type as Type & {
    typeName: string;
    fields?: Array<{ name: string; type: Type }>;
    types?: Type[];
    itemsType?: Type;
    valuesType?: Type;
    symbols?: string[];
  };
  switch (t.typeName) {
    case 'null':
      return (_src, pos, out) => {
        out.bytes(NULL, 0, 4);
        return pos;
      };
    case 'boolean':
      return (src, pos, out) => {
        const b = src[pos] ? TRUE : FALSE;
        out.bytes(b, 0, b.length);
        return pos + 1;
      };
    case 'int':
    case 'long':
      return longWriter;
    case 'float':
      return (src, pos, out) => {
        checkLength(src, pos, 4);
        out.text(JSON.stringify(src.readFloatLE(pos)));
        return pos + 4;
      };
    case 'double':
      return (src, pos, out) => {
        checkLength(src, pos, 8);
        out.text(JSON.stringify(src.readDoubleLE(pos)));
        return pos + 8;
      };
    case 'string':
      return stringWriter;
    case 'enum': {
      const symbols = t.symbols!.map((s) => JSON.stringify(s));
      return (src, pos, out) => {
        const i = readLong(src, pos);
        const symbol = symbols[i];
        if (symbol === undefined) throw new AvroTranscodeError(`enum index ${i} out of range`);
        out.text(symbol);
        return longEnd;
      };
    }
    case 'union:unwrapped': {
      const branches = t.types!.map(compile);
      if (branches.some((b) => b === undefined)) return undefined;
      return (src, pos, out) => {
        const i = readLong(src, pos);
        const branch = branches[i];
        if (branch === undefined) throw new AvroTranscodeError(`invalid union index: ${i}`);
        return branch(src, longEnd, out);
      };
    }
    case 'array': {
      const item = compile(t.itemsType!);
      return item && blocks(OPEN_ARRAY, CLOSE_ARRAY, (src, pos, out) => item(src, pos, out));
    }
    case 'map': {
      const value = compile(t.valuesType!);
      return (
        value &&
        blocks(OPEN_OBJECT, CLOSE_OBJECT, (src, pos, out) => {
          const next = stringWriter(src, pos, out);
          out.byte(COLON);
          return value(src, next, out);
        })
      );
    }
    case 'record': {
      const fields = t.fields!.map((f, i) => ({
        prefix: Buffer.from(`${i === 0 ? '{' : ','}${JSON.stringify(f.name)}:`),
        write: compile(f.type),
      }));
      if (fields.some((f) => f.write === undefined)) return undefined;
      return (src, pos, out) => {
        if (fields.length === 0) {
          out.text('{}');
          return pos;
        }
        let p = pos;
        for (const f of fields) {
          out.bytes(f.prefix, 0, f.prefix.length);
          p = f.write!(src, p, out);
        }
        out.byte(CLOSE_OBJECT);
        return p;
      };
    }
    default:
      // bytes, fixed, logical types: not in the flat shape; the caller decodes and stringifies.
      return undefined;
  }
}

/** Avro's blocked encoding of arrays and maps: counts (negative: followed by a byte size) until a zero count. */
function blocks(open: number, close: number, item: Writer): Writer {
  return (src, pos, out) => {
    out.byte(open);
    let p = pos;
    let first = true;
    for (;;) {
      let count = readLong(src, p);
      p = longEnd;
      if (count === 0) break;
      if (count < 0) {
        count = -count;
        readLong(src, p);
        p = longEnd;
      }
      for (let i = 0; i < count; i++) {
        if (p > src.length) throw new PastEndError();
        if (!first) out.byte(COMMA);
        first = false;
        p = item(src, p, out);
      }
    }
    out.byte(close);
    return p;
  };
}

/**
 * The transcoder of a writer schema: writes one record at `pos` as JSON and returns the position after it (past the
 * block's end when the record is cut short). Undefined when the schema holds a type it does not transcode.
 */
export function compileJsonTranscoder(type: Type): Writer | undefined {
  return compile(type);
}
