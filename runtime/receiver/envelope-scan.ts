/**
 * Reads Braze's envelope (`{"events":[…]}`) as bytes, for the door's routing (route.ts): where each event's bytes are,
 * and its `event_type`, without building the events. It walks the body once and checks all of it as `JSON.parse` would
 * (brackets, commas and colons, strings with their escapes and no raw control characters, numbers, `true`/`false`/
 * `null`, JSON's four whitespace bytes, nothing after the value), and reads the keys it needs as `JSON.parse` does
 * (escapes unescaped; of duplicate keys the last wins). So it answers exactly when `JSON.parse` would read the body as
 * Braze's envelope (one object whose `events` is an array), with the same events and types; for anything else (not
 * JSON, a byte-order mark, another shape) it answers undefined and the door reads the body with `JSON.parse`.
 *
 * Written for speed (it runs on every request): plain loops over the bytes, no string made but an event's type.
 */
import * as json from '../core/json-bytes';

// Local copies, read once: where modules are loaded one by one (tsx, jest), an imported binding is a getter call on each
// read, and these are read for every byte.
const { BACKSLASH, CLOSE_ARRAY, CLOSE_OBJECT, COLON, COMMA, OPEN_ARRAY, OPEN_OBJECT, QUOTE } = json;
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

/** The index of the quote that closes the string opened at `open`, or INVALID (unclosed, bad escape, control byte). */
function stringClose(b: Buffer, open: number): number {
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
function text(b: Buffer, open: number, close: number): string {
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

/** The index of the quote that closes the key at `i`, or INVALID (not a string). */
const keyClose = (b: Buffer, i: number) => (b[i] === QUOTE ? stringClose(b, i) : INVALID);

/** The index of a member's value (past the colon and whitespace) for the key whose closing quote is at `close`. */
function memberValue(b: Buffer, close: number): number {
  if (close < 0) return INVALID;
  const colon = ws(b, close + 1);
  return b[colon] === COLON ? ws(b, colon + 1) : INVALID;
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

/**
 * One past the end of the JSON value at `from`, or INVALID. Iterative (a value nested 100,000 deep costs no stack): the
 * open containers are kept in an array, made only for a value that has any.
 */
function valueEnd(b: Buffer, from: number): number {
  let i = from;
  let open: number[] | undefined;
  for (;;) {
    const c = b[i];
    if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
      i = ws(b, i + 1);
      if (b[i] === c + 2)
        i++; // `{}` or `[]` (each closing byte is its opening byte + 2)
      else {
        (open ??= []).push(c);
        i = c === OPEN_OBJECT ? memberValue(b, keyClose(b, i)) : i;
        if (i < 0) return INVALID;
        continue;
      }
    } else if ((i = scalarEnd(b, i)) < 0) return INVALID;
    // After a value: close what it ends, or go on to the next value of the container.
    for (;;) {
      if (!open?.length) return i;
      const top = open[open.length - 1]!;
      i = ws(b, i);
      if (b[i] === top + 2) {
        open.pop();
        i++;
      } else if (b[i] === COMMA) {
        i = ws(b, i + 1);
        i = top === OPEN_OBJECT ? memberValue(b, keyClose(b, i)) : i;
        if (i < 0) return INVALID;
        break;
      } else return INVALID;
    }
  }
}

/**
 * Reads the members of the object at `at` (`{`), handing each value to `member` (its key's quotes, the value's first
 * byte), which answers one past the value's end. One past the object's end, or INVALID.
 */
function objectEnd(b: Buffer, at: number, member: (open: number, close: number, value: number) => number): number {
  let i = ws(b, at + 1);
  if (b[i] === CLOSE_OBJECT) return i + 1;
  for (;;) {
    const close = keyClose(b, i);
    const value = memberValue(b, close);
    if (value < 0) return INVALID;
    const end = member(i, close, value);
    if (end < 0) return INVALID;
    i = ws(b, end);
    if (b[i] === CLOSE_OBJECT) return i + 1;
    if (b[i] !== COMMA) return INVALID;
    i = ws(b, i + 1);
  }
}

/** The event at `start`: its bytes and, for an object with a string `event_type` (the last one), its type. */
function readEvent(b: Buffer, start: number): EnvelopeElement | undefined {
  if (b[start] !== OPEN_OBJECT) {
    const end = valueEnd(b, start);
    return end < 0 ? undefined : { start, end };
  }
  let type: string | undefined;
  const end = objectEnd(b, start, (open, close, value) => {
    if (!keyIs(b, open, close, TYPE_KEY)) return valueEnd(b, value);
    const valueClose = b[value] === QUOTE ? stringClose(b, value) : INVALID;
    type = valueClose < 0 ? undefined : text(b, value, valueClose);
    return valueClose < 0 ? valueEnd(b, value) : valueClose + 1;
  });
  if (end < 0) return undefined;
  return type === undefined ? { start, end } : { start, end, type };
}

/** Reads the `events` array at `at` (`[`) into `into`: one past its end, or INVALID. */
function eventsEnd(b: Buffer, at: number, into: EnvelopeElement[]): number {
  let i = ws(b, at + 1);
  if (b[i] === CLOSE_ARRAY) return i + 1;
  for (;;) {
    const event = readEvent(b, i);
    if (!event) return INVALID;
    into.push(event);
    i = ws(b, event.end);
    if (b[i] === CLOSE_ARRAY) return i + 1;
    if (b[i] !== COMMA) return INVALID;
    i = ws(b, i + 1);
  }
}

/** The events of the body when it is valid JSON and Braze's envelope (see the module comment); else undefined. */
export function scanEnvelope(body: Buffer): EnvelopeElement[] | undefined {
  const start = ws(body, 0);
  if (body[start] !== OPEN_OBJECT) return undefined;
  let events: EnvelopeElement[] | undefined; // the last `events` key's, when it is an array
  const end = objectEnd(body, start, (open, close, value) => {
    if (!keyIs(body, open, close, EVENTS_KEY)) return valueEnd(body, value);
    events = body[value] === OPEN_ARRAY ? [] : undefined;
    return events ? eventsEnd(body, value, events) : valueEnd(body, value);
  });
  return end >= 0 && ws(body, end) === body.length ? events : undefined;
}
