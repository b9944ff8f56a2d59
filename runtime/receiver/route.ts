/**
 * The door's routing, with no I/O: which of the workspace's connectors gets each event of a request, by its
 * `event_type` (shared/door.ts derives the routes from the connector definitions). The body is read as bytes, in one
 * pass (`scanEnvelope`: where each event's bytes are and its type, the whole body checked as JSON.parse would; in
 * WebAssembly where it can be, envelope-scan-wasm.ts), and no event is built: a request whose events all go to one
 * connector is published as it came; otherwise each connector's part is an envelope of its events' bytes exactly as
 * Braze sent them. A type no connector of the workspace selects is counted (by type) and not published. A body the scan
 * does not read as Braze's envelope is read with `JSON.parse` (`routeParsed`): what cannot be routed (not JSON, not
 * the envelope) goes whole to the workspace's fallback connector, whose function dead-letters it with a reason: nothing
 * Braze sent is lost to a bad shape.
 */
import type { Route, WorkspaceDoor } from '../../shared/door';
import { routeOf } from '../../shared/door';
import { tally } from '../core/counts';
import { skipJsonWhitespace } from '../core/json-bytes';
import type { EnvelopeElement } from './envelope-scan';
import { scanEnvelope } from './envelope-scan-wasm';

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

type Door = Pick<WorkspaceDoor, 'routes' | 'fallback'>;

const ENVELOPE_START = Buffer.from('{"events":[');
const ENVELOPE_END = Buffer.from(']}');
const COMMA = 0x2c;

const empty = (): Routing => ({ empty: true, events: 0, parts: [], notSelected: {} });
/** The body published as it came to the fallback connector, for its function to dead-letter. */
const whole = (body: Buffer, door: Door): Routing => ({
  empty: false,
  parts: [{ connector: door.fallback, body }],
  notSelected: {},
});

/** Routes one request's body (after decompression; `decoded` false: it could not be decompressed). */
export function routeBody(body: Buffer, door: Door, decoded = true): Routing {
  if (!decoded) return whole(body, door);
  if (skipJsonWhitespace(body, 0) === body.length) return empty();
  const elements = scanEnvelope(body);
  return elements ? routeElements(body, elements, body, door) : routeParsed(body, door);
}

/**
 * The router on `JSON.parse`, for a body the scan does not read as Braze's envelope: not JSON, or JSON of another
 * shape, goes whole to the fallback connector. (Should the scan ever refuse an envelope JSON.parse reads, its events
 * are routed as JSON.parse read them, each re-serialized.)
 */
export function routeParsed(body: Buffer, door: Door): Routing {
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch {
    return whole(body, door); // not JSON: published whole, for the function to dead-letter
  }
  const events = value && typeof value === 'object' && !Array.isArray(value) && (value as { events?: unknown }).events;
  if (!Array.isArray(events)) return whole(body, door);
  const elements: EnvelopeElement[] = [];
  const pieces = events.map((e: unknown) => {
    const piece = JSON.stringify(e);
    const at = elements.length ? elements[elements.length - 1]!.end : 0;
    const type = typeOf(e);
    elements.push({ start: at, end: at + Buffer.byteLength(piece), ...(type === undefined ? {} : { type }) });
    return piece;
  });
  return routeElements(body, elements, Buffer.from(pieces.join('')), door);
}

function typeOf(e: unknown): string | undefined {
  const t = e && typeof e === 'object' && !Array.isArray(e) ? (e as { event_type?: unknown }).event_type : undefined;
  return typeof t === 'string' ? t : undefined;
}

/** Types already routed, per door (a request carries few types, and the next ones the same): at most this many. */
const KNOWN_ROUTES = 1024;
const known = new WeakMap<Door, Map<string, Route>>();

/** `routeOf` for this door, remembered by type. */
function knownRoutes(door: Door): (type: string) => Route {
  let routes = known.get(door);
  if (!routes) known.set(door, (routes = new Map()));
  const memo = routes;
  return (type) => {
    let route = memo.get(type);
    if (route === undefined) {
      if (memo.size === KNOWN_ROUTES) memo.clear(); // types are Braze's, but a body could name any number of them
      memo.set(type, (route = routeOf(door, type)));
    }
    return route;
  };
}

/** Routes the events of an envelope (`elements`: each one's bytes in `source`, and its type). */
function routeElements(body: Buffer, elements: readonly EnvelopeElement[], source: Buffer, door: Door): Routing {
  if (!elements.length) return empty();
  const groups = new Map<string, EnvelopeElement[]>();
  const notSelected: Record<string, number> = {};
  const routes = knownRoutes(door);
  for (const e of elements) {
    const route = e.type === undefined ? { connector: door.fallback } : routes(e.type);
    if ('notSelected' in route) tally(notSelected, route.notSelected);
    else {
      const list = groups.get(route.connector);
      if (list) list.push(e);
      else groups.set(route.connector, [e]);
    }
  }
  const count = elements.length;
  if (groups.size === 1 && !Object.keys(notSelected).length) {
    const [connector] = groups.keys();
    return { empty: false, events: count, parts: [{ connector: connector!, body, events: count }], notSelected };
  }
  return { empty: false, events: count, parts: envelopesOf(source, groups), notSelected };
}

/**
 * Each connector's part: `{"events":[` + its events' bytes joined by commas + `]}`, all the parts written once into
 * one buffer of their exact total size (one allocation a request, however many connectors).
 */
function envelopesOf(source: Buffer, groups: ReadonlyMap<string, readonly EnvelopeElement[]>): RoutedPart[] {
  const sizes = [...groups.values()].map((list) => {
    let size = ENVELOPE_START.length + ENVELOPE_END.length + list.length - 1;
    for (const e of list) size += e.end - e.start;
    return size;
  });
  const out = Buffer.allocUnsafe(sizes.reduce((a, b) => a + b, 0));
  let at = 0;
  return [...groups].map(([connector, list], n): RoutedPart => {
    const from = at;
    at += ENVELOPE_START.copy(out, at);
    list.forEach((e, k) => {
      if (k) out[at++] = COMMA;
      at += source.copy(out, at, e.start, e.end);
    });
    at += ENVELOPE_END.copy(out, at);
    return { connector, body: out.subarray(from, from + sizes[n]!), events: list.length };
  });
}
