/**
 * A realistic sample feed for one connector, with what each event is meant to become, so that a local run can
 * reconcile what it published with what the pipeline did: every exportable type in turn, plus users without an
 * external id, types the connector does not select, non-exportable types and a few malformed events, packed into
 * Pub/Sub messages in the three input shapes the translator accepts (the HTTP connector's envelope, a single nested event, a flat
 * record with its type in the `event_type` attribute).
 */
import { DEFAULT_CATALOG } from '../shared/catalog';
import { selectedTypes, type Connector } from '../shared/connector';
import { nestEvent, prng, sampleEvent } from '../common/samples';

export type Intent =
  | 'delivered'
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

/** One event of a feed: its body (flat), and what it is meant to become. */
export interface FeedEvent {
  readonly body: Record<string, unknown>;
  readonly id: string;
  readonly type: string;
  readonly intent: Intent;
}

export interface FeedOptions {
  events: number;
  seed?: number;
  batchSize?: number;
  startTime?: number;
}

/** The feed's events with their intents (see the module comment), in the order they are sent. */
export function feedEvents(connector: Connector, options: FeedOptions): FeedEvent[] {
  const seed = options.seed ?? 1;
  const r = prng(seed);
  const selected = selectedTypes(connector);
  const unselected = DEFAULT_CATALOG.map((e) => e.type).filter((t) => !selected.includes(t));
  const nonExportable = NON_EXPORTABLE.filter((t) => !selected.includes(t));
  const time = Math.floor((options.startTime ?? Date.now()) / 1000);
  const events: FeedEvent[] = [];
  for (let i = 0; i < options.events; i++) {
    const roll = r();
    const n = seed * 1_000_003 + i;
    if (roll < 0.04 && unselected.length) {
      const type = unselected[i % unselected.length]!;
      const e = sampleEvent(type, { time }, n);
      events.push({ body: e, id: e.id, type, intent: 'skipped:not_selected' });
    } else if (roll < 0.07 && nonExportable.length) {
      const type = nonExportable[i % nonExportable.length]!;
      const id = `nx-${seed}-${i}`;
      events.push({
        body: {
          event_type: type,
          id,
          time,
          user_id: `braze-${i}`,
          external_user_id: `user-${i}`,
          name: 'added_to_cart',
        },
        id,
        type,
        intent: 'skipped:not_exportable',
      });
    } else if (roll < 0.1) {
      const type = selected[i % selected.length]!;
      const e = sampleEvent(type, { time, external_user_id: undefined }, n);
      events.push({
        body: e,
        id: e.id,
        type,
        intent: connector.includeAnonymousUsers ? 'delivered' : 'skipped:no_external_user_id',
      });
    } else if (roll < 0.11) {
      const type = selected[i % selected.length]!;
      // Malformed: `time` of the wrong type (a date string instead of UNIX seconds).
      const e = sampleEvent(type, { time: '2026-11-28 10:00' }, n);
      events.push({ body: e, id: e.id, type, intent: 'dead_letter:invalid' });
    } else {
      const type = selected[i % selected.length]!;
      const e = sampleEvent(type, { time: time - (i % 600) }, n);
      events.push({ body: e, id: e.id, type, intent: 'delivered' });
    }
  }
  return events;
}

/**
 * What Braze's Custom Currents Export sends for the feed: every event in the nested shape, in the order given (the
 * local Braze puts them in envelopes of at most 100). The intents are those of `feedEvents`.
 */
export function brazeFeed(connector: Connector, options: FeedOptions): { events: FeedEvent[]; bodies: unknown[] } {
  const events = feedEvents(connector, options);
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
