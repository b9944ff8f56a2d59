/**
 * A realistic sample feed for one connector, or for the connectors of one Braze workspace (what its Current sends to
 * the workspace's door), with what each event is meant to become and which connector is meant to handle it, so that a
 * local run can reconcile what it published with what the pipeline did: every selected type in turn, plus users
 * without an external id, types no connector selects, non-exportable types and a few malformed events, packed into
 * Pub/Sub messages in the three input shapes the translator accepts (the HTTP connector's envelope, a single nested event, a flat
 * record with its type in the `event_type` attribute).
 */
import { CATALOG, DEFAULT_CATALOG } from '../shared/catalog';
import { selectedTypes, type Connector } from '../shared/connector';
import { nestEvent, prng, sampleEvent } from '../common/samples';
import { fieldsFor } from './avro-export';

export type Intent =
  | 'delivered'
  /** Counted by the workspace's door (a type no connector of the workspace selects) and not published. */
  | 'door:not_selected'
  | 'skipped:not_selected'
  | 'skipped:not_exportable'
  | 'skipped:no_external_user_id'
  | 'dead_letter:invalid';

export interface FeedMessage {
  readonly data: string;
  readonly attributes: Record<string, string>;
  /** The events of the message (ids, types and intents), for reconciliation. */
  readonly events: ReadonlyArray<{ id: string; type: string; intent: Intent }>;
}

/** Types Currents emits that are not exported (opt-in types, unless the connector names them, and a refused one). */
const NON_EXPORTABLE = ['users.behaviors.CustomEvent', 'users.behaviors.Purchase', 'users.UserOrphan'];

/** One event of a feed: its body (flat), what it is meant to become, and which connector is meant to handle it. */
export interface FeedEvent {
  readonly body: Record<string, unknown>;
  readonly id: string;
  readonly type: string;
  readonly intent: Intent;
  /** The connector that handles it; undefined for an event the door counts and publishes nowhere. */
  readonly connector?: string;
}

export interface FeedOptions {
  events: number;
  seed?: number;
  batchSize?: number;
  startTime?: number;
}

/**
 * The feed's events with their intents (see the module comment), in the order they are sent. With several connectors
 * (those of one workspace, selections apart), it is what the workspace's door gets: each selected type is meant for
 * the connector that selects it, and the types none selects are counted at the door (`atDoor`: also with one).
 */
export function feedEvents(
  connectors: Connector | readonly Connector[],
  options: FeedOptions,
  atDoor = Array.isArray(connectors),
): FeedEvent[] {
  const list: readonly Connector[] = Array.isArray(connectors) ? connectors : [connectors as Connector];
  const seed = options.seed ?? 1;
  const r = prng(seed);
  const owner = new Map(list.flatMap((c) => selectedTypes(c).map((t): [string, Connector] => [t, c])));
  const selected = CATALOG.map((e) => e.type).filter((t) => owner.has(t));
  const unselected = DEFAULT_CATALOG.map((e) => e.type).filter((t) => !owner.has(t));
  const nonExportable = NON_EXPORTABLE.filter((t) => !owner.has(t));
  const nowhere = atDoor
    ? { intent: 'door:not_selected' as const }
    : { intent: 'skipped:not_selected' as const, connector: list[0]!.name };
  const time = Math.floor((options.startTime ?? Date.now()) / 1000);
  const events: FeedEvent[] = [];
  for (let i = 0; i < options.events; i++) {
    const roll = r();
    const n = seed * 1_000_003 + i;
    const type = selected[i % selected.length]!;
    const c = owner.get(type)!;
    if (roll < 0.04 && unselected.length) {
      const other = unselected[i % unselected.length]!;
      const e = sampleEvent(other, { time }, n);
      events.push({ body: e, id: e.id, type: other, ...nowhere });
    } else if (roll < 0.07 && nonExportable.length) {
      const nx = nonExportable[i % nonExportable.length]!;
      const id = `nx-${seed}-${i}`;
      const body = nonExportableEvent(nx, { id, time, user_id: `braze-${i}`, external_user_id: `user-${i}` });
      events.push(
        atDoor
          ? { body, id, type: nx, intent: 'door:not_selected' }
          : { body, id, type: nx, intent: 'skipped:not_exportable', connector: c.name },
      );
    } else if (roll < 0.1) {
      const e = sampleEvent(type, { time, external_user_id: undefined }, n);
      const intent = c.includeAnonymousUsers ? 'delivered' : 'skipped:no_external_user_id';
      events.push({ body: e, id: e.id, type, intent, connector: c.name });
    } else if (roll < 0.11) {
      // Malformed: `time` of the wrong type (a date string instead of UNIX seconds).
      const e = sampleEvent(type, { time: '2026-11-28 10:00' }, n);
      events.push({ body: e, id: e.id, type, intent: 'dead_letter:invalid', connector: c.name });
    } else {
      const e = sampleEvent(type, { time: time - (i % 600) }, n);
      events.push({ body: e, id: e.id, type, intent: 'delivered', connector: c.name });
    }
  }
  return events;
}

/**
 * What one workspace's Braze Current sends to its door for the feed of its connectors: every event in the nested
 * shape, in the order given (the local Braze puts them in envelopes of at most 100). The intents are those of
 * `feedEvents` at the door.
 */
export function brazeFeed(
  connectors: Connector | readonly Connector[],
  options: FeedOptions,
): { events: FeedEvent[]; bodies: unknown[] } {
  const events = feedEvents(connectors, options, true);
  return { events, bodies: events.map((e) => nestEvent(e.body)) };
}

/**
 * The feed packed into Pub/Sub messages in the three input shapes (envelope of nested or flat events, a single nested
 * event, a flat record with its type in the `event_type` attribute), for publishing straight to the ingest topic.
 */
export function buildFeed(connector: Connector, options: FeedOptions): FeedMessage[] {
  const batchSize = options.batchSize ?? 100;
  const events = feedEvents(connector, options);
  const messages: FeedMessage[] = [];
  let i = 0;
  let shape = 0;
  while (i < events.length) {
    const kind = shape++ % 10;
    if (kind === 8) {
      // A single nested event on its own.
      const e = events[i++]!;
      messages.push({ data: JSON.stringify(nestEvent(e.body)), attributes: {}, events: [strip(e)] });
    } else if (kind === 9) {
      // A flat record (Avro export style) with its type in the Pub/Sub attribute.
      const e = events[i++]!;
      const { event_type: type, ...flat } = e.body as { event_type: string };
      messages.push({ data: JSON.stringify(flat), attributes: { event_type: type }, events: [strip(e)] });
    } else {
      const part = events.slice(i, i + batchSize);
      i += part.length;
      messages.push({
        data: JSON.stringify({ events: part.map((e) => (kind % 2 ? e.body : nestEvent(e.body))) }),
        attributes: {},
        events: part.map(strip),
      });
    }
  }
  return messages;
}

function strip(e: FeedEvent) {
  return { id: e.id, type: e.type, intent: e.intent };
}

/** Counts of intents. */
export function intentCounts(events: readonly { intent: Intent }[]): Record<Intent, number> {
  const out = {} as Record<Intent, number>;
  for (const e of events) out[e.intent] = (out[e.intent] ?? 0) + 1;
  return out;
}

/**
 * A complete event of a type that is not exported: `base`, plus a value for every other field its Currents field list
 * requires, so that the storage export can write it too (an Avro record has no null for a required field).
 */
function nonExportableEvent(type: string, base: Record<string, unknown>): Record<string, unknown> {
  const body: Record<string, unknown> = { event_type: type, ...base };
  for (const f of fieldsFor(type)) {
    if (f.optional || body[f.name] !== undefined) continue;
    body[f.name] =
      f.type === 'string'
        ? f.name === 'name'
          ? 'added_to_cart'
          : `${f.name}-${String(base.id)}`
        : f.type === 'boolean'
          ? false
          : f.type.startsWith('array')
            ? []
            : 1;
  }
  return body;
}
