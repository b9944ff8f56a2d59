/**
 * The compiled translation plan of one event type for one connector (`TypePlan`): which field goes where (identity,
 * timestamp, context, traits, properties), renamed, checked against its Avro type, redacted or hashed. Built once per
 * connector by runtime/core/translate.ts, which runs it on each event. Pure.
 */
import {
  CONTEXT_FIELDS,
  IDENTITY_FIELDS,
  JSON_STRING_FIELDS,
  TRAIT_ONLY_FIELDS,
  type CatalogEntry,
} from '../../shared/catalog';
import { PRODUCT } from '../../shared/product';
import { FIELD_SPECS, type FieldType } from '../../shared/catalog-fields';
import { hasType, isObject, typeErrorDetail, type JsonObject } from './decode';
import { OPEN_ARRAY, OPEN_OBJECT } from './json-bytes';
import type { FieldHasher } from './field-hash';
import { ShapeCache } from './shapes';
import { REDACTED } from './types';

/** `context.library` of every call, so that Segment's debugger shows where an event came from. */
// Not frozen: JSON.stringify is faster on an ordinary object, and every call shares this one.
export const LIBRARY: Readonly<{ name: string; version: string }> = {
  name: PRODUCT.name,
  version: PRODUCT.version,
};

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

export const P_NONE = 0;
export const P_REDACT = 1;
export const P_HASH = 2;
export type Policy = typeof P_NONE | typeof P_REDACT | typeof P_HASH;

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
export class Scratch {
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

function applyPolicy(policy: Policy, field: string, v: unknown, hash: FieldHasher): unknown {
  return policy === P_REDACT ? REDACTED : hash(field, v);
}

/** A field that shares its name with a nested container but is not one: its own type is checked (kept out of `collect`). */
function wrongContainerType(rule: Rule, v: unknown, st: Scratch): boolean {
  if (hasTypeOf(rule.type!, v)) return false;
  st.error ??= typeErrorDetail(rule.field, rule.type!, v);
  return true;
}

function parseJsonString(s: string): unknown {
  // Only objects and arrays replace the string; anything else (or text that does not parse) stays as written.
  const c = s.trimStart().charCodeAt(0);
  if (c !== OPEN_OBJECT && c !== OPEN_ARRAY) return s;
  try {
    const v: unknown = JSON.parse(s);
    return typeof v === 'object' && v !== null ? v : s;
  } catch {
    return s;
  }
}

/** The compiled rules of one selected type for one connector. */
export class TypePlan {
  private readonly rules = new Map<string, Rule>();
  /** Trait name → candidate slots, in the catalogue's order of preference. */
  private readonly traitNames: ReadonlyArray<readonly [trait: string, slots: number[]]>;
  private readonly traitCount: number;
  private readonly fixed: ReadonlyArray<readonly [string, string]>;
  private readonly shapes = new ShapeCache();
  /** The property holding the event's own name (CatalogEntry.eventNameField), when the connector does not rename it. */
  private readonly nameProp: string | undefined;
  /** The rule of each field position of the last event (a cache in front of `rules`). */
  private readonly seq: Array<Rule | undefined> = [];

  constructor(
    readonly entry: CatalogEntry,
    readonly segmentEvent: string,
    private readonly policyOf: (field: string) => Policy,
    private readonly hash: FieldHasher,
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
    const nameField = segmentEvent === entry.segmentEvent ? entry.eventNameField : undefined;
    this.nameProp = nameField === undefined ? undefined : (entry.renames?.[nameField] ?? nameField);
    const fields = new Set([...specs.keys(), ...Object.keys(GENERAL_TYPES), ...traitSlot.keys()]);
    for (const field of fields) this.rules.set(field, this.compile(field, specs.get(field)?.type, traitSlot));
    for (const container of ['user', 'properties']) {
      // A type may also have a field of that name (a custom event's `properties` JSON string): its type is checked when
      // the value is not the nested shape's object.
      const own = this.rules.get(container) ?? this.compile(container, undefined, traitSlot);
      this.rules.set(container, { ...own, dest: D_CONTAINER, check: C_NONE });
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
            ? applyPolicy(policy, key, v, this.hash)
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
          if (v !== '') st.userId = rule.policy === P_HASH ? this.hash(key, v) : (v as string);
          continue;
        case D_ANONYMOUS_ID:
          if (v !== '') st.anonymousId = rule.policy === P_HASH ? this.hash(key, v) : (v as string);
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
          if (rule.type !== undefined && wrongContainerType(rule, v, st)) continue;
          break;
      }
      if (rule.policy !== P_NONE) v = applyPolicy(rule.policy, key, v, this.hash);
      else if (rule.json && typeof v === 'string') v = parseJsonString(v);
      if (rule.prop !== undefined) {
        PROP_KEYS[st.n] = rule.prop;
        PROP_VALUES[st.n++] = v;
      }
      if (rule.ctx >= 0) (st.ctx ??= new Array(CONTEXT_SLOTS.length))[rule.ctx] = v;
      if (rule.trait >= 0) (st.traits ??= new Array(this.traitCount))[rule.trait] = v;
    }
  }

  /**
   * The call's Segment event: the plan's, or the name the event carries (a type with an `eventNameField`, unless the
   * connector renames it), read from the properties just collected (call after `properties`).
   */
  eventName(st: Scratch): string {
    const prop = this.nameProp;
    if (prop === undefined) return this.segmentEvent;
    for (let i = 0; i < st.n; i++) {
      const v = PROP_VALUES[i];
      if (PROP_KEYS[i] === prop && typeof v === 'string' && v !== '') return v;
    }
    return this.segmentEvent;
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
