/**
 * The event catalogue: the ONE place that names the 55 Currents event types this product exports to Segment, with their
 * Segment event names, group and channel, and the per-type translation rules. Translation (runtime), connector validation
 * (shared schema, infrastructure) and the generated docs (docs/events.md) all read it; nothing else repeats a type name.
 */
import { suggest } from './suggest';

export const GROUPS = ['behaviors', 'campaigns', 'canvas', 'messages'] as const;
export type Group = (typeof GROUPS)[number];

export const CHANNELS = [
  'contentcard',
  'email',
  'inappmessage',
  'newsfeedcard',
  'pushnotification',
  'sms',
  'webhook',
  'whatsapp',
] as const;
export type Channel = (typeof CHANNELS)[number];

/** A group or channel name usable in a connector's `events` selection. */
export type Selector = Group | Channel;
export const SELECTORS: readonly Selector[] = [...GROUPS, ...CHANNELS];

export interface CatalogEntry {
  /** Canonical Currents event type (dotted form). */
  readonly type: string;
  /** Segment `track` event name. */
  readonly segmentEvent: string;
  readonly group: Group;
  /** Message channel, for `users.messages.*` types. */
  readonly channel?: Channel;
  /** Constant properties added to every call of this type (e.g. the Canvas exit reason). */
  readonly fixedProperties?: Readonly<Record<string, string>>;
  /** Renames of Currents field names in `properties` (Currents name → Segment property name). */
  readonly renames?: Readonly<Record<string, string>>;
  /** Which Currents fields become `context.traits` (Currents field → trait name); the first present field wins per trait. */
  readonly traits?: ReadonlyArray<readonly [field: string, trait: string]>;
}

const EMAIL_TRAITS = [['email_address', 'email']] as const;
const PHONE_TRAITS = [
  ['to_phone_number', 'phone'],
  ['phone_number', 'phone'],
] as const;
const CARD_RENAMES = { content_card_id: 'card_id' } as const;

function messages(
  channel: Channel,
  entries: ReadonlyArray<readonly [action: string, segmentEvent: string]>,
  extra: Partial<Pick<CatalogEntry, 'renames' | 'traits'>> & {
    perType?: Record<string, Partial<Pick<CatalogEntry, 'renames' | 'traits'>>>;
  } = {},
): CatalogEntry[] {
  return entries.map(([action, segmentEvent]) => ({
    type: `users.messages.${channel}.${action}`,
    segmentEvent,
    group: 'messages' as const,
    channel,
    ...(extra.renames ? { renames: extra.renames } : {}),
    ...(extra.traits ? { traits: extra.traits } : {}),
    ...(extra.perType?.[action] ?? {}),
  }));
}

export const CATALOG: readonly CatalogEntry[] = Object.freeze([
  { type: 'users.behaviors.Uninstall', segmentEvent: 'Application Uninstalled', group: 'behaviors' },
  { type: 'users.behaviors.app.NewsFeedImpression', segmentEvent: 'News Feed Viewed', group: 'behaviors' },
  {
    type: 'users.behaviors.subscription.GlobalStateChange',
    segmentEvent: 'Global Subscription State Changed',
    group: 'behaviors',
    traits: [...EMAIL_TRAITS],
  },
  {
    type: 'users.behaviors.subscriptiongroup.StateChange',
    segmentEvent: 'Subscription Group State Changed',
    group: 'behaviors',
    traits: [...EMAIL_TRAITS, ['phone_number', 'phone']],
  },
  { type: 'users.campaigns.Abort', segmentEvent: 'Campaign Aborted', group: 'campaigns' },
  { type: 'users.campaigns.Conversion', segmentEvent: 'Campaign Converted', group: 'campaigns' },
  { type: 'users.campaigns.EnrollInControl', segmentEvent: 'Campaign Control Group Entered', group: 'campaigns' },
  { type: 'users.canvas.Abort', segmentEvent: 'Canvas Aborted', group: 'canvas' },
  { type: 'users.canvas.Conversion', segmentEvent: 'Canvas Converted', group: 'canvas' },
  { type: 'users.canvas.Entry', segmentEvent: 'Canvas Entered', group: 'canvas' },
  {
    type: 'users.canvas.exit.MatchedAudience',
    segmentEvent: 'Canvas Exited',
    group: 'canvas',
    fixedProperties: { exit_reason: 'matched_audience' },
  },
  {
    type: 'users.canvas.exit.PerformedEvent',
    segmentEvent: 'Canvas Exited',
    group: 'canvas',
    fixedProperties: { exit_reason: 'performed_event' },
  },
  {
    type: 'users.canvas.experimentstep.Conversion',
    segmentEvent: 'Canvas Experiment Step Converted',
    group: 'canvas',
  },
  {
    type: 'users.canvas.experimentstep.SplitEntry',
    segmentEvent: 'Canvas Experiment Step Split Entered',
    group: 'canvas',
  },
  ...messages(
    'contentcard',
    [
      ['Abort', 'Content Card Aborted'],
      ['Click', 'Content Card Clicked'],
      ['Dismiss', 'Content Card Dismissed'],
      ['Impression', 'Content Card Viewed'],
      ['Send', 'Content Card Sent'],
    ],
    { renames: CARD_RENAMES },
  ),
  ...messages(
    'email',
    [
      ['Abort', 'Email Aborted'],
      ['Bounce', 'Email Bounced'],
      ['Click', 'Email Link Clicked'],
      ['Delivery', 'Email Delivered'],
      ['MarkAsSpam', 'Email Marked as Spam'],
      ['Open', 'Email Opened'],
      ['Send', 'Email Sent'],
      ['SoftBounce', 'Email Soft Bounced'],
      ['Unsubscribe', 'Email Unsubscribed'],
    ],
    { traits: [...EMAIL_TRAITS], perType: { Click: { renames: { url: 'link_url' } } } },
  ),
  ...messages('inappmessage', [
    ['Abort', 'In-App Message Aborted'],
    ['Click', 'In-App Message Clicked'],
    ['Impression', 'In-App Message Viewed'],
  ]),
  ...messages(
    'newsfeedcard',
    [
      ['Abort', 'News Feed Card Aborted'],
      ['Click', 'News Feed Card Clicked'],
      ['Impression', 'News Feed Card Viewed'],
    ],
    { renames: CARD_RENAMES },
  ),
  ...messages('pushnotification', [
    ['Abort', 'Push Notification Aborted'],
    ['Bounce', 'Push Notification Bounced'],
    ['IosForeground', 'iOS Foreground Push Opened'],
    ['Open', 'Push Notification Tapped'],
    ['Send', 'Push Notification Sent'],
  ]),
  ...messages(
    'sms',
    [
      ['Abort', 'SMS Aborted'],
      ['CarrierSend', 'SMS Sent to Carrier'],
      ['Delivery', 'SMS Delivered'],
      ['DeliveryFailure', 'SMS Delivery Failed'],
      ['InboundReceive', 'SMS Inbound Received'],
      ['Rejection', 'SMS Rejected'],
      ['Send', 'SMS Sent'],
      ['ShortLinkClick', 'SMS Short Link Clicked'],
    ],
    { traits: [...PHONE_TRAITS] },
  ),
  ...messages('webhook', [
    ['Abort', 'Webhook Aborted'],
    ['Send', 'Webhook Sent'],
  ]),
  ...messages(
    'whatsapp',
    [
      ['Abort', 'WhatsApp Aborted'],
      ['Delivery', 'WhatsApp Delivered'],
      ['Failure', 'WhatsApp Delivery Failed'],
      ['InboundReceive', 'WhatsApp Inbound Received'],
      ['Read', 'WhatsApp Read'],
      ['Send', 'WhatsApp Sent'],
    ],
    { traits: [...PHONE_TRAITS] },
  ),
]);

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
export const JSON_STRING_FIELDS: readonly string[] = Object.freeze(['message_extras', 'flow_response_json']);

/** Canonical type → entry. */
export const CATALOG_BY_TYPE: ReadonlyMap<string, CatalogEntry> = new Map(CATALOG.map((e) => [e.type, e]));

/** Legacy spellings of the campaign and Canvas Abort types, accepted in input and in selections. */
export const TYPE_ALIASES: Readonly<Record<string, string>> = Object.freeze({
  users_campaigns_abort: 'users.campaigns.Abort',
  users_canvas_abort: 'users.canvas.Abort',
});

/** The canonical dotted name of an exportable type, or undefined for anything else. */
export function canonicalType(name: string): string | undefined {
  if (CATALOG_BY_TYPE.has(name)) return name;
  return TYPE_ALIASES[name];
}

/** Types selected by a group or channel name. */
export function typesOfSelector(selector: Selector): string[] {
  return CATALOG.filter((e) => e.group === selector || e.channel === selector).map((e) => e.type);
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

export interface SelectionResult {
  /** Canonical types selected, in catalogue order. */
  readonly types: string[];
  /** Names that are neither a type, an alias, a group nor a channel, with close matches. */
  readonly unknown: ReadonlyArray<{ name: string; suggestions: string[] }>;
}

/** Resolves a connector's `events` selection (types, legacy aliases, groups, channels) to canonical types. */
export function resolveSelection(names: readonly string[]): SelectionResult {
  const chosen = new Set<string>();
  const unknown: { name: string; suggestions: string[] }[] = [];
  for (const name of names) {
    const t = canonicalType(name);
    if (t) chosen.add(t);
    else if (isSelector(name)) for (const s of typesOfSelector(name)) chosen.add(s);
    else unknown.push({ name, suggestions: suggestNames(name) });
  }
  return { types: CATALOG.filter((e) => chosen.has(e.type)).map((e) => e.type), unknown };
}
