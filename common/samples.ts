/**
 * Realistic, deterministic sample Currents events for any exportable type, built from the type's field list
 * (shared/catalog-fields.ts). Fixture code, not runtime code: used by the tests, the benchmarks, the local run and
 * `currents send-test`; the deployed functions never load it.
 * The same (type, overrides, seed) always gives the same event; no I/O, no clock, no Math.random.
 */
import { canonicalType, DEFAULT_CATALOG } from '../shared/catalog';
import { FIELD_SPECS, type FieldSpec } from '../shared/catalog-fields';

export type FlatEvent = Record<string, unknown> & { event_type: string; id: string; time: number };

/** The HTTP-connector shape of one event. */
export interface NestedEvent {
  event_type: string;
  id: string;
  time: number;
  user: Record<string, unknown>;
  properties: Record<string, unknown>;
  [extra: string]: unknown;
}

/** mulberry32: a small, fast, seedable PRNG. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function hashString(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h >>> 0;
}

type Rand = () => number;
const pick = <T>(r: Rand, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
const hex = (r: Rand, n: number): string => {
  let s = '';
  for (let i = 0; i < n; i++) s += Math.floor(r() * 16).toString(16);
  return s;
};
const uuid = (r: Rand): string => {
  const h = hex(r, 32);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20)}`;
};
const digits = (r: Rand, n: number): string => {
  let s = '';
  for (let i = 0; i < n; i++) s += Math.floor(r() * 10);
  return s;
};

const FIRST = ['ada', 'grace', 'alan', 'linus', 'margaret', 'ken', 'barbara', 'dennis', 'frances', 'edsger'];
const LAST = ['lovelace', 'hopper', 'turing', 'torvalds', 'hamilton', 'thompson', 'liskov', 'ritchie', 'allen'];
const CAMPAIGNS = ['Spring Sale 2024', 'Cart Reminder', 'Weekly Digest', 'Win-back 30d', 'Feature Launch: Dark Mode'];
const CANVASES = ['Onboarding Journey', 'Trial to Paid', 'Re-engagement', 'Loyalty Tier Upgrade'];
const VARIATIONS = ['Variant A', 'Variant B', 'Control', 'Variant C (emoji subject)'];
const STEPS = ['Welcome Email', 'Day 3 Push', 'Wait 2 days', 'Decision Split', 'Final Reminder SMS'];
const TIMEZONES = ['America/New_York', 'Europe/Berlin', 'Asia/Tokyo', 'America/Los_Angeles', 'Europe/London'];
const PLATFORMS = [
  { platform: 'ios', os: 'iOS 17.4.1', model: 'iPhone15,2' },
  { platform: 'android', os: 'Android 14', model: 'Pixel 8' },
  { platform: 'web', os: 'Mac OS X 14.4', model: 'Macintosh' },
] as const;
const USER_AGENTS = [
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148',
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36',
];
const BASE_TIME = 1_717_000_000; // 2024-05-29

function phone(r: Rand): string {
  return `+1555${digits(r, 7)}`;
}

/** A plausible value for one string field, chosen by its name. */
function stringValue(name: string, r: Rand, ctx: { first: string; last: string; device: (typeof PLATFORMS)[number] }) {
  switch (name) {
    case 'id':
      return uuid(r);
    case 'user_id':
      return hex(r, 24);
    case 'external_user_id':
      return `user-${digits(r, 6)}`;
    case 'email_address':
      return `${ctx.first}.${ctx.last}@example.com`;
    case 'timezone':
      return pick(r, TIMEZONES);
    case 'platform':
      return ctx.device.platform;
    case 'os_version':
      return ctx.device.os;
    case 'device_model':
      return ctx.device.model;
    case 'user_agent':
      return pick(r, USER_AGENTS);
    case 'campaign_name':
      return pick(r, CAMPAIGNS);
    case 'canvas_name':
      return pick(r, CANVASES);
    case 'message_variation_name':
    case 'canvas_variation_name':
    case 'experiment_split_name':
      return pick(r, VARIATIONS);
    case 'canvas_step_name':
      return pick(r, STEPS);
    case 'message_extras':
      return JSON.stringify({ coupon_code: `SPRING${digits(r, 2)}`, tier: pick(r, ['gold', 'silver']), items: 3 });
    case 'properties':
      return JSON.stringify({ plan: pick(r, ['pro', 'team']), seats: 1 + Math.floor(r() * 9) });
    case 'custom_attributes':
      return JSON.stringify({ loyalty_tier: pick(r, ['gold', 'silver']), newsletter: true });
    case 'name':
      return pick(r, ['Trial Started', 'Report Exported', 'Invite Sent']);
    case 'flow_response_json':
      return JSON.stringify({ screen_0_rating: pick(r, ['5', '4']), flow_token: hex(r, 12) });
    case 'url':
      return `https://www.example.com/offers/${pick(r, ['spring', 'summer'])}?utm_source=braze&utm_medium=${pick(r, ['email', 'sms'])}`;
    case 'short_url':
      return `https://brz.ai/${hex(r, 8)}`;
    case 'abort_type':
      return pick(r, ['liquid_abort_message', 'rate_limit', 'user_not_subscribed']);
    case 'abort_log':
      return 'aborted by Liquid: {% abort_message("no recommendations") %}';
    case 'subscription_status':
      return pick(r, ['Subscribed', 'Unsubscribed']);
    case 'state_change_source':
      return pick(r, ['REST API', 'SDK', 'Dashboard', 'Preference Center']);
    case 'channel':
      return pick(r, ['email', 'sms', 'whatsapp']);
    case 'bounce_reason':
      return '550 5.1.1 The email account that you tried to reach does not exist';
    case 'ip_pool':
      return 'marketing-pool';
    case 'sending_ip':
      return `203.0.113.${Math.floor(r() * 254) + 1}`;
    case 'esp':
      return pick(r, ['sendgrid', 'sparkpost']);
    case 'from_domain':
      return 'mail.example.com';
    case 'mailbox_provider':
      return pick(r, ['Gmail', 'Outlook', 'Yahoo']);
    case 'machine_open':
      return pick(r, ['true', 'false']);
    case 'device_class':
      return pick(r, ['Mobile', 'Desktop']);
    case 'device_os':
      return pick(r, ['iOS', 'Windows', 'Android']);
    case 'browser':
      return pick(r, ['Chrome', 'Safari', 'Firefox']);
    case 'carrier':
      return pick(r, ['Verizon', 'T-Mobile', 'Vodafone']);
    case 'resolution':
      return pick(r, ['1170x2532', '1080x2400']);
    case 'link_alias':
      return pick(r, ['hero_cta', 'footer_unsubscribe', 'product_1']);
    case 'button_action_type':
      return pick(r, ['URI', 'DEEP_LINK', 'CLOSE']);
    case 'button_string':
      return pick(r, ['Shop now', 'Remind me later']);
    case 'category':
      return pick(r, ['opt-out', 'help', 'opt-in']);
    case 'error':
      return 'Invalid destination number';
    case 'provider_error_code':
      return String(130000 + Math.floor(r() * 1000));
    case 'provider_error_title':
      return 'Message undeliverable';
    case 'message_body':
      return pick(r, ['STOP', 'Yes please!', 'What time do you open?']);
    case 'quick_reply_text':
      return pick(r, ['Yes', 'No', 'Later']);
    case 'action':
      return pick(r, ['received', 'click']);
    case 'template_name':
      return pick(r, ['order_update_v2', 'welcome_message']);
    case 'locale_key':
      return pick(r, ['en-US', 'de-DE', 'ja-JP']);
    case 'push_token':
      return hex(r, 64);
    case 'version':
      return `${1 + Math.floor(r() * 3)}.${Math.floor(r() * 10)}`;
    case 'in_reply_to':
    case 'message_id':
      return `wamid.${hex(r, 24)}`;
  }
  if (name.endsWith('phone_number')) return phone(r);
  if (name.endsWith('_id')) return hex(r, 24);
  return `${name.replace(/_/g, '-')}-${hex(r, 6)}`;
}

function value(spec: FieldSpec, r: Rand, ctx: Parameters<typeof stringValue>[2]): unknown {
  switch (spec.type) {
    case 'string':
      return stringValue(spec.name, r, ctx);
    case 'int':
    case 'long':
      return spec.name === 'time' ? BASE_TIME + Math.floor(r() * 30 * 86_400) : Math.floor(r() * 4);
    case 'float':
      // A multiple of 1/4: exact in 32 bits, so that an Avro float reads back the value written.
      return Math.round(r() * 4_000) / 4;
    case 'double':
      return Math.round(r() * 10_000) / 100;
    case 'boolean':
      return r() < 0.5;
    case 'array<string>':
      return spec.name === 'suspected_bot_click_reason' ? ['user_agent', 'ip_address'] : ['a', 'b'];
    case 'array<string?>':
      return [`https://cdn.example.com/media/${hex(r, 8)}.jpg`];
  }
}

/**
 * A realistic flat Currents event (the Avro-export shape, with `event_type`) of one exportable type, every field of its
 * schema filled. `overrides` replace fields; an override of `undefined` removes the field. Aliases such as
 * `users_campaigns_abort` are accepted (the event keeps the canonical type unless overridden).
 */
export function sampleEvent(type: string, overrides: Record<string, unknown> = {}, seed = 1): FlatEvent {
  const canonical = canonicalType(type);
  const specs = canonical ? FIELD_SPECS.get(canonical) : undefined;
  if (!canonical || !specs) throw new Error(`sampleEvent: '${type}' is not an exportable Currents event type`);
  const r = prng(hashString(canonical) ^ Math.imul(seed | 0, 0x9e3779b1));
  const ctx = { first: pick(r, FIRST), last: pick(r, LAST), device: pick(r, PLATFORMS) };
  const event: Record<string, unknown> = { event_type: canonical };
  for (const spec of specs.values()) event[spec.name] = value(spec, r, ctx);
  // time_ms, where a type has it, is the same instant as time (in milliseconds).
  if (typeof event.time_ms === 'number') event.time_ms = (event.time as number) * 1000 + (event.time_ms % 1000);
  for (const [k, v] of Object.entries(overrides)) {
    if (v === undefined) delete event[k];
    else event[k] = v;
  }
  return event as FlatEvent;
}

/** Fields the HTTP connector puts under `user`. */
export const USER_FIELDS = ['user_id', 'external_user_id', 'device_id', 'timezone'] as const;
const TOP_FIELDS = new Set(['event_type', 'id', 'time']);
const USER_FIELD_SET: ReadonlySet<string> = new Set(USER_FIELDS);

/** The HTTP-connector shape `{event_type, id, time, user: {...}, properties: {...}}` of a flat event. */
export function nestEvent(flat: Record<string, unknown>): NestedEvent {
  const out: Record<string, unknown> = {};
  const user: Record<string, unknown> = {};
  const properties: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(flat)) {
    if (TOP_FIELDS.has(k)) out[k] = v;
    else if (USER_FIELD_SET.has(k)) user[k] = v;
    else properties[k] = v;
  }
  return { ...out, user, properties } as NestedEvent;
}

export interface FeedOptions {
  /** Number of events. */
  count: number;
  seed?: number;
  /** Types to draw from (default: every type exported by default, in turn). */
  types?: readonly string[];
  /** `nested` (the HTTP connector's, default) or `flat` (the Avro export's). */
  shape?: 'nested' | 'flat';
}

/** A deterministic feed of events cycling through the given types. */
export function sampleFeed(options: FeedOptions): Array<FlatEvent | NestedEvent> {
  const types = options.types ?? DEFAULT_CATALOG.map((e) => e.type);
  const seed = options.seed ?? 1;
  const out: Array<FlatEvent | NestedEvent> = [];
  for (let i = 0; i < options.count; i++) {
    // A live feed: events a fraction of a second apart.
    const time = BASE_TIME + (seed % 997) * 3_600 + Math.floor(i / 4);
    const flat = sampleEvent(types[i % types.length]!, { time }, seed * 1_000_003 + i);
    // Unique within the feed by construction: the PRNG has 32 bits of state, so random ids alone collide (the
    // birthday bound, about one pair per 100,000 events), and Segment would drop the second event as a duplicate.
    flat.id = `${flat.id.slice(0, 24)}${i.toString(16).padStart(12, '0')}`;
    out.push(options.shape === 'flat' ? flat : nestEvent(flat));
  }
  return out;
}

/** The HTTP-connector envelope `{"events": [...]}` (a Currents message body; not a Pub/Sub push envelope). */
export function eventsEnvelope(events: readonly unknown[]): string {
  return JSON.stringify({ events });
}
