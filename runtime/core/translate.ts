/**
 * Translation of Currents events into Segment `track` calls, with no I/O. `createTranslator(connector)` compiles, once
 * per connector, a plan per event type (which field goes where, renamed, checked against its Avro type, redacted or
 * hashed); translating an event is then a single pass over its fields and one JSON.stringify.
 *
 * Every event ends in exactly one of `send`, `skipped` or `deadLetters`; nothing here throws on bad input.
 * The rules are docs/events.md (generated from shared/catalog.ts). The parts: the per-type plan
 * (./translation-plan.ts), message ids (./message-id.ts), timestamps (./timestamp.ts), batch bodies (./batch.ts).
 */
import { CATALOG, TYPE_ALIASES, canonicalType } from '../../shared/catalog';
import type { Connector } from '../../shared/connector';
import { selectedTypes } from '../../shared/connector';
import { isObject, splitMessage, viewEvent } from './decode';
import { SEGMENT_LIMITS, utf8Length } from './batch';
import { segmentMessageId } from './message-id';
import { MAX_EVENT_DEPTH, nestingDepth, stringifyDeep, withinDepth } from './json-depth';
import { isoTimestamp, PLAUSIBLE_TIME } from './timestamp';
import { P_HASH, P_NONE, P_REDACT, type Policy, Scratch, TypePlan } from './translation-plan';
import type { Clock, DeadLetter, SegmentTrackCall, SkippedEvent, TranslatedEvent, TranslationResult } from './types';
import { systemClock } from './types';

export { HASHED_ID_PREFIX, MAX_MESSAGE_ID_LENGTH, segmentMessageId, sha256Hex } from './message-id';
export { isoTimestamp } from './timestamp';
export { LIBRARY } from './translation-plan';

/** Segment's limit for one call: a translated call over this many bytes of UTF-8 JSON is dead-lettered (`too_large`). */
const MAX_CALL_BYTES = SEGMENT_LIMITS.maxCallBytes;

/** What a translator needs of a connector (a full `Connector` fits). */
export type TranslatorConfig = Pick<Connector, 'events'> &
  Partial<Pick<Connector, 'eventNames' | 'includeAnonymousUsers' | 'fields'>>;

/** The outcome of one event. */
export type EventOutcome =
  | { readonly kind: 'send'; readonly event: TranslatedEvent }
  | { readonly kind: 'skipped'; readonly skipped: SkippedEvent }
  | { readonly kind: 'deadLetter'; readonly deadLetter: DeadLetter };

export interface Translator {
  /** One Pub/Sub message body (+ attributes) → every event lands in exactly one of send/skipped/deadLetters. Never throws. */
  translateMessage(data: Buffer | string, attributes?: Record<string, string>): TranslationResult;
  /** One already-parsed event (any shape) → its outcome. Never throws. */
  translateEvent(value: unknown, attributes?: Record<string, string>): EventOutcome;
}

const NOT_SELECTED = 0 as const;

function idOf(value: unknown): string | undefined {
  return isObject(value) && typeof value.id === 'string' ? value.id : undefined;
}

/** Whether a call's JSON is over Segment's per-call limit in UTF-8 bytes; cheap bounds first (1 to 3 bytes a unit). */
function overCallLimit(json: string): boolean {
  if (json.length > MAX_CALL_BYTES) return true;
  if (json.length * 3 <= MAX_CALL_BYTES) return false;
  return utf8Length(json) > MAX_CALL_BYTES;
}

class CompiledTranslator implements Translator {
  /** Every spelling of every exportable type → its plan, or NOT_SELECTED. */
  private readonly plans = new Map<string, TypePlan | typeof NOT_SELECTED>();
  private readonly includeAnonymousUsers: boolean;
  /** "Now" for the plausible window, read once per message (or event) translated. */
  private nowMs = 0;

  constructor(
    config: TranslatorConfig,
    private readonly clock: Clock,
  ) {
    this.includeAnonymousUsers = config.includeAnonymousUsers ?? false;
    const policies = new Map<string, Policy>();
    for (const f of config.fields?.redact ?? []) policies.set(f, P_REDACT);
    for (const f of config.fields?.hash ?? []) policies.set(f, P_HASH);
    const policyOf = (field: string): Policy => policies.get(field) ?? P_NONE;
    const renames = new Map<string, string>();
    for (const [name, segmentEvent] of Object.entries(config.eventNames ?? {})) {
      const t = canonicalType(name);
      if (t) renames.set(t, segmentEvent);
    }
    const selected = new Set(selectedTypes(config));
    for (const entry of CATALOG) {
      const plan = selected.has(entry.type)
        ? new TypePlan(entry, renames.get(entry.type) ?? entry.segmentEvent, policyOf)
        : NOT_SELECTED;
      this.plans.set(entry.type, plan);
    }
    for (const [alias, type] of Object.entries(TYPE_ALIASES)) this.plans.set(alias, this.plans.get(type)!);
  }

  translateMessage(data: Buffer | string, attributes?: Record<string, string>): TranslationResult {
    const send: TranslatedEvent[] = [];
    const skipped: SkippedEvent[] = [];
    let deadLetters: DeadLetter[];
    this.nowMs = this.clock.now();
    try {
      const split = splitMessage(data);
      deadLetters = split.deadLetters;
      const attributeType = typeof attributes?.event_type === 'string' ? attributes.event_type : undefined;
      for (let i = 0; i < split.events.length; i++) {
        const outcome = this.translateOne(split.events[i], attributeType, () => split.eventText?.(i));
        if (outcome.kind === 'send') send.push(outcome.event);
        else if (outcome.kind === 'skipped') skipped.push(outcome.skipped);
        else deadLetters.push(outcome.deadLetter);
      }
    } catch (err) {
      // Unreachable by design (translateOne catches per event); kept so that a bug can never lose a whole message.
      const text = typeof data === 'string' ? data : Buffer.isBuffer(data) ? data.toString('utf8') : '';
      return {
        send: [],
        skipped: [],
        deadLetters: [
          { reason: 'invalid', detail: `internal error decoding the message: ${(err as Error).message}`, raw: text },
        ],
      };
    }
    return { send, skipped, deadLetters };
  }

  translateEvent(value: unknown, attributes?: Record<string, string>): EventOutcome {
    this.nowMs = this.clock.now();
    return this.translateOne(value, typeof attributes?.event_type === 'string' ? attributes.event_type : undefined);
  }

  /** `text`: the event's original text in its message, kept by the dead letter of an event too deep to serialize. */
  private translateOne(
    value: unknown,
    attributeType: string | undefined,
    text?: () => string | undefined,
  ): EventOutcome {
    try {
      if (!withinDepth(value, MAX_EVENT_DEPTH)) {
        const depth = nestingDepth(value);
        const detail = `event is nested ${depth} levels deep, deeper than the ${MAX_EVENT_DEPTH} levels accepted`;
        return invalid(detail, text?.() ?? stringifyDeep(value), undefined, idOf(value));
      }
      return this.translate(value, attributeType);
    } catch (err) {
      return {
        kind: 'deadLetter',
        deadLetter: {
          reason: 'invalid',
          detail: `internal error translating the event: ${(err as Error).message}`,
          id: idOf(value),
          raw: value,
        },
      };
    }
  }

  private translate(value: unknown, attributeType: string | undefined): EventOutcome {
    const viewed = viewEvent(value, attributeType);
    if ('error' in viewed) {
      const plan = viewed.eventType === undefined ? undefined : this.plans.get(viewed.eventType);
      if (viewed.eventType !== undefined && plan === undefined) {
        return { kind: 'skipped', skipped: { reason: 'not_exportable', eventType: viewed.eventType, id: viewed.id } };
      }
      if (plan === NOT_SELECTED) {
        return { kind: 'skipped', skipped: { reason: 'not_selected', eventType: viewed.eventType, id: viewed.id } };
      }
      return invalid(viewed.error, value, viewed.eventType, viewed.id);
    }
    const { eventType, top, user, properties: propertiesIn } = viewed.view;
    const plan = this.plans.get(eventType);
    if (plan === undefined) {
      return { kind: 'skipped', skipped: { reason: 'not_exportable', eventType, id: idOf(top) } };
    }
    if (plan === NOT_SELECTED)
      return { kind: 'skipped', skipped: { reason: 'not_selected', eventType, id: idOf(top) } };

    const st = new Scratch();
    const nested = user !== undefined || propertiesIn !== undefined;
    plan.collect(top, st, nested);
    if (user !== undefined) plan.collect(user, st, false);
    if (propertiesIn !== undefined) plan.collect(propertiesIn, st, false);

    const type = plan.entry.type;
    const rawId = typeof st.id === 'string' ? st.id : undefined;
    if (st.error !== undefined) return invalid(st.error, value, type, rawId);
    if (rawId === undefined) return invalid("missing required field 'id'", value, type);
    if (rawId === '') return invalid("field 'id' is empty", value, type);
    if (st.time === undefined) return invalid("missing required field 'time'", value, type, rawId);
    const ms = st.timeMs !== undefined ? (st.timeMs as number) : (st.time as number) * 1000;
    const timestamp = isoTimestamp(ms);
    const field = st.timeMs !== undefined ? 'time_ms' : 'time';
    if (timestamp === undefined) return invalid(`field '${field}' is out of the range of dates`, value, type, rawId);
    const implausible = PLAUSIBLE_TIME.problem(ms, this.nowMs);
    if (implausible) return invalid(`field '${field}' is ${timestamp}, ${implausible}`, value, type, rawId);
    if (st.userId === undefined && (!this.includeAnonymousUsers || st.anonymousId === undefined)) {
      return { kind: 'skipped', skipped: { reason: 'no_external_user_id', eventType, id: rawId } };
    }
    const properties = plan.properties(st);

    const messageId = segmentMessageId(rawId);
    // Three literals rather than one with optional keys: each has a fixed shape (fast property access and
    // serialization in V8), and an absent id is never written as `"userId":undefined` work for JSON.stringify.
    const call: SegmentTrackCall =
      st.userId !== undefined
        ? st.anonymousId !== undefined
          ? {
              type: 'track',
              event: plan.segmentEvent,
              userId: st.userId,
              anonymousId: st.anonymousId,
              messageId,
              timestamp,
              context: plan.context(st),
              properties,
            }
          : {
              type: 'track',
              event: plan.segmentEvent,
              userId: st.userId,
              messageId,
              timestamp,
              context: plan.context(st),
              properties,
            }
        : {
            type: 'track',
            event: plan.segmentEvent,
            anonymousId: st.anonymousId,
            messageId,
            timestamp,
            context: plan.context(st),
            properties,
          };
    const json = JSON.stringify(call);
    if (overCallLimit(json)) {
      return {
        kind: 'deadLetter',
        deadLetter: {
          reason: 'too_large',
          detail: `translated call is ${utf8Length(json)} bytes of JSON, over Segment's limit of ${MAX_CALL_BYTES} bytes per call`,
          eventType: type,
          id: rawId,
          raw: value,
        },
      };
    }
    return { kind: 'send', event: { messageId, json, eventType: type, call, raw: value } };
  }
}

function invalid(detail: string, raw: unknown, eventType?: string, id?: string): EventOutcome {
  return { kind: 'deadLetter', deadLetter: { reason: 'invalid', detail, eventType, id, raw } };
}

/**
 * Compiles a connector's selection, renames and field policy once; the translator then serves every message. `clock`
 * tells "now" for the plausible window of event times (PLAUSIBLE_TIME).
 */
export function createTranslator(connector: TranslatorConfig, opts: { clock?: Clock } = {}): Translator {
  return new CompiledTranslator(connector, opts.clock ?? systemClock);
}

/** A connector-like config that exports all 55 types with no renames and no field policy (the CLI's default). */
export const ALL_TYPES: TranslatorConfig = Object.freeze({
  events: CATALOG.map((e) => e.type),
  eventNames: {},
  includeAnonymousUsers: false,
  fields: { redact: [], hash: [] },
});
