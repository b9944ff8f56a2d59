/**
 * Translation of Currents events into Segment `track` calls, with no I/O. `createTranslator(connector)` compiles, once
 * per connector, a plan per event type (which field goes where, renamed, checked against its Avro type, redacted or
 * hashed); translating an event is then a single pass over its fields and one JSON.stringify.
 *
 * Every event ends in exactly one of `send`, `skipped` or `deadLetters`; nothing here throws on bad input.
 * The rules are docs/events.md (generated from shared/catalog.ts) and the product's event-catalog spec.
 */
import { createHash } from 'node:crypto';
import packageJson from '../../package.json';
import {
  CATALOG,
  CONTEXT_FIELDS,
  IDENTITY_FIELDS,
  JSON_STRING_FIELDS,
  TRAIT_ONLY_FIELDS,
  TYPE_ALIASES,
  canonicalType,
  type CatalogEntry,
} from '../../shared/catalog';
import { FIELD_SPECS, type FieldType } from '../../shared/catalog-fields';
import type { Connector } from '../../shared/connector';
import { selectedTypes } from '../../shared/connector';
import { hasType, isObject, splitMessage, typeErrorDetail, viewEvent, type JsonObject } from './decode';
import { ShapeCache } from './shapes';
import { SEGMENT_LIMITS, utf8Length } from './batch';
import {
  type DeadLetter,
  REDACTED,
  type SegmentTrackCall,
  type SkippedEvent,
  type TranslatedEvent,
  type TranslationResult,
} from './types';

/** Segment's limit for one call: a translated call over this many bytes of UTF-8 JSON is dead-lettered (`too_large`). */
const MAX_CALL_BYTES = SEGMENT_LIMITS.maxCallBytes;

/** Currents ids longer than this are replaced by a prefixed hash in `messageId`. */
export const MAX_MESSAGE_ID_LENGTH = 100;
/** Prefix of hashed message ids. A Currents id that itself starts with it is hashed too, so the two never collide. */
export const HASHED_ID_PREFIX = 'currents-sha256:';

/** `context.library` of every call, so that Segment's debugger shows where an event came from. */
// Not frozen: JSON.stringify is faster on an ordinary object, and every call shares this one.
export const LIBRARY: Readonly<{ name: string; version: string }> = {
  name: 'currents-segment-connectors',
  version: String(packageJson.version),
};

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

export function sha256Hex(s: string): string {
  return createHash('sha256').update(s, 'utf8').digest('hex');
}

/** The Segment messageId for a Currents id: the id itself, or a prefixed SHA-256 when it is too long for Segment. */
export function segmentMessageId(id: string): string {
  return id.length > MAX_MESSAGE_ID_LENGTH || id.startsWith(HASHED_ID_PREFIX) ? HASHED_ID_PREFIX + sha256Hex(id) : id;
}

// Where a field goes (besides properties/context/traits, which are separate flags of the rule).
const D_NORMAL = 0;
const D_MESSAGE_ID = 1;
const D_USER_ID = 2;
const D_ANONYMOUS_ID = 3;
const D_TIME = 4;
const D_TIME_MS = 5;
const D_IGNORE = 6; // event_type: already read
const D_CONTAINER = 7; // `user` / `properties` of the nested shape

const C_NONE = 0;
const C_STRING = 1;
const C_INTEGER = 2;
const C_OTHER = 3;
const checkOf = (type: FieldType | undefined): number =>
  type === undefined ? C_NONE : type === 'string' ? C_STRING : type === 'int' || type === 'long' ? C_INTEGER : C_OTHER;
// A module-local reference (calls through a CommonJS import may go through a getter when run by tsx).
const hasTypeOf = hasType;

const P_NONE = 0;
const P_REDACT = 1;
const P_HASH = 2;
type Policy = typeof P_NONE | typeof P_REDACT | typeof P_HASH;

interface Rule {
  readonly field: string;
  readonly dest: number;
  /** Expected Avro type, checked before anything else; undefined = not checked (a field the index does not list). */
  readonly type: FieldType | undefined;
  /** `type` as a check code (C_*), so that the common checks need no call. */
  readonly check: number;
  /** Property name when the field stays in `properties`. */
  readonly prop: string | undefined;
  /** Index into CONTEXT_SLOTS, or -1. */
  readonly ctx: number;
  /** Index into the plan's trait candidates, or -1. */
  readonly trait: number;
  readonly json: boolean;
  readonly policy: Policy;
}

const CONTEXT_SLOTS: ReadonlyArray<{ field: string; path: readonly string[] }> = Object.entries(CONTEXT_FIELDS).map(
  ([field, c]) => ({ field, path: c.path }),
);
const CONTEXT_SLOT_OF = new Map(CONTEXT_SLOTS.map((s, i) => [s.field, i]));
const JSON_FIELDS = new Set(JSON_STRING_FIELDS);
const TRAIT_ONLY = new Set(TRAIT_ONLY_FIELDS);

/** Types every event's general fields must have when a type's field list does not say. */
const GENERAL_TYPES: Readonly<Record<string, FieldType>> = {
  id: 'string',
  user_id: 'string',
  external_user_id: 'string',
  time: 'long',
  time_ms: 'long',
  event_type: 'string',
  email_address: 'string',
  ...Object.fromEntries(Object.keys(CONTEXT_FIELDS).map((f) => [f, 'string' as FieldType])),
};

const IDENTITY_DEST: Readonly<Record<string, number>> = {
  messageId: D_MESSAGE_ID,
  userId: D_USER_ID,
  anonymousId: D_ANONYMOUS_ID,
  event: D_IGNORE,
};

/** Per-event scratch state of one translation. */
class Scratch {
  id: unknown = undefined;
  userId: string | undefined = undefined;
  anonymousId: string | undefined = undefined;
  time: unknown = undefined;
  timeMs: unknown = undefined;
  ctx: unknown[] | undefined = undefined;
  traits: unknown[] | undefined = undefined;
  error: string | undefined = undefined;
  /** Number of properties collected into PROP_KEYS / PROP_VALUES. */
  n = 0;
  /** Position of the next field in the event (across its sources), for the plan's sequence cache. */
  pos = 0;
}
const MAX_SEQ = 256;

// Properties of the event being translated (translation is synchronous, so one pair of arrays serves every event).
const PROP_KEYS: string[] = [];
const PROP_VALUES: unknown[] = [];

function applyPolicy(policy: Policy, v: unknown): unknown {
  if (policy === P_REDACT) return REDACTED;
  return sha256Hex(typeof v === 'string' ? v : JSON.stringify(v));
}

function parseJsonString(s: string): unknown {
  // Only objects and arrays replace the string; anything else (or text that does not parse) stays as written.
  const c = s.trimStart().charCodeAt(0);
  if (c !== 0x7b && c !== 0x5b) return s;
  try {
    const v: unknown = JSON.parse(s);
    return typeof v === 'object' && v !== null ? v : s;
  } catch {
    return s;
  }
}

/** The compiled rules of one selected type for one connector. */
class TypePlan {
  private readonly rules = new Map<string, Rule>();
  /** Trait name → candidate slots, in the catalogue's order of preference. */
  private readonly traitNames: ReadonlyArray<readonly [trait: string, slots: number[]]>;
  private readonly traitCount: number;
  private readonly fixed: ReadonlyArray<readonly [string, string]>;
  private readonly shapes = new ShapeCache();
  /** The rule of each field position of the last event (a cache in front of `rules`). */
  private readonly seq: Array<Rule | undefined> = [];

  constructor(
    readonly entry: CatalogEntry,
    readonly segmentEvent: string,
    private readonly policyOf: (field: string) => Policy,
  ) {
    const specs = FIELD_SPECS.get(entry.type) ?? new Map();
    const traitSlot = new Map<string, number>();
    const names = new Map<string, number[]>();
    (entry.traits ?? []).forEach(([field, trait], i) => {
      traitSlot.set(field, i);
      names.set(trait, [...(names.get(trait) ?? []), i]);
    });
    this.traitNames = [...names.entries()];
    this.traitCount = entry.traits?.length ?? 0;
    this.fixed = Object.entries(entry.fixedProperties ?? {});
    const fields = new Set([...specs.keys(), ...Object.keys(GENERAL_TYPES), ...traitSlot.keys()]);
    for (const field of fields) this.rules.set(field, this.compile(field, specs.get(field)?.type, traitSlot));
    for (const container of ['user', 'properties']) {
      if (!this.rules.has(container)) {
        this.rules.set(container, { ...this.compile(container, undefined, traitSlot), dest: D_CONTAINER });
      }
    }
  }

  private compile(field: string, specType: FieldType | undefined, traitSlot: Map<string, number>): Rule {
    const identity = IDENTITY_FIELDS[field];
    const type = specType ?? GENERAL_TYPES[field];
    const policy = this.policyOf(field);
    if (identity !== undefined) {
      const dest = identity === 'timestamp' ? (field === 'time' ? D_TIME : D_TIME_MS) : IDENTITY_DEST[identity]!;
      return { field, dest, type, check: checkOf(type), prop: undefined, ctx: -1, trait: -1, json: false, policy };
    }
    const ctx = CONTEXT_SLOT_OF.get(field) ?? -1;
    const trait = traitSlot.get(field) ?? -1;
    const inProps = ctx >= 0 ? CONTEXT_FIELDS[field]!.alsoProperty : !TRAIT_ONLY.has(field);
    const prop = inProps ? (this.entry.renames?.[field] ?? field) : undefined;
    return {
      field,
      dest: D_NORMAL,
      type,
      check: checkOf(type),
      prop,
      ctx,
      trait,
      json: JSON_FIELDS.has(field),
      policy,
    };
  }

  /** One pass over one source object of the event's fields. */
  collect(src: JsonObject, st: Scratch, nested: boolean): void {
    const rules = this.rules;
    const seq = this.seq;
    for (const key in src) {
      let v = src[key];
      if (v === null || v === undefined) continue;
      // Events of one type mostly list their fields in the same order: try the rule seen at this position last time.
      const pos = st.pos++;
      let rule = seq[pos];
      if (rule === undefined || rule.field !== key) {
        rule = rules.get(key);
        if (pos < MAX_SEQ) seq[pos] = rule;
      }
      if (rule === undefined) {
        // A field the index does not list for this type (Braze adds fields over time): kept, unchecked.
        // A JSON-string field (message_extras…) is parsed wherever it appears, as on the types that list it.
        const policy = this.policyOf(key);
        PROP_KEYS[st.n] = key;
        PROP_VALUES[st.n++] =
          policy !== P_NONE
            ? applyPolicy(policy, v)
            : JSON_FIELDS.has(key) && typeof v === 'string'
              ? parseJsonString(v)
              : v;
        continue;
      }
      const check = rule.check;
      if (
        check !== C_NONE &&
        (check === C_STRING
          ? typeof v !== 'string'
          : check === C_INTEGER
            ? !(typeof v === 'number' && Number.isSafeInteger(v))
            : !hasTypeOf(rule.type!, v))
      ) {
        st.error ??= typeErrorDetail(key, rule.type!, v);
        continue;
      }
      switch (rule.dest) {
        case D_NORMAL:
          break;
        case D_MESSAGE_ID:
          st.id = v;
          continue;
        case D_USER_ID:
          if (v !== '') st.userId = rule.policy === P_HASH ? sha256Hex(v as string) : (v as string);
          continue;
        case D_ANONYMOUS_ID:
          if (v !== '') st.anonymousId = rule.policy === P_HASH ? sha256Hex(v as string) : (v as string);
          continue;
        case D_TIME:
          st.time = v;
          continue;
        case D_TIME_MS:
          st.timeMs = v;
          continue;
        case D_IGNORE:
          continue;
        case D_CONTAINER:
          if (nested && isObject(v)) continue;
          break;
      }
      if (rule.policy !== P_NONE) v = applyPolicy(rule.policy, v);
      else if (rule.json && typeof v === 'string') v = parseJsonString(v);
      if (rule.prop !== undefined) {
        PROP_KEYS[st.n] = rule.prop;
        PROP_VALUES[st.n++] = v;
      }
      if (rule.ctx >= 0) (st.ctx ??= new Array(CONTEXT_SLOTS.length))[rule.ctx] = v;
      if (rule.trait >= 0) (st.traits ??= new Array(this.traitCount))[rule.trait] = v;
    }
  }

  context(st: Scratch): Record<string, unknown> {
    const context: Record<string, unknown> = {};
    const ctx = st.ctx;
    if (ctx !== undefined) {
      for (let i = 0; i < ctx.length; i++) {
        const v = ctx[i];
        if (v === undefined) continue;
        const path = CONTEXT_SLOTS[i]!.path;
        if (path.length === 1) context[path[0]!] = v;
        else ((context[path[0]!] as JsonObject | undefined) ?? ((context[path[0]!] = {}) as JsonObject))[path[1]!] = v;
      }
    }
    const traits = st.traits;
    if (traits !== undefined) {
      let out: JsonObject | undefined;
      for (const [name, slots] of this.traitNames) {
        for (const s of slots) {
          if (traits[s] !== undefined) {
            (out ??= {})[name] = traits[s];
            break;
          }
        }
      }
      if (out) context.traits = out;
    }
    context.library = LIBRARY;
    return context;
  }

  /** The call's properties: the collected fields, then the type's fixed properties. */
  properties(st: Scratch): JsonObject {
    for (const [k, v] of this.fixed) {
      PROP_KEYS[st.n] = k;
      PROP_VALUES[st.n++] = v;
    }
    return this.shapes.build(PROP_KEYS, PROP_VALUES, st.n);
  }
}

const NOT_SELECTED = 0 as const;

function idOf(value: unknown): string | undefined {
  return isObject(value) && typeof value.id === 'string' ? value.id : undefined;
}

const DAY_MS = 86_400_000;
let cachedDay = NaN;
let cachedDayPrefix = '';
let cachedSecond = NaN;
let cachedSecondPrefix = '';
const pad2 = (n: number): string => (n < 10 ? '0' : '') + n;

/**
 * ISO-8601 UTC of a time in ms (exactly Date#toISOString), or undefined when out of the range of dates. The events of
 * one feed are close in time, so the date (and often the second) is cached: a hit costs a few arithmetic operations.
 */
export function isoTimestamp(ms: number): string | undefined {
  const second = Math.floor(ms / 1000);
  const milli = ms - second * 1000;
  const msPart = (milli < 10 ? '.00' : milli < 100 ? '.0' : '.') + milli + 'Z';
  if (second === cachedSecond) return cachedSecondPrefix + msPart;
  const day = Math.floor(ms / DAY_MS);
  if (day !== cachedDay || !(ms >= 0 && ms < 253_402_300_800_000)) {
    const d = new Date(ms);
    if (Number.isNaN(d.getTime())) return undefined;
    const iso = d.toISOString();
    if (iso.length !== 24) return iso; // years before 0 or after 9999 (no caching)
    cachedDay = day;
    cachedDayPrefix = iso.slice(0, 11);
    cachedSecond = second;
    cachedSecondPrefix = iso.slice(0, 19);
    return iso;
  }
  const inDay = second - day * 86_400;
  const h = Math.floor(inDay / 3600);
  const m = Math.floor((inDay - h * 3600) / 60);
  cachedSecond = second;
  cachedSecondPrefix = cachedDayPrefix + pad2(h) + ':' + pad2(m) + ':' + pad2(inDay - h * 3600 - m * 60);
  return cachedSecondPrefix + msPart;
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

  constructor(config: TranslatorConfig) {
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
    try {
      const split = splitMessage(data);
      deadLetters = split.deadLetters;
      const attributeType = typeof attributes?.event_type === 'string' ? attributes.event_type : undefined;
      for (const value of split.events) {
        const outcome = this.translateOne(value, attributeType);
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
    return this.translateOne(value, typeof attributes?.event_type === 'string' ? attributes.event_type : undefined);
  }

  private translateOne(value: unknown, attributeType: string | undefined): EventOutcome {
    try {
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
    if (timestamp === undefined) {
      const field = st.timeMs !== undefined ? 'time_ms' : 'time';
      return invalid(`field '${field}' is out of the range of dates`, value, type, rawId);
    }
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

/** Compiles a connector's selection, renames and field policy once; the translator then serves every message. */
export function createTranslator(connector: TranslatorConfig): Translator {
  return new CompiledTranslator(connector);
}

/** A connector-like config that exports all 55 types with no renames and no field policy (the CLI's default). */
export const ALL_TYPES: TranslatorConfig = Object.freeze({
  events: CATALOG.map((e) => e.type),
  eventNames: {},
  includeAnonymousUsers: false,
  fields: { redact: [], hash: [] },
});
