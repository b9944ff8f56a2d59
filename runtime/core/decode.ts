/**
 * Decoding of Currents input, with no I/O: a Pub/Sub message body (bytes or text) → the candidate events it carries, and
 * one candidate event → a view of its fields whatever its shape.
 *
 * Accepted bodies: one JSON value, or JSON Lines (one value per line). Accepted values: the HTTP-connector envelope
 * `{"events": [E, ...]}`, a bare array of events, a single nested event `E = {event_type, id, time, user: {...},
 * properties: {...}}`, or a flat record (every field at the top level, as in Braze's Avro export) whose `event_type` is
 * in the record or in the Pub/Sub attribute `event_type`.
 *
 * Nothing here throws on bad input: what cannot be decoded becomes a dead letter `invalid` whose detail names the
 * problem (never the content, which may be personal data) and whose `raw` keeps the text for inspection.
 */
import type { FieldType } from '../../shared/catalog-fields';
import { elementSpans } from './json-depth';
import type { DeadLetter } from './types';

export type JsonObject = Record<string, unknown>;

export function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The events (still unchecked) found in one message body, and dead letters for the parts that are not JSON at all. */
export interface SplitResult {
  readonly events: unknown[];
  readonly deadLetters: DeadLetter[];
  /** The original text of `events[i]` as it is in the body (found on demand); undefined when it cannot be told. */
  readonly eventText?: (index: number) => string | undefined;
}

/** One JSON value of the body (the whole body, or a line) and the events it expanded into. */
interface Source {
  readonly first: number;
  readonly count: number;
  readonly text: string;
  /** The value is the event itself (not an array or an envelope of events). */
  readonly single: boolean;
  spans?: Array<[number, number]> | null;
}

/** `eventText` over the sources of a body: the event's own span in its source's text. */
function textOfEvents(sources: Source[]): (index: number) => string | undefined {
  return (index) => {
    const s = sources.find((x) => index >= x.first && index < x.first + x.count);
    if (!s) return undefined;
    if (s.single) return s.text.trim();
    s.spans ??= elementSpans(s.text) ?? null;
    const span = s.spans?.length === s.count ? s.spans[index - s.first] : undefined;
    return span && s.text.slice(span[0], span[1]);
  };
}

const utf8 = new TextDecoder('utf-8', { fatal: true });
const utf8Lenient = new TextDecoder('utf-8');

function invalidBody(detail: string, raw: string): DeadLetter {
  return { reason: 'invalid', detail, raw };
}

/** Bytes or text → text, or the dead letter explaining why not. */
export function bodyText(data: unknown): { text: string } | { deadLetter: DeadLetter } {
  if (typeof data === 'string') return { text: data.charCodeAt(0) === 0xfeff ? data.slice(1) : data };
  if (data instanceof Uint8Array) {
    try {
      return { text: utf8.decode(data) };
    } catch {
      return { deadLetter: invalidBody('message body is not valid UTF-8', utf8Lenient.decode(data)) };
    }
  }
  return {
    deadLetter: invalidBody(
      `message body is missing (got ${data === null ? 'null' : typeof data}, expected bytes or text)`,
      '',
    ),
  };
}

/** Expands one parsed JSON value (envelope, array, or event) into candidate events; true when it is one event. */
function expand(value: unknown, events: unknown[], deadLetters: DeadLetter[], where: string): boolean {
  if (Array.isArray(value)) {
    for (const e of value) events.push(e);
    return false;
  }
  if (isObject(value) && 'events' in value) {
    const list = value.events;
    if (Array.isArray(list)) for (const e of list) events.push(e);
    else
      deadLetters.push({
        reason: 'invalid',
        detail: `${where}field 'events' of the envelope must be a list of events, got ${kindOf(list)}`,
        raw: value,
      });
    return false;
  }
  events.push(value);
  return true;
}

/**
 * One message body → candidate events. The body is one JSON value or JSON Lines; a body that is empty, not UTF-8 or
 * not JSON at all yields one dead letter carrying the text. In JSON Lines, each line that is not JSON is its own dead
 * letter and the lines beside it are kept.
 */
export function splitMessage(data: unknown): SplitResult {
  const events: unknown[] = [];
  const deadLetters: DeadLetter[] = [];
  const body = bodyText(data);
  if ('deadLetter' in body) return { events, deadLetters: [body.deadLetter] };
  const text = body.text;
  if (text.trim() === '') return { events, deadLetters: [invalidBody('message body is empty', text)] };
  try {
    const single = expand(JSON.parse(text), events, deadLetters, '');
    return { events, deadLetters, eventText: textOfEvents([{ first: 0, count: events.length, text, single }]) };
  } catch {
    // Not one JSON value: try JSON Lines.
  }
  const lines = text.split('\n');
  const parsed: Array<{ line: number; value?: unknown; raw: string }> = [];
  let structured = 0;
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!.endsWith('\r') ? lines[i]!.slice(0, -1) : lines[i]!;
    if (raw.trim() === '') continue;
    try {
      const value: unknown = JSON.parse(raw);
      if (typeof value === 'object' && value !== null) structured++;
      parsed.push({ line: i + 1, value, raw });
    } catch {
      parsed.push({ line: i + 1, raw });
    }
  }
  if (structured === 0) {
    return { events, deadLetters: [invalidBody('message body is not JSON (nor JSON Lines)', text)] };
  }
  const sources: Source[] = [];
  for (const p of parsed) {
    if (!('value' in p)) {
      deadLetters.push(invalidBody(`line ${p.line} of the message body is not JSON`, p.raw));
      continue;
    }
    const first = events.length;
    const single = expand(p.value, events, deadLetters, `line ${p.line}: `);
    sources.push({ first, count: events.length - first, text: p.raw, single });
  }
  return { events, deadLetters, eventText: textOfEvents(sources) };
}

/** One candidate event, whatever its shape: the fields are those of `top` (minus `user`/`properties` when nested),
 * then `user`'s, then `properties`'. */
export interface EventView {
  /** The event type as written (in the event, else the Pub/Sub attribute). */
  readonly eventType: string;
  readonly top: JsonObject;
  /** Present for the nested (HTTP-connector) shape. */
  readonly user?: JsonObject;
  readonly properties?: JsonObject;
}

export type ViewResult = { view: EventView } | { error: string; eventType?: string; id?: string };

export function kindOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'number') return Number.isInteger(v) ? 'an integer' : 'a number';
  if (typeof v === 'object') return 'an object';
  return `a ${typeof v}`;
}

/** Reads the shape of one candidate event. `attributeType` is the Pub/Sub attribute `event_type`, if any. */
export function viewEvent(value: unknown, attributeType?: string): ViewResult {
  if (!isObject(value)) return { error: `event is not a JSON object (got ${kindOf(value)})` };
  const id = typeof value.id === 'string' ? value.id : undefined;
  let eventType: unknown = value.event_type;
  if (eventType === undefined || eventType === null) eventType = attributeType;
  if (typeof eventType !== 'string' || eventType === '') {
    return {
      error:
        eventType === undefined
          ? "event has no 'event_type' (in the event or in the Pub/Sub attribute 'event_type')"
          : `field 'event_type' must be a non-empty string, got ${kindOf(eventType)}`,
      id,
    };
  }
  const user = value.user;
  const properties = value.properties;
  const nestedUser = isObject(user);
  const nestedProps = isObject(properties);
  if (user !== undefined && user !== null && !nestedUser) {
    return {
      error: `field 'user' must be an object (user_id, external_user_id, ...), got ${kindOf(user)}`,
      eventType,
      id,
    };
  }
  if (!nestedUser && !nestedProps) return { view: { eventType, top: value } };
  return {
    view: {
      eventType,
      top: value,
      user: nestedUser ? user : undefined,
      properties: nestedProps ? properties : undefined,
    },
  };
}

/** Whether a (non-null) JSON value has the given Avro type. `int` and `long` both mean a whole number. */
export function hasType(type: FieldType, v: unknown): boolean {
  switch (type) {
    case 'string':
      return typeof v === 'string';
    case 'int':
    case 'long':
      return typeof v === 'number' && Number.isSafeInteger(v);
    case 'float':
    case 'double':
      return typeof v === 'number' && Number.isFinite(v);
    case 'boolean':
      return typeof v === 'boolean';
    case 'array<string>':
      return Array.isArray(v) && v.every((x) => typeof x === 'string');
    case 'array<string?>':
      return Array.isArray(v) && v.every((x) => x === null || typeof x === 'string');
  }
}

const TYPE_WORDS: Record<FieldType, string> = {
  string: 'a string',
  int: 'an integer',
  long: 'an integer',
  float: 'a number',
  double: 'a number',
  boolean: 'a boolean',
  'array<string>': 'a list of strings',
  'array<string?>': 'a list of strings (or nulls)',
};

/** "field 'x' must be a string, got a number": names the field and the types, never the value. */
export function typeErrorDetail(field: string, type: FieldType, v: unknown): string {
  const got = Array.isArray(v) && type.startsWith('array') ? 'a list with an item of another type' : kindOf(v);
  return `field '${field}' must be ${TYPE_WORDS[type]}, got ${got}`;
}
