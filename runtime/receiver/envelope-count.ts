/**
 * Reads Braze's envelope (`{"events":[…]}`) as bytes: where each event's bytes are, and its `event_type`. The door
 * uses it to copy each event's bytes exactly as Braze sent them into its connector's message when the body is not the
 * compact JSON that re-serializing it gives back (pretty-printed, escapes, number forms: route.ts `eventBytes`); for
 * compact bodies JSON.parse and JSON.stringify are cheaper. It walks the bytes once, jumping over strings with
 * `indexOf`, and tracks only brackets, the top-level keys, the commas of the `events` array and the keys of each event
 * object.
 *
 * It answers only for a body that is one balanced JSON object (brackets matched, strings closed, nothing after it) whose
 * last `events` key holds an array, and whose top-level keys need no unescaping; anything else is `undefined` and
 * the caller falls back to `JSON.parse`. It does not validate literals or numbers: a body that is not JSON may get an
 * answer; its events' bytes are then published as they came, and the function dead-letters what it cannot decode.
 */
import {
  BACKSLASH,
  CLOSE_ARRAY,
  CLOSE_OBJECT,
  COLON,
  COMMA,
  isJsonWhitespace,
  OPEN_ARRAY,
  OPEN_OBJECT,
  QUOTE,
  skipJsonWhitespace,
} from '../core/json-bytes';

const EVENTS_KEY = Buffer.from('events');
const TYPE_KEY = Buffer.from('event_type');

/** One event of the envelope: its bytes are `body[start, end)`; its `event_type` when that is a string. */
export interface EnvelopeElement {
  readonly start: number;
  readonly end: number;
  /** The event's `event_type` string; undefined when the event is not an object or has no string `event_type`. */
  readonly type?: string;
}

/** The index of the quote that closes the string opened at `start`, or -1 when it is never closed. */
function stringEnd(body: Buffer, start: number): number {
  let j = start;
  for (;;) {
    j = body.indexOf(QUOTE, j + 1);
    if (j < 0) return -1;
    let backslashes = 0;
    for (let k = j - 1; body[k] === BACKSLASH; k--) backslashes++;
    if (backslashes % 2 === 0) return j;
  }
}

/** The string whose quotes are at `open` and `close`, unescaped as JSON.parse would; undefined for a bad escape. */
function unescaped(body: Buffer, open: number, close: number): string | undefined {
  try {
    return JSON.parse(body.toString('utf8', open, close + 1)) as string;
  } catch {
    return undefined;
  }
}

const keyIs = (body: Buffer, open: number, close: number, key: Buffer) =>
  close - open - 1 === key.length && body.compare(key, 0, key.length, open + 1, close) === 0;

/** The events of an envelope (see the module comment), or undefined. */
export function scanEnvelope(body: Buffer): EnvelopeElement[] | undefined {
  let i = skipJsonWhitespace(body, 0);
  if (body[i] !== OPEN_OBJECT) return undefined;
  const open: number[] = [];
  let expectingKey = false; // top level: the next string is a key
  let keyIsEvents = false; // top level: the last key read was `events`
  let awaitingValue = false; // top level: between ':' and the value's first byte
  let inEvents = false; // inside the `events` array (its elements sit at depth 2)
  let elements: EnvelopeElement[] | undefined;
  let current: EnvelopeElement[] = [];
  let start = -1; // the current element's first byte
  let lastEnd = 0; // one past the last byte of a value seen
  let type: string | undefined;
  let eventKey = false; // in an event object (depth 3): the next string is a key
  let keyIsType = false;
  let awaitingType = false; // between `"event_type":` and its value
  const finish = () => {
    if (start >= 0) current.push({ start, end: lastEnd, ...(type === undefined ? {} : { type }) });
    start = -1;
    type = undefined;
  };
  for (; i < body.length; i++) {
    const b = body[i]!;
    if (isJsonWhitespace(b)) continue;
    if (awaitingValue) {
      awaitingValue = false;
      if (keyIsEvents) {
        elements = undefined;
        if (b === OPEN_ARRAY) {
          inEvents = true;
          current = [];
        }
      }
    } else if (inEvents && open.length === 2 && start < 0 && b !== CLOSE_ARRAY && b !== COMMA) {
      start = i;
    }
    const typeValue = awaitingType && keyIsType;
    if (awaitingType) {
      awaitingType = false;
      if (keyIsType) type = undefined; // a later event_type replaces an earlier one; not a string: no type
    }
    if (b === QUOTE) {
      const end = stringEnd(body, i);
      if (end < 0) return undefined;
      if (open.length === 1 && expectingKey) {
        expectingKey = false;
        keyIsEvents = keyIs(body, i, end, EVENTS_KEY);
        // An escaped key (`"ev\u0065nts"`) may spell `events`: leave that to JSON.parse.
        if (!keyIsEvents && body.subarray(i + 1, end).includes(BACKSLASH)) return undefined;
      } else if (inEvents && open.length === 3 && eventKey) {
        eventKey = false;
        // An escaped key (`"event\u005ftype"`) is read as JSON.parse would.
        keyIsType = body.subarray(i + 1, end).includes(BACKSLASH)
          ? unescaped(body, i, end) === 'event_type'
          : keyIs(body, i, end, TYPE_KEY);
      } else if (typeValue) {
        const raw = body.subarray(i + 1, end);
        type = raw.includes(BACKSLASH) ? unescaped(body, i, end) : raw.toString();
      }
      i = end;
      lastEnd = end + 1;
      continue;
    }
    switch (b) {
      case OPEN_OBJECT:
      case OPEN_ARRAY:
        open.push(b);
        if (open.length === 1) expectingKey = true;
        if (open.length === 3 && inEvents) eventKey = b === OPEN_OBJECT;
        break;
      case CLOSE_OBJECT:
      case CLOSE_ARRAY: {
        if (open.pop() !== (b === CLOSE_OBJECT ? OPEN_OBJECT : OPEN_ARRAY)) return undefined;
        if (inEvents && open.length === 1) {
          inEvents = false;
          finish();
          elements = current;
        }
        if (open.length === 0) return skipJsonWhitespace(body, i + 1) === body.length ? elements : undefined;
        break;
      }
      case COMMA:
        if (open.length === 1) expectingKey = true;
        else if (inEvents && open.length === 2) finish();
        else if (inEvents && open.length === 3) eventKey = open[2] === OPEN_OBJECT;
        break;
      case COLON:
        if (open.length === 1) awaitingValue = true;
        else if (inEvents && open.length === 3) awaitingType = true;
        break;
    }
    lastEnd = i + 1;
  }
  return undefined;
}

/** The number of events of an envelope (see `scanEnvelope`), or undefined. */
export function countEnvelopeEvents(body: Buffer): number | undefined {
  return scanEnvelope(body)?.length;
}
