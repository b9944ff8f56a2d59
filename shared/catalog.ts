/**
 * The event catalogue: the ONE place that names the Currents event types this product knows, with their Segment event
 * names, group and channel, whether they are exported by default, on request (opt-in) or never, and the per-type
 * translation rules. Translation (runtime), connector validation (shared schema, infrastructure) and the generated docs
 * (docs/events.md) all read it; nothing else repeats a type name. The entries are in ./catalog-entries.ts.
 */
import {
  CATALOG_ENTRIES,
  CHANNELS,
  GROUPS,
  REFUSED_TYPES,
  type CatalogEntry,
  type Channel,
  type Group,
} from './catalog-entries';
import { suggest } from './suggest';

export {
  CATALOG_RELEASE,
  CHANNELS,
  GROUPS,
  NAMING_RULE,
  REFUSED_TYPES,
  type CatalogEntry,
  type Channel,
  type Group,
} from './catalog-entries';

/** A group or channel name usable in a connector's `events` selection. */
export type Selector = Group | Channel;
export const SELECTORS: readonly Selector[] = [...GROUPS, ...CHANNELS];

/** Every type a connector can export: by default, or on request (`optIn`). */
export const CATALOG: readonly CatalogEntry[] = Object.freeze(CATALOG_ENTRIES);

/** The types exported by default (what groups, channels and the CLI's default select). */
export const DEFAULT_CATALOG: readonly CatalogEntry[] = Object.freeze(CATALOG.filter((e) => e.optIn === undefined));

/** The opt-in types: exported only when a connector names them in `events`. */
export const OPT_IN_CATALOG: readonly CatalogEntry[] = Object.freeze(CATALOG.filter((e) => e.optIn !== undefined));

/**
 * General translation rules, the same for every type (the per-type rules are in the entries above).
 *
 * Identity fields become the call's top-level keys and are never repeated in `properties`.
 */
export const IDENTITY_FIELDS: Readonly<Record<string, 'messageId' | 'userId' | 'anonymousId' | 'timestamp' | 'event'>> =
  Object.freeze({
    id: 'messageId',
    external_user_id: 'userId',
    user_id: 'anonymousId',
    time: 'timestamp',
    time_ms: 'timestamp',
    event_type: 'event',
  });

/** Fields that go to `context` (path inside it), and whether they also stay in `properties`. */
export const CONTEXT_FIELDS: Readonly<
  Record<string, { readonly path: readonly string[]; readonly alsoProperty: boolean }>
> = Object.freeze({
  device_id: { path: ['device', 'id'], alsoProperty: false },
  device_model: { path: ['device', 'model'], alsoProperty: false },
  // Braze keeps `platform` in the properties of push events too.
  platform: { path: ['device', 'type'], alsoProperty: true },
  os_version: { path: ['os', 'version'], alsoProperty: false },
  timezone: { path: ['timezone'], alsoProperty: false },
  user_agent: { path: ['userAgent'], alsoProperty: false },
});

/** Fields that only go to `context.traits` (where the type's `traits` rule puts them), never to `properties`. */
export const TRAIT_ONLY_FIELDS: readonly string[] = Object.freeze(['email_address']);

/**
 * Fields of exportable types that Braze documents as a JSON string: parsed into an object (or array) when they parse,
 * kept as the string otherwise. Only names that exist on exportable types belong here (a test checks it).
 */
export const JSON_STRING_FIELDS: readonly string[] = Object.freeze([
  'message_extras',
  'flow_response_json',
  'properties',
  'custom_attributes',
]);

/** Canonical type → entry. */
export const CATALOG_BY_TYPE: ReadonlyMap<string, CatalogEntry> = new Map(CATALOG.map((e) => [e.type, e]));

/** Legacy spellings of the campaign and Canvas Abort types, accepted in input and in selections. */
export const TYPE_ALIASES: Readonly<Record<string, string>> = Object.freeze({
  users_campaigns_abort: 'users.campaigns.Abort',
  users_canvas_abort: 'users.canvas.Abort',
});

/**
 * The value of `key` in a name table, own properties only: a name from the data (`constructor`, `__proto__`) is never
 * read from Object's prototype.
 */
const lookup = <V>(table: Readonly<Record<string, V>>, key: string): V | undefined =>
  Object.hasOwn(table, key) ? table[key] : undefined;

/** The canonical dotted name of an exportable type, or undefined for anything else. */
export function canonicalType(name: string): string | undefined {
  if (CATALOG_BY_TYPE.has(name)) return name;
  return lookup(TYPE_ALIASES, name);
}

/** Types selected by a group or channel name: the types it exports by default (opt-in types are named one by one). */
export function typesOfSelector(selector: Selector): string[] {
  return DEFAULT_CATALOG.filter((e) => e.group === selector || e.channel === selector).map((e) => e.type);
}

export function isSelector(name: string): name is Selector {
  return (SELECTORS as readonly string[]).includes(name);
}

/** Up to three known type, group or channel names close to `name` (shared/suggest.ts's rules), closest first. */
export function suggestNames(name: string): string[] {
  return suggest(name, [...SELECTORS, ...CATALOG.map((e) => e.type)]);
}

/** Up to three exportable types close to `name`, closest first (for a type that is not exportable). */
export function suggestTypes(name: string): string[] {
  return suggest(
    name,
    CATALOG.map((e) => e.type),
  );
}

/** Why a type is not exported, when it is not: opted out by default, never exported, or not known at all. */
export type Refusal =
  | { readonly kind: 'opt-in'; readonly reason: string }
  | { readonly kind: 'never'; readonly reason: string }
  | { readonly kind: 'unknown' };

/** Why a type that a connector does not export is not exported (undefined for a default-exportable type). */
export function refusalOf(name: string): Refusal | undefined {
  const t = canonicalType(name);
  const entry = t === undefined ? undefined : CATALOG_BY_TYPE.get(t);
  if (entry) return entry.optIn === undefined ? undefined : { kind: 'opt-in', reason: entry.optIn };
  const never = lookup(REFUSED_TYPES, name);
  return never === undefined ? { kind: 'unknown' } : { kind: 'never', reason: never };
}

/** The sentence that says why a type is not exported, and what a connector can do about it. */
export function refusalText(name: string, refusal: Refusal): string {
  switch (refusal.kind) {
    case 'opt-in':
      return `${name} is not exported by default: ${refusal.reason}; a connector that wants it names it in events`;
    case 'never':
      return `${name} is never exported: ${refusal.reason}`;
    case 'unknown':
      return `${name} is not a Currents type the catalogue knows (a type Braze added since?); a connector exports such types generically with exportUnknownTypes: true`;
  }
}

/** What a Currents event type looks like (dotted words, such as `users.messages.rcs.Send`): what may be exported generically. */
const CURRENTS_TYPE_NAME = /^[a-z][A-Za-z0-9]*(\.[A-Za-z][A-Za-z0-9]*){1,5}$/;

export function isCurrentsTypeName(name: string): boolean {
  return name.length <= 200 && CURRENTS_TYPE_NAME.test(name);
}

/**
 * The Segment event name of a type the catalogue does not know: its parts after `users.` and `messages.` / `behaviors.`,
 * camel case split into words, in Title Case (`users.messages.telegram.InboundReceive` → `Telegram Inbound Receive`).
 */
export function genericEventName(type: string): string {
  const parts = type.split('.');
  if (parts[0] === 'users') parts.shift();
  if (parts.length > 1 && (parts[0] === 'messages' || parts[0] === 'behaviors')) parts.shift();
  return parts
    .flatMap((p) => p.replace(/([a-z0-9])([A-Z])/g, '$1 $2').split(' '))
    .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
    .join(' ');
}

/** The catalogue entry a type the catalogue does not know is exported with (no field list: every field is a property). */
export function genericEntry(type: string): CatalogEntry {
  return { type, segmentEvent: genericEventName(type), group: 'messages', generic: true };
}

export interface SelectionResult {
  /** Canonical types selected, in catalogue order. */
  readonly types: string[];
  /** Names that are neither a type, an alias, a group nor a channel, with close matches. */
  readonly unknown: ReadonlyArray<{ name: string; suggestions: string[] }>;
  /** Known Currents types that are never exported, with the reason. */
  readonly refused: ReadonlyArray<{ name: string; reason: string }>;
  /** Opt-in types the selection names, with why they are not exported by default. */
  readonly optedIn: ReadonlyArray<{ type: string; reason: string }>;
}

/** Resolves a connector's `events` selection (types, legacy aliases, groups, channels) to canonical types. */
export function resolveSelection(names: readonly string[]): SelectionResult {
  const chosen = new Set<string>();
  const unknown: { name: string; suggestions: string[] }[] = [];
  const refused: { name: string; reason: string }[] = [];
  for (const name of names) {
    const t = canonicalType(name);
    if (t) chosen.add(t);
    else if (isSelector(name)) for (const s of typesOfSelector(name)) chosen.add(s);
    else {
      const reason = lookup(REFUSED_TYPES, name);
      if (reason !== undefined) refused.push({ name, reason });
      else unknown.push({ name, suggestions: suggestNames(name) });
    }
  }
  const entries = CATALOG.filter((e) => chosen.has(e.type));
  const optedIn = entries.filter((e) => e.optIn !== undefined).map((e) => ({ type: e.type, reason: e.optIn! }));
  return { types: entries.map((e) => e.type), unknown, refused, optedIn };
}
