/**
 * Translation of Currents events into Segment `track` calls, with no I/O. `createTranslator(connector)` compiles, once
 * per connector, a plan per event type (which field goes where, renamed, checked against its Avro type, redacted or
 * hashed); translating an event is then a single pass over its fields and one JSON.stringify.
 *
 * Every event ends in exactly one of `send`, `skipped` or `deadLetters`; nothing here throws on bad input.
 * The rules are docs/events.md (generated from shared/catalog.ts). The parts: the per-type plan
 * (./translation-plan.ts), message ids (./message-id.ts), timestamps (./timestamp.ts), batch bodies (./batch.ts).
 */
import {
  CATALOG,
  DEFAULT_CATALOG,
  TYPE_ALIASES,
  canonicalType,
  genericEntry,
  isCurrentsTypeName,
  refusalOf,
  refusalText,
} from '../../shared/catalog';
import type { HashAlgorithm } from '../../shared/connector';
import { selectedTypes } from '../../shared/connector';
import { CONNECTOR_FIELD_DEFAULTS as DEFAULTS } from '../../shared/defaults';
import { createFieldHasher } from './field-hash';
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
export interface TranslatorConfig {
  readonly events: readonly string[];
  readonly eventNames?: Readonly<Record<string, string>>;
  readonly includeAnonymousUsers?: boolean;
  /** Export types the catalogue does not know as generic track calls (shared/catalog.ts genericEntry). */
  readonly exportUnknownTypes?: boolean;
  readonly fields?: {
    readonly redact?: readonly string[];
    readonly hash?: readonly string[];
    readonly hashAlgorithm?: HashAlgorithm;
  };
}

/** What a translator needs besides the connector: the hash key, for `fields.hashAlgorithm: 'hmac-sha256'`. */
export interface TranslatorOptions {
  readonly hashKey?: string;
  /** Tells "now" for the plausible window of event times (PLAUSIBLE_TIME). @default the system clock */
  readonly clock?: Clock;
}

/** Where `unknownTypes` counts a type that does not even look like a Currents type (`hello world`, 10 KB of text). */
export const NOT_A_TYPE_NAME = '(not a Currents type name)';

/** The most generic plans one translator keeps (each distinct unknown type gets one; more are built per event). */
const MAX_GENERIC_PLANS = 256;

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
/** An opt-in type the connector does not name: skipped `not_exportable`, saying why. */
const NOT_OPTED_IN = 1 as const;
type PlanSlot = TypePlan | typeof NOT_SELECTED | typeof NOT_OPTED_IN;

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
  private readonly plans = new Map<string, PlanSlot>();
  /** Why each type that is not exported is skipped (built on first sight of the type). */
  private readonly refusals = new Map<string, string>();
  private readonly includeAnonymousUsers: boolean;
  private readonly exportUnknownTypes: boolean;
  private readonly policyOf: (field: string) => Policy;
  private readonly hash: ReturnType<typeof createFieldHasher>;
  private genericPlans = 0;
  /** Tells "now" for the plausible window of event times (PLAUSIBLE_TIME). */
  private readonly clock: Clock;
  /** "Now" for the plausible window, read once per message (or event) translated. */
  private nowMs = 0;

  constructor(config: TranslatorConfig, options: TranslatorOptions) {
    this.clock = options.clock ?? systemClock;
    this.includeAnonymousUsers = config.includeAnonymousUsers ?? false;
    this.exportUnknownTypes = config.exportUnknownTypes ?? false;
    this.hash = createFieldHasher(config.fields?.hashAlgorithm ?? DEFAULTS.hashAlgorithm, options.hashKey);
    const policies = new Map<string, Policy>();
    for (const f of config.fields?.redact ?? []) policies.set(f, P_REDACT);
    for (const f of config.fields?.hash ?? []) policies.set(f, P_HASH);
    const policyOf = (field: string): Policy => policies.get(field) ?? P_NONE;
    this.policyOf = policyOf;
    const renames = new Map<string, string>();
    for (const [name, segmentEvent] of Object.entries(config.eventNames ?? {})) {
      const t = canonicalType(name);
      if (t) renames.set(t, segmentEvent);
    }
    const selected = new Set(selectedTypes(config));
    for (const entry of CATALOG) {
      const plan = selected.has(entry.type)
        ? new TypePlan(entry, renames.get(entry.type) ?? entry.segmentEvent, policyOf, this.hash)
        : entry.optIn === undefined
          ? NOT_SELECTED
          : NOT_OPTED_IN;
      this.plans.set(entry.type, plan);
    }
    for (const [alias, type] of Object.entries(TYPE_ALIASES)) this.plans.set(alias, this.plans.get(type)!);
  }

  translateMessage(data: Buffer | string, attributes?: Record<string, string>): TranslationResult {
    const send: TranslatedEvent[] = [];
    const skipped: SkippedEvent[] = [];
    let deadLetters: DeadLetter[];
    let unknownTypes: Record<string, number> | undefined;
    this.nowMs = this.clock.now();
    try {
      const split = splitMessage(data);
      deadLetters = split.deadLetters;
      const attributeType = typeof attributes?.event_type === 'string' ? attributes.event_type : undefined;
      for (let i = 0; i < split.events.length; i++) {
        const outcome = this.translateOne(split.events[i], attributeType, () => split.eventText?.(i));
        let type: string | undefined;
        if (outcome.kind === 'send') {
          send.push(outcome.event);
          type = outcome.event.eventType;
        } else if (outcome.kind === 'skipped') {
          skipped.push(outcome.skipped);
          type = outcome.skipped.eventType;
        } else {
          deadLetters.push(outcome.deadLetter);
          type = outcome.deadLetter.eventType;
        }
        if (type !== undefined && this.isUnknown(type)) {
          const key = isCurrentsTypeName(type) ? type : NOT_A_TYPE_NAME;
          (unknownTypes ??= {})[key] = (unknownTypes[key] ?? 0) + 1;
        }
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
    return unknownTypes ? { send, skipped, deadLetters, unknownTypes } : { send, skipped, deadLetters };
  }

  /** Whether a type is not in the catalogue at all (neither exportable nor refused): what `unknownTypes` counts. */
  private isUnknown(type: string): boolean {
    const plan = this.plans.get(type);
    if (plan === undefined) return refusalOf(type)?.kind === 'unknown';
    return typeof plan === 'object' && plan.entry.generic === true;
  }

  /** The plan of a type; an unknown type gets a generic one when the connector exports unknown types. */
  private planOf(type: string): PlanSlot | undefined {
    const plan = this.plans.get(type);
    if (plan !== undefined || !this.exportUnknownTypes || !isCurrentsTypeName(type)) return plan;
    if (refusalOf(type)?.kind !== 'unknown') return undefined;
    const entry = genericEntry(type);
    const generic = new TypePlan(entry, entry.segmentEvent, this.policyOf, this.hash);
    if (this.genericPlans < MAX_GENERIC_PLANS) {
      this.genericPlans++;
      this.plans.set(type, generic);
    }
    return generic;
  }

  /** The skip of an event whose type is not exported (or not selected), saying why. */
  private skip(plan: PlanSlot | undefined, eventType: string, id: string | undefined): EventOutcome {
    if (plan === NOT_SELECTED) return { kind: 'skipped', skipped: { reason: 'not_selected', eventType, id } };
    let detail = this.refusals.get(eventType);
    if (detail === undefined) {
      detail = refusalText(eventType, refusalOf(eventType) ?? { kind: 'unknown' });
      if (this.refusals.size < MAX_GENERIC_PLANS) this.refusals.set(eventType, detail);
    }
    return { kind: 'skipped', skipped: { reason: 'not_exportable', eventType, id, detail } };
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
      const plan = viewed.eventType === undefined ? undefined : this.planOf(viewed.eventType);
      if (viewed.eventType !== undefined && typeof plan !== 'object')
        return this.skip(plan, viewed.eventType, viewed.id);
      return invalid(viewed.error, value, viewed.eventType, viewed.id);
    }
    const { eventType, top, user, properties: propertiesIn } = viewed.view;
    const plan = this.planOf(eventType);
    if (typeof plan !== 'object') return this.skip(plan, eventType, idOf(top));

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
    const event = plan.eventName(st);
    // Three literals rather than one with optional keys: each has a fixed shape (fast property access and
    // serialization in V8), and an absent id is never written as `"userId":undefined` work for JSON.stringify.
    const call: SegmentTrackCall =
      st.userId !== undefined
        ? st.anonymousId !== undefined
          ? {
              type: 'track',
              event,
              userId: st.userId,
              anonymousId: st.anonymousId,
              messageId,
              timestamp,
              context: plan.context(st),
              properties,
            }
          : {
              type: 'track',
              event,
              userId: st.userId,
              messageId,
              timestamp,
              context: plan.context(st),
              properties,
            }
        : {
            type: 'track',
            event,
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

/** The most `unknown_event_type` lines one message makes (its `batch_done` line counts every type). */
const MAX_UNKNOWN_TYPE_REPORTS = 20;

/** What the function logs of each type the catalogue does not know in one message (`unknown_event_type` lines). */
export function unknownTypeReports(
  result: Pick<TranslationResult, 'send' | 'unknownTypes'>,
): Array<{ message: string; fields: { eventType: string; events: number; exported: boolean } }> {
  return Object.entries(result.unknownTypes ?? {})
    .slice(0, MAX_UNKNOWN_TYPE_REPORTS)
    .map(([eventType, events]) => {
      const exported = result.send.some((e) => e.eventType === eventType);
      const fate = exported
        ? 'exported generically (exportUnknownTypes)'
        : 'skipped (exportUnknownTypes would export them)';
      return {
        message: `${events} event(s) of a type the catalogue does not know: ${eventType}; ${fate}`,
        fields: { eventType, events, exported },
      };
    });
}

/**
 * Compiles a connector's selection, renames and field policy once; the translator then serves every message.
 * `options.clock` tells "now" for the plausible window of event times (PLAUSIBLE_TIME).
 */
export function createTranslator(connector: TranslatorConfig, options: TranslatorOptions = {}): Translator {
  return new CompiledTranslator(connector, options);
}

/** A connector-like config that exports every type exported by default, with no renames and no field policy (the CLI's default). */
export const ALL_TYPES: TranslatorConfig = Object.freeze({
  events: DEFAULT_CATALOG.map((e) => e.type),
  eventNames: {},
  includeAnonymousUsers: false,
  fields: { redact: [], hash: [] },
});
