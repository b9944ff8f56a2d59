/**
 * Reads Braze's envelope (`{"events":[…]}`) as bytes, for the door's routing (route.ts): where each event's bytes are,
 * and its `event_type`, without building the events. It walks the body once and checks all of it as `JSON.parse` would
 * (brackets, commas and colons, strings with their escapes and no raw control characters, numbers, `true`/`false`/
 * `null`, JSON's four whitespace bytes, nothing after the value), and reads the keys it needs as `JSON.parse` does
 * (escapes unescaped; of duplicate keys the last wins). So it answers exactly when `JSON.parse` would read the body as
 * Braze's envelope (one object whose `events` is an array), with the same events and types; for anything else (not
 * JSON, a byte-order mark, another shape) it answers undefined and the door reads the body with `JSON.parse`.
 *
 * Written for speed (it runs on every request; `npm run bench -- route`): one loop over the values, no string made but an
 * event's type, and, in a body without control bytes (checked four bytes at a time), each string's end found by the
 * native search for its quote, its bytes looked at only when it holds a backslash.
 */
import * as json from '../core/json-bytes';

// Local copies, read once: where modules are loaded one by one (tsx, jest), an imported binding is a getter call on each
// read, and these are read for every byte.
const { BACKSLASH, COLON, COMMA, OPEN_ARRAY, OPEN_OBJECT, QUOTE } = json;
const ws = json.skipJsonWhitespace;

/** One event of the envelope: its bytes are `body[start, end)`; its `event_type` when that is a string. */
export interface EnvelopeElement {
  readonly start: number;
  readonly end: number;
  /** The event's `event_type` string; undefined when the event is not an object or has no string `event_type`. */
  readonly type?: string;
}

const EVENTS_KEY = Buffer.from('events');
const TYPE_KEY = Buffer.from('event_type');
/** The bytes that may follow a backslash in a JSON string (`u` is checked apart: four hex digits follow it). */
const SIMPLE_ESCAPES = new Set([0x22, 0x5c, 0x2f, 0x62, 0x66, 0x6e, 0x72, 0x74]);
const LITERALS: Readonly<Record<number, Buffer>> = {
  0x74: Buffer.from('true'),
  0x66: Buffer.from('false'),
  0x6e: Buffer.from('null'),
};
const INVALID = -1;

const isDigit = (c: number | undefined) => c !== undefined && c >= 0x30 && c <= 0x39;
const isHex = (c: number | undefined) => c !== undefined && (isDigit(c) || ((c | 0x20) >= 0x61 && (c | 0x20) <= 0x66));

/**
 * State of the one body being scanned, set by `scanEnvelope` (synchronously: no other scan can run meanwhile), read for
 * each string: whether the body holds no byte below 0x20 (`noControlBytes`), so that a string holds nothing to check
 * unless it holds a backslash; and the first backslash at or after the string being read (`backslash`, Infinity when
 * there is none; -1 before the first string), found by the native search and moved on only when a string starts past it.
 */
let clean = false;
let backslash = -1;

/**
 * True when no byte of `b` is below 0x20: no control byte, and no whitespace but spaces (Braze's compact JSON, as a
 * rule). Four bytes at a time, each word tested with the borrow trick of "Bit Twiddling Hacks" (a word has a byte
 * below 0x20 iff the test's high bits are not all zero).
 */
export function noControlBytes(b: Buffer): boolean {
  const head = (4 - (b.byteOffset % 4)) % 4; // bytes before the first whole word
  if (b.length < head + 32) return !b.some((c) => c < 0x20);
  const words = (b.length - head) >> 2;
  for (let i = 0; i < head; i++) if (b[i]! < 0x20) return false;
  for (let i = head + words * 4; i < b.length; i++) if (b[i]! < 0x20) return false;
  const w = new Int32Array(b.buffer, b.byteOffset + head, words);
  let k = 0;
  // Eight words a step, their tests or-ed together: one branch per 32 bytes.
  for (const last = words - 8; k <= last; k += 8) {
    const a = w[k]!,
      c = w[k + 1]!,
      d = w[k + 2]!,
      e = w[k + 3]!;
    const f = w[k + 4]!,
      g = w[k + 5]!,
      h = w[k + 6]!,
      j = w[k + 7]!;
    const any =
      ((a - 0x20202020) & ~a) |
      ((c - 0x20202020) & ~c) |
      ((d - 0x20202020) & ~d) |
      ((e - 0x20202020) & ~e) |
      ((f - 0x20202020) & ~f) |
      ((g - 0x20202020) & ~g) |
      ((h - 0x20202020) & ~h) |
      ((j - 0x20202020) & ~j);
    if (any & 0x80808080) return false;
  }
  for (; k < words; k++) if ((w[k]! - 0x20202020) & ~w[k]! & 0x80808080) return false;
  return true;
}

/** The index of the quote that closes the string opened at `open`, or INVALID (unclosed, bad escape, control byte). */
function stringClose(b: Buffer, open: number): number {
  if (clean) {
    // Without control bytes, a string without a backslash ends at the next quote and is valid.
    const quote = b.indexOf(QUOTE, open + 1);
    if (quote < 0) return INVALID;
    if (backslash <= open) {
      const at = b.indexOf(BACKSLASH, open + 1);
      backslash = at < 0 ? Infinity : at;
    }
    if (backslash > quote) return quote;
  }
  const n = b.length;
  let i = open + 1;
  while (i < n) {
    const c = b[i]!;
    if (c === QUOTE) return i;
    if (c < 0x20) return INVALID;
    if (c !== BACKSLASH) i++;
    else if (b[i + 1] === 0x75) {
      if (!(isHex(b[i + 2]) && isHex(b[i + 3]) && isHex(b[i + 4]) && isHex(b[i + 5]))) return INVALID;
      i += 6;
    } else if (SIMPLE_ESCAPES.has(b[i + 1]!)) i += 2;
    else return INVALID;
  }
  return INVALID;
}

/** True when the raw bytes between the quotes at `open` and `close` hold a backslash (an escape). */
function escaped(b: Buffer, open: number, close: number): boolean {
  for (let i = open + 1; i < close; i++) if (b[i] === BACKSLASH) return true;
  return false;
}

/** The string whose quotes are at `open` and `close`, as JSON.parse reads it. */
export function text(b: Buffer, open: number, close: number): string {
  return escaped(b, open, close)
    ? (JSON.parse(b.toString('utf8', open, close + 1)) as string)
    : b.toString('utf8', open + 1, close);
}

/** True when `b` holds the bytes of `word` at `at` (a plain loop: cheaper than a native compare for a short word). */
function bytesAt(b: Buffer, at: number, word: Buffer): boolean {
  if (at + word.length > b.length) return false;
  for (let k = 0; k < word.length; k++) if (b[at + k] !== word[k]) return false;
  return true;
}

/** True when the key whose quotes are at `open` and `close` reads as `key` (an ASCII word). */
function keyIs(b: Buffer, open: number, close: number, key: Buffer): boolean {
  const length = close - open - 1;
  if (length === key.length) return bytesAt(b, open + 1, key);
  // Escaped, it is longer than its ASCII reading.
  return length > key.length && escaped(b, open, close) && text(b, open, close) === key.toString();
}

/** One past the end of the number that starts at `i`, or INVALID (JSON's grammar: no `+`, `01`, `1.`, `.5`, `1e`). */
function numberEnd(b: Buffer, from: number): number {
  let i = from;
  if (b[i] === 0x2d) i++;
  if (b[i] === 0x30) i++;
  else if (isDigit(b[i])) while (isDigit(b[i])) i++;
  else return INVALID;
  if (b[i] === 0x2e) {
    if (!isDigit(b[++i])) return INVALID;
    while (isDigit(b[i])) i++;
  }
  if (b[i] === 0x65 || b[i] === 0x45) {
    i++;
    if (b[i] === 0x2b || b[i] === 0x2d) i++;
    if (!isDigit(b[i])) return INVALID;
    while (isDigit(b[i])) i++;
  }
  return i;
}

/** One past the end of the string, number or literal at `i`; INVALID when there is none. */
function scalarEnd(b: Buffer, i: number): number {
  const c = b[i];
  if (c === QUOTE) {
    const close = stringClose(b, i);
    return close < 0 ? INVALID : close + 1;
  }
  const word = c === undefined ? undefined : LITERALS[c];
  if (word) return bytesAt(b, i, word) ? i + word.length : INVALID;
  return numberEnd(b, i);
}

/** What the key just read names, for the value after it: nothing the scan needs, the envelope's events, an event's type. */
const OTHER_KEY = 0;
const EVENTS = 1;
const EVENT_TYPE = 2;

/**
 * The events of the body when it is valid JSON and Braze's envelope (see the module comment); else undefined.
 *
 * One loop over the values of the whole body, iterative (a value nested 100,000 deep costs no stack: the opening bytes
 * of the containers open around `i` are kept in `open`, `depth` of them). The envelope's members are at depth 1; the
 * events are the values at depth 2 while the array around them is the value of the envelope's (last) `events` key; an
 * event's type is the (last) string value of an `event_type` member at depth 3.
 */
export function scanEnvelope(body: Buffer): EnvelopeElement[] | undefined {
  const b = body;
  clean = noControlBytes(b);
  backslash = -1;
  let i = ws(b, 0);
  if (b[i] !== OPEN_OBJECT) return undefined;
  const open: number[] = [];
  let depth = 0;
  let events: EnvelopeElement[] | undefined; // the last `events` key's, when it is an array
  let inEvents = false; // the array open at depth 1 is that `events` array
  let key = OTHER_KEY; // what the key of the value at `i` names
  let start = 0; // the event being read: where it starts, and its type so far
  let type: string | undefined;

  /** Reads the key at `i` and its colon: the index of its value, or INVALID; `key` says what it names. */
  const member = (at: number): number => {
    const close = b[at] === QUOTE ? stringClose(b, at) : INVALID;
    if (close < 0) return INVALID;
    key =
      depth === 1 && keyIs(b, at, close, EVENTS_KEY)
        ? EVENTS
        : depth === 3 && inEvents && keyIs(b, at, close, TYPE_KEY)
          ? EVENT_TYPE
          : OTHER_KEY;
    const colon = ws(b, close + 1);
    return b[colon] === COLON ? ws(b, colon + 1) : INVALID;
  };

  for (;;) {
    // A value starts at `i`.
    const c = b[i];
    const named = key;
    key = OTHER_KEY;
    if (depth === 2 && inEvents) {
      start = i;
      type = undefined;
    }
    if (named === EVENTS) events = c === OPEN_ARRAY ? [] : undefined;
    else if (named === EVENT_TYPE) type = undefined; // until it is read as a string
    if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
      i = ws(b, i + 1);
      if (b[i] !== c + 2) {
        // Not empty (each closing byte is its opening byte + 2): its first value (an object's after its key) is next.
        open[depth++] = c;
        inEvents ||= named === EVENTS && c === OPEN_ARRAY; // open until its depth closes
        if (c === OPEN_OBJECT && (i = member(i)) < 0) return undefined;
        continue;
      }
      i++;
    } else {
      const end = scalarEnd(b, i);
      if (end < 0) return undefined;
      if (named === EVENT_TYPE && c === QUOTE) type = text(b, i, end - 1);
      i = end;
    }
    // A value ended at `i`, in the container open at `depth`: close what it ends, or go on to the container's next.
    for (;;) {
      if (depth === 2 && inEvents) events!.push(type === undefined ? { start, end: i } : { start, end: i, type });
      if (depth === 0) return ws(b, i) === b.length ? events : undefined;
      const top = open[depth - 1]!;
      i = ws(b, i);
      if (b[i] === COMMA) {
        i = ws(b, i + 1);
        if (top === OPEN_OBJECT && (i = member(i)) < 0) return undefined;
        break;
      }
      if (b[i] !== top + 2) return undefined;
      i++;
      if (--depth === 1) inEvents = false;
    }
  }
}
