/**
 * The door's envelope scan in WebAssembly (AssemblyScript; built by `npm run build:wasm` into
 * runtime/receiver/envelope-scan-binary.ts, loaded by runtime/receiver/envelope-scan-wasm.ts).
 *
 * It is the JavaScript scan of runtime/receiver/envelope-scan.ts (read that module's comment first), the same walk over
 * the same grammar, with each string's bytes skipped sixteen at a time (SIMD): it answers only where that scan would
 * give the same answer, and leaves everything else to it. Its answer is either the events of a valid envelope (the
 * count, and four i32 per event at `output()`: start, end, and the quotes of its `event_type` string, -1 when it has
 * none) or -1: "ask the JavaScript scan", given for anything that is not a valid envelope and for the rare shapes this
 * scan does not read itself (more than MAX_EVENTS events, deeper than MAX_DEPTH). So the door's answer never depends
 * on which of the two scans ran.
 *
 * The caller copies the body to `input(length)` and calls `scan(length)`. Past the body's end `scan` writes PAD zero
 * bytes: a zero fails every test of the grammar (it is neither whitespace, nor a token's byte, nor allowed in a
 * string), so no read needs a bounds check and none goes past the padding.
 */

const QUOTE: u32 = 0x22;
const BACKSLASH: u32 = 0x5c;
const COLON: u32 = 0x3a;
const COMMA: u32 = 0x2c;
const OPEN_OBJECT: u32 = 0x7b;
const OPEN_ARRAY: u32 = 0x5b;

/** No answer here: the JavaScript scan decides. */
const ASK: i32 = -1;
const MAX_DEPTH: i32 = 4096;
const MAX_EVENTS: i32 = 16384;
const PAD: i32 = 32;

// Memory: [static data][the open containers' bytes, MAX_DEPTH][the events, 16 bytes each][the body, then PAD zeros]
const STACK: usize = (__heap_base + 15) & ~15;
const OUT: usize = STACK + <usize>MAX_DEPTH;
const IN: usize = OUT + ((<usize>MAX_EVENTS) << 4);

/** Where the caller writes a body of `length` bytes (the memory grown to hold it and the padding); 0 if it cannot grow. */
export function input(length: i32): usize {
  const need = IN + <usize>length + <usize>PAD;
  const have = (<usize>memory.size()) << 16;
  if (need > have && memory.grow(<i32>((need - have + 0xffff) >> 16)) < 0) return 0;
  return IN;
}

/** Where `scan` writes the events it found. */
export function output(): usize {
  return OUT;
}

function at(i: i32): u32 {
  return <u32>load<u8>(IN + <usize>i);
}

function ws(from: i32): i32 {
  let i = from;
  for (;;) {
    const c = at(i);
    // Above the space there is no whitespace: one test for the usual case, a token's first byte.
    if (c > 0x20 || (c != 0x20 && c != 0x0a && c != 0x0d && c != 0x09)) break;
    i++;
  }
  return i;
}

function isDigit(c: u32): bool {
  return c - 0x30 < 10;
}

function isHex(c: u32): bool {
  return c - 0x30 < 10 || (c | 0x20) - 0x61 < 6;
}

/** Whether the last string read held a backslash. */
let escaped = false;

/** The index of the quote that closes the string opened at `open`, or ASK (unclosed, bad escape, control byte). */
function stringClose(open: i32): i32 {
  escaped = false;
  const quote = i8x16.splat(<i8>QUOTE);
  const backslash = i8x16.splat(<i8>BACKSLASH);
  const control = i8x16.splat(0x20);
  let i = open + 1;
  for (;;) {
    // The first byte of the sixteen at `i` that is a quote, a backslash or below 0x20 (unsigned: UTF-8 passes).
    const v = v128.load(IN + <usize>i);
    const hits = i8x16.bitmask(v128.or(v128.or(i8x16.eq(v, quote), i8x16.eq(v, backslash)), i8x16.lt_u(v, control)));
    if (hits == 0) {
      i += 16;
      continue;
    }
    i += <i32>ctz(hits);
    const c = at(i);
    if (c == QUOTE) return i;
    if (c != BACKSLASH) return ASK; // a control byte, or the padding: the string is not closed
    escaped = true;
    const e = at(i + 1);
    if (e == 0x75) {
      if (!(isHex(at(i + 2)) && isHex(at(i + 3)) && isHex(at(i + 4)) && isHex(at(i + 5)))) return ASK;
      i += 6;
    } else if (e == 0x22 || e == 0x5c || e == 0x2f || e == 0x62 || e == 0x66 || e == 0x6e || e == 0x72 || e == 0x74) {
      i += 2;
    } else return ASK;
  }
  return ASK; // not reached
}

/** One past the end of the number that starts at `from`, or ASK (JSON's grammar: no `+`, `01`, `1.`, `.5`, `1e`). */
function numberEnd(from: i32): i32 {
  let i = from;
  if (at(i) == 0x2d) i++;
  if (at(i) == 0x30) i++;
  else if (isDigit(at(i))) while (isDigit(at(i))) i++;
  else return ASK;
  if (at(i) == 0x2e) {
    if (!isDigit(at(++i))) return ASK;
    while (isDigit(at(i))) i++;
  }
  const e = at(i);
  if (e == 0x65 || e == 0x45) {
    const sign = at(++i);
    if (sign == 0x2b || sign == 0x2d) i++;
    if (!isDigit(at(i))) return ASK;
    while (isDigit(at(i))) i++;
  }
  return i;
}

/** One past the end of the string, number or literal at `i`; ASK when there is none. */
function scalarEnd(i: i32): i32 {
  const c = at(i);
  if (c == QUOTE) {
    const close = stringClose(i);
    return close < 0 ? ASK : close + 1;
  }
  // The literals' bytes read as one little-endian word: "true", "null", and "alse" after the f.
  if (c == 0x74) return load<u32>(IN + <usize>i) == 0x65757274 ? i + 4 : ASK;
  if (c == 0x6e) return load<u32>(IN + <usize>i) == 0x6c6c756e ? i + 4 : ASK;
  if (c == 0x66) return load<u32>(IN + <usize>i + 1) == 0x65736c61 ? i + 5 : ASK;
  return numberEnd(i);
}

/** What the key just read names, for the value after it. */
const OTHER_KEY = 0;
const EVENTS = 1;
const EVENT_TYPE = 2;

let depth = 0;
let inEvents = false;
let key = OTHER_KEY;

const EVENTS_WORD = memory.data<u8>([0x65, 0x76, 0x65, 0x6e, 0x74, 0x73]); // events
const EVENT_TYPE_WORD = memory.data<u8>([0x65, 0x76, 0x65, 0x6e, 0x74, 0x5f, 0x74, 0x79, 0x70, 0x65]); // event_type

/** The value of the hex digit `c` (already checked by `stringClose`). */
function hex(c: u32): u32 {
  return c <= 0x39 ? c - 0x30 : (c | 0x20) - 0x57;
}

/**
 * Whether the string whose quotes are at `open` and `close`, which holds escapes, reads as the ASCII `word` of `length`
 * bytes once unescaped as JSON.parse does (`\u0065` is `e`; a byte of 0x80 or more, or an escape above 0x7f, is never
 * ASCII, so never the word).
 */
function unescapedIs(open: i32, close: i32, word: usize, length: i32): bool {
  let i = open + 1;
  let k = 0;
  while (i < close) {
    let c = at(i);
    if (c != BACKSLASH) i++;
    else {
      const e = at(i + 1);
      if (e == 0x75) {
        c = (hex(at(i + 2)) << 12) | (hex(at(i + 3)) << 8) | (hex(at(i + 4)) << 4) | hex(at(i + 5));
        i += 6;
      } else {
        // \" \\ \/ stand for themselves; the letters for their control characters.
        c = e == 0x62 ? 0x08 : e == 0x66 ? 0x0c : e == 0x6e ? 0x0a : e == 0x72 ? 0x0d : e == 0x74 ? 0x09 : e;
        i += 2;
      }
    }
    if (k == length || c != <u32>load<u8>(word + <usize>k)) return false;
    k++;
  }
  return k == length;
}

/** Reads the key at `from` and its colon: the index of its value, or ASK; `key` says what it names. */
function member(from: i32): i32 {
  if (at(from) != QUOTE) return ASK;
  const close = stringClose(from);
  if (close < 0) return ASK;
  const length = close - from - 1;
  const word = IN + <usize>from + 1;
  key = OTHER_KEY;
  if (depth == 1) {
    // "events", as little-endian words; escaped, unescaped first.
    if (
      escaped
        ? unescapedIs(from, close, EVENTS_WORD, 6)
        : length == 6 && load<u32>(word) == 0x6e657665 && load<u16>(word, 4) == 0x7374
    )
      key = EVENTS;
  } else if (depth == 3 && inEvents) {
    // "event_type", the same way.
    if (
      escaped
        ? unescapedIs(from, close, EVENT_TYPE_WORD, 10)
        : length == 10 && load<u64>(word) == 0x79745f746e657665 && load<u16>(word, 8) == 0x6570
    )
      key = EVENT_TYPE;
  }
  const colon = ws(close + 1);
  return at(colon) == COLON ? ws(colon + 1) : ASK;
}

/**
 * The events of the body of `length` bytes at `input()` when it is valid JSON and Braze's envelope, written at
 * `output()` (start, end, type's open quote, type's close quote; -1 for no string type): their count. ASK otherwise.
 */
export function scan(length: i32): i32 {
  memory.fill(IN + <usize>length, 0, <usize>PAD);
  depth = 0;
  inEvents = false;
  key = OTHER_KEY;
  let i = ws(0);
  if (at(i) != OPEN_OBJECT) return ASK;
  let count = ASK; // the (last) `events` key's array: its events so far; ASK while there is none
  let start = 0; // the event being read: where it starts, and its type's quotes so far
  let typeOpen = -1;
  let typeClose = -1;
  for (;;) {
    // A value starts at `i`.
    const c = at(i);
    const named = key;
    key = OTHER_KEY;
    if (depth == 2 && inEvents) {
      start = i;
      typeOpen = -1;
      typeClose = -1;
    }
    if (named == EVENTS) count = c == OPEN_ARRAY ? 0 : ASK;
    else if (named == EVENT_TYPE) typeOpen = typeClose = -1; // until it is read as a string
    if (c == OPEN_OBJECT || c == OPEN_ARRAY) {
      i = ws(i + 1);
      if (at(i) != c + 2) {
        // Not empty (each closing byte is its opening byte + 2).
        if (depth == MAX_DEPTH) return ASK;
        store<u8>(STACK + <usize>depth, <u8>c);
        depth++;
        if (named == EVENTS && c == OPEN_ARRAY) inEvents = true;
        if (c == OPEN_OBJECT && (i = member(i)) < 0) return ASK;
        continue;
      }
      i++;
    } else {
      const end = scalarEnd(i);
      if (end < 0) return ASK;
      if (named == EVENT_TYPE && c == QUOTE) {
        typeOpen = i;
        typeClose = end - 1;
      }
      i = end;
    }
    // A value ended at `i`: close what it ends, or go on to its container's next value.
    for (;;) {
      if (depth == 2 && inEvents) {
        if (count == MAX_EVENTS) return ASK;
        const event = OUT + ((<usize>count) << 4);
        store<i32>(event, start);
        store<i32>(event, i, 4);
        store<i32>(event, typeOpen, 8);
        store<i32>(event, typeClose, 12);
        count++;
      }
      if (depth == 0) return ws(i) == length ? count : ASK;
      const top = <u32>load<u8>(STACK + <usize>depth - 1);
      i = ws(i);
      const d = at(i);
      if (d == COMMA) {
        i = ws(i + 1);
        if (top == OPEN_OBJECT && (i = member(i)) < 0) return ASK;
        break;
      }
      if (d != top + 2) return ASK;
      i++;
      if (--depth == 1) inEvents = false;
    }
  }
  return ASK; // not reached
}
