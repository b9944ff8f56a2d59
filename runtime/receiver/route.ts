/**
 * The door's routing, with no I/O: which of the workspace's connectors gets each event of a request, by its
 * `event_type` (shared/door.ts derives the routes from the connector definitions). Each connector's part is an envelope
 * of its events' bytes exactly as Braze sent them; a request whose events all go to one connector is published as it
 * came. A type no connector of the workspace selects is counted (by type) and not published. What cannot be routed (a
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

/** The events of an envelope the byte scan leaves to JSON.parse (escaped top-level keys), re-serialized one by one. */
function parsedElements(body: Buffer): { source: Buffer; elements: EnvelopeElement[] } | undefined {
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
  const events = value && typeof value === 'object' && !Array.isArray(value) && (value as { events?: unknown }).events;
  if (!Array.isArray(events)) return undefined;
  const pieces: Buffer[] = [];
  const elements: EnvelopeElement[] = [];
  let at = 0;
  for (const e of events as unknown[]) {
    const piece = Buffer.from(JSON.stringify(e) ?? 'null');
    const t = e && typeof e === 'object' ? (e as { event_type?: unknown }).event_type : undefined;
    elements.push({ start: at, end: at + piece.length, ...(typeof t === 'string' ? { type: t } : {}) });
    pieces.push(piece);
    at += piece.length;
  }
  return { source: Buffer.concat(pieces), elements };
}

/** Routes one request's body (after decompression; `decoded` false: it could not be decompressed). */
export function routeBody(
  body: Buffer,
  door: Pick<WorkspaceDoor, 'routes' | 'fallback'>,
  decoded = true,
): Routing {
  const whole = (): Routing => ({ empty: false, parts: [{ connector: door.fallback, body }], notSelected: {} });
  if (!decoded) return whole();
  if (skipJsonWhitespace(body, 0) === body.length) return { empty: true, events: 0, parts: [], notSelected: {} };
  const scanned = scanEnvelope(body);
  const found = scanned ? { source: body, elements: scanned } : parsedElements(body);
  if (!found) return whole();
  const { source, elements } = found;
  if (!elements.length) return { empty: true, events: 0, parts: [], notSelected: {} };
  const groups = new Map<string, EnvelopeElement[]>();
  const notSelected: Record<string, number> = {};
  for (const e of elements) {
    const route = e.type === undefined ? { connector: door.fallback } : routeOf(door, e.type);
    if ('notSelected' in route) notSelected[route.notSelected] = (notSelected[route.notSelected] ?? 0) + 1;
    else {
      const list = groups.get(route.connector);
      if (list) list.push(e);
      else groups.set(route.connector, [e]);
    }
  }
  const events = elements.length;
  if (scanned && groups.size === 1 && !Object.keys(notSelected).length) {
    const [connector] = groups.keys();
    return { empty: false, events, parts: [{ connector: connector!, body, events }], notSelected };
  }
  const parts = [...groups].map(([connector, list]): RoutedPart => {
    const pieces: Buffer[] = [ENVELOPE_START];
    list.forEach((e, i) => pieces.push(...(i ? [COMMA] : []), source.subarray(e.start, e.end)));
    pieces.push(ENVELOPE_END);
    return { connector, body: Buffer.concat(pieces), events: list.length };
  });
  return { empty: false, events, parts, notSelected };
}
