/**
 * The door's routing, with no I/O: which of the workspace's connectors gets each event of a request, by its
 * `event_type` (shared/door.ts derives the routes from the connector definitions). The body is read with `JSON.parse`
 * (the fastest reader a Node process has: a byte scan in JavaScript costs several times more). A request whose events
 * all go to one connector is published as it came; otherwise each connector's part is an envelope of its events' bytes
 * exactly as Braze sent them (`eventBytes`). A type no connector of the workspace selects is counted (by type) and not published. What cannot be routed (a
 * body that is not Braze's envelope, an event without a string `event_type`) goes whole to the workspace's fallback
 * connector, whose function dead-letters it with a reason: nothing Braze sent is lost to a bad shape.
 */
import type { WorkspaceDoor } from '../../shared/door';
import { routeOf } from '../../shared/door';
import { skipJsonWhitespace } from '../core/json-bytes';
import { type EnvelopeElement, scanEnvelope } from './envelope-count';

/** What one connector gets of a request. */
export interface RoutedPart {
  readonly connector: string;
  readonly body: Buffer;
  /** Its events (undefined for a body that is not an envelope). */
  readonly events?: number;
}

export interface Routing {
  /** An empty body, or an envelope of no event: nothing to publish. */
  readonly empty: boolean;
  /** Events in the request (undefined when the body is not Braze's envelope). */
  readonly events?: number;
  readonly parts: readonly RoutedPart[];
  /** Events of types no connector of the workspace selects, by type: counted here, not published. */
  readonly notSelected: Readonly<Record<string, number>>;
}

const ENVELOPE_START = Buffer.from('{"events":[');
const ENVELOPE_END = Buffer.from(']}');
const COMMA = Buffer.from(',');

const typeOf = (e: unknown): string | undefined => {
  const t = e && typeof e === 'object' && !Array.isArray(e) ? (e as { event_type?: unknown }).event_type : undefined;
  return typeof t === 'string' ? t : undefined;
};

/**
 * Each event's bytes as Braze sent them, for a request split between connectors: `JSON.stringify` of each parsed event
 * when the envelope re-serialized is byte for byte the body (Braze sends compact JSON: the common case, and the cheap
 * one), else the byte scan's slices of the body (`scanEnvelope`: pretty-printed bodies, escapes, number forms).
 */
function eventBytes(body: Buffer, events: readonly unknown[]): { source: Buffer; elements: EnvelopeElement[] } {
  const pieces = events.map((e) => JSON.stringify(e) ?? 'null');
  if (`{"events":[${pieces.join(',')}]}` === body.toString('utf8')) {
    const elements: EnvelopeElement[] = [];
    let at = 0;
    pieces.forEach((p, i) => {
      const end = at + Buffer.byteLength(p);
      const type = typeOf(events[i]);
      elements.push({ start: at, end, ...(type === undefined ? {} : { type }) });
      at = end;
    });
    return { source: Buffer.from(pieces.join('')), elements };
  }
  const scanned = scanEnvelope(body);
  if (scanned && scanned.length === events.length) return { source: body, elements: scanned };
  // Keys the scan leaves to JSON.parse (an escaped `events`): the events as JSON.parse read them.
  return eventBytes(Buffer.from(`{"events":[${pieces.join(',')}]}`), events);
}

/** Routes one request's body (after decompression; `decoded` false: it could not be decompressed). */
export function routeBody(body: Buffer, door: Pick<WorkspaceDoor, 'routes' | 'fallback'>, decoded = true): Routing {
  const whole = (): Routing => ({ empty: false, parts: [{ connector: door.fallback, body }], notSelected: {} });
  if (!decoded) return whole();
  if (skipJsonWhitespace(body, 0) === body.length) return { empty: true, events: 0, parts: [], notSelected: {} };
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch {
    return whole(); // not JSON: published whole, for the function to dead-letter
  }
  const events = value && typeof value === 'object' && !Array.isArray(value) && (value as { events?: unknown }).events;
  if (!Array.isArray(events)) return whole();
  if (!events.length) return { empty: true, events: 0, parts: [], notSelected: {} };
  const groups = new Map<string, number[]>();
  const notSelected: Record<string, number> = {};
  events.forEach((e, i) => {
    const type = typeOf(e);
    const route = type === undefined ? { connector: door.fallback } : routeOf(door, type);
    if ('notSelected' in route) notSelected[route.notSelected] = (notSelected[route.notSelected] ?? 0) + 1;
    else {
      const list = groups.get(route.connector);
      if (list) list.push(i);
      else groups.set(route.connector, [i]);
    }
  });
  const count = events.length;
  if (groups.size === 1 && !Object.keys(notSelected).length) {
    const [connector] = groups.keys();
    return { empty: false, events: count, parts: [{ connector: connector!, body, events: count }], notSelected };
  }
  const { source, elements } = eventBytes(body, events);
  const parts = [...groups].map(([connector, indexes]): RoutedPart => {
    const pieces: Buffer[] = [ENVELOPE_START];
    indexes.forEach((index, n) => {
      const e = elements[index]!;
      pieces.push(...(n ? [COMMA] : []), source.subarray(e.start, e.end));
    });
    pieces.push(ENVELOPE_END);
    return { connector, body: Buffer.concat(pieces), events: indexes.length };
  });
  return { empty: false, events: count, parts, notSelected };
}
