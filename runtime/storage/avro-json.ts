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
import { BACKSLASH, CLOSE_ARRAY, CLOSE_OBJECT, COLON, COMMA, OPEN_ARRAY, OPEN_OBJECT, QUOTE } from '../core/json-bytes';

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

/**
 * Zigzag varint, exact over the safe integers (avsc's float arithmetic can lose the sign bit next to 2^53; beyond the
 * safe integers both refuse with "potential precision loss"). The sign is the first byte's low bit; the magnitude is
 * the rest, halved byte by byte so that no intermediate value needs 54 bits.
 */
const cursor = { end: 0 };
function readLong(src: Buffer, pos: number): number {
  const first = src[pos];
  if (first === undefined) {
    cursor.end = pos + 1; // past the end: the caller's position check reports it
    return 0;
  }
  let half = (first & 0x7f) >>> 1;
  let i = pos + 1;
  if (first & 0x80) {
    let scale = 64;
    for (;;) {
      const b = src[i++];
      if (b === undefined) {
        cursor.end = i;
        return 0;
      }
      half += (b & 0x7f) * scale;
      if ((b & 0x80) === 0) break;
      scale *= 128;
      if (i - pos > 9) throw new AvroTranscodeError('a long runs over 10 bytes');
    }
  }
  cursor.end = i;
  const value = first & 1 ? -(half + 1) : half;
  if (!Number.isSafeInteger(value)) throw new AvroTranscodeError('potential precision loss');
  return value;
}

function checkLength(src: Buffer, start: number, len: number): void {
  if (len < 0) throw new AvroTranscodeError('negative length');
  if (start + len > src.length) throw new PastEndError();
}

/**
 * Bytes a JSON string cannot hold as they are: controls, `"` and `\\`; and, so that the text stays exactly what
 * JSON.stringify writes even for malformed UTF-8, every byte of a multi-byte sequence.
 */
const NEEDS_STRINGIFY = new Uint8Array(256).map((_, b) =>
  b < 0x20 || b === QUOTE || b === BACKSLASH || b >= 0x80 ? 1 : 0,
);

/** A JSON string of the UTF-8 bytes src[start, end): copied while checked, rewritten by JSON.stringify when needed. */
function writeString(src: Buffer, start: number, end: number, out: JsonOut): void {
  const mark = out.len;
  out.ensure(end - start + 2);
  const buf = out.buf;
  let at = mark;
  buf[at++] = QUOTE;
  if (end - start <= SHORT_COPY) {
    for (let i = start; i < end; i++) {
      const b = src[i]!;
      if (NEEDS_STRINGIFY[b]) return stringify(src, start, end, out, mark);
      buf[at++] = b;
    }
  } else {
    for (let i = start; i < end; i++) if (NEEDS_STRINGIFY[src[i]!]) return stringify(src, start, end, out, mark);
    at += src.copy(buf, at, start, end);
  }
  buf[at++] = QUOTE;
  out.len = at;
}

function stringify(src: Buffer, start: number, end: number, out: JsonOut, mark: number): void {
  out.len = mark;
  out.text(JSON.stringify(src.toString('utf8', start, end)));
}

function stringWriter(src: Buffer, pos: number, out: JsonOut): number {
  const len = readLong(src, pos);
  const start = cursor.end;
  checkLength(src, start, len);
  writeString(src, start, start + len, out);
  return start + len;
}

/** What generated code reaches: the readers above, the error types, and the constants of one schema. */
const HELPERS = { readLong, cursor, stringWriter, checkLength, PastEndError, AvroTranscodeError, NULL, TRUE, FALSE };

/**
 * Generates straight-line code for one schema (as avsc does for its own decoders): one function per writer schema,
 * no call per field through a closure. Statements read at `p` from `src`, write to `out` and advance `p`. Names and
 * symbols from the schema never enter the code: they are constants (`k[i]`), so any schema is safe to compile.
 */
class CodeGen {
  readonly consts: unknown[] = [];
  private vars = 0;

  constant(value: unknown): string {
    this.consts.push(value);
    return `k[${this.consts.length - 1}]`;
  }

  name(base: string): string {
    return `${base}${this.vars++}`;
  }

  /** The statements that transcode one value of `type`; undefined for a type the flat shape never holds. */
  value(type: Type): string | undefined {
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
        return 'out.bytes(NULL, 0, 4);';
      case 'boolean': {
        const b = this.name('b');
        return `{ const ${b} = src[p++] ? TRUE : FALSE; out.bytes(${b}, 0, ${b}.length); }`;
      }
      case 'int':
      case 'long':
        return 'out.integer(readLong(src, p)); p = cursor.end;';
      case 'float':
        return 'checkLength(src, p, 4); out.text(JSON.stringify(src.readFloatLE(p))); p += 4;';
      case 'double':
        return 'checkLength(src, p, 8); out.text(JSON.stringify(src.readDoubleLE(p))); p += 8;';
      case 'string':
        return 'p = stringWriter(src, p, out);';
      case 'enum': {
        const symbols = this.constant(t.symbols!.map((x) => Buffer.from(JSON.stringify(x))));
        const i = this.name('i');
        const sym = this.name('s');
        return (
          `{ const ${i} = readLong(src, p); p = cursor.end; const ${sym} = ${symbols}[${i}];` +
          ` if (${sym} === undefined) throw new AvroTranscodeError('enum index ' + ${i} + ' out of range');` +
          ` out.bytes(${sym}, 0, ${sym}.length); }`
        );
      }
      case 'union:unwrapped': {
        const branches = t.types!.map((b) => this.value(b));
        if (branches.some((b) => b === undefined)) return undefined;
        const i = this.name('i');
        const cases = branches.map((b, n) => `case ${n}: { ${b} break; }`).join(' ');
        return (
          `{ const ${i} = readLong(src, p); p = cursor.end; switch (${i}) { ${cases}` +
          ` default: throw new AvroTranscodeError('invalid union index: ' + ${i}); } }`
        );
      }
      case 'array': {
        const item = this.value(t.itemsType!);
        return item && this.blocks(OPEN_ARRAY, CLOSE_ARRAY, item);
      }
      case 'map': {
        const value = this.value(t.valuesType!);
        return (
          value && this.blocks(OPEN_OBJECT, CLOSE_OBJECT, `p = stringWriter(src, p, out); out.byte(${COLON}); ${value}`)
        );
      }
      case 'record': {
        const fields = t.fields!.map((f, n) => ({
          prefix: this.constant(Buffer.from(`${n === 0 ? '{' : ','}${JSON.stringify(f.name)}:`)),
          code: this.value(f.type),
        }));
        if (fields.some((f) => f.code === undefined)) return undefined;
        if (fields.length === 0) return `out.bytes(${this.constant(Buffer.from('{}'))}, 0, 2);`;
        const body = fields.map((f) => `out.bytes(${f.prefix}, 0, ${f.prefix}.length); ${f.code}`).join('\n');
        return `${body}\nout.byte(${CLOSE_OBJECT});`;
      }
      default:
        // bytes, fixed, logical types: not in the flat shape; the caller decodes and stringifies.
        return undefined;
    }
  }

  /** Avro's blocked encoding of arrays and maps: counts (negative: followed by a byte size) until a zero count. */
  private blocks(open: number, close: number, item: string): string {
    const [first, n, j] = [this.name('first'), this.name('n'), this.name('j')];
    return (
      `{ out.byte(${open}); let ${first} = true; for (;;) { let ${n} = readLong(src, p); p = cursor.end;` +
      ` if (${n} === 0) break; if (${n} < 0) { ${n} = -${n}; readLong(src, p); p = cursor.end; }` +
      ` for (let ${j} = 0; ${j} < ${n}; ${j}++) { if (p > src.length) throw new PastEndError();` +
      ` if (!${first}) out.byte(${COMMA}); ${first} = false; ${item} } } out.byte(${close}); }`
    );
  }
}

/**
 * The transcoder of a writer schema: writes one record at `pos` as JSON and returns the position after it (past the
 * block's end when the record is cut short). Undefined when the schema holds a type it does not transcode.
 */
export function compileJsonTranscoder(type: Type): Writer | undefined {
  const gen = new CodeGen();
  const code = gen.value(type);
  if (code === undefined) return undefined;
  const names = Object.keys(HELPERS);
  const make = new Function('k', ...names, `return function transcode(src, p, out) {\n${code}\nreturn p;\n};`) as (
    k: unknown[],
    ...helpers: unknown[]
  ) => Writer;
  return make(gen.consts, ...Object.values(HELPERS));
}
