/**
 * The catalogue's data: every Currents event type the product knows, as Braze's Currents v10 sends it. Each type is
 * one of:
 * - exportable (the default): a user's engagement with a message, a campaign or a Canvas, and the subscription and
 *   uninstall behaviours Braze alone sees; selected by name, group or channel;
 * - opt-in (`optIn` says why not by default): behaviour the app or Segment itself produced, which usually reached Braze
 *   from Segment or the SDK; a connector exports one only when it names the type in `events`;
 * - never exportable (REFUSED_TYPES, with the reason): events that are not about a user's engagement.
 * `retired` marks types Braze no longer sends (or no longer exports to Segment): still accepted, for old data and
 * backfills. `added` marks the types added after the first catalogue (plan-summary shows what a group gained).
 * shared/catalog.ts holds the rules that read these entries; shared/catalog-fields.ts the field list of each type.
 */

export const GROUPS = ['behaviors', 'campaigns', 'canvas', 'messages'] as const;
export type Group = (typeof GROUPS)[number];

export const CHANNELS = [
  'banner',
  'contentcard',
  'email',
  'featureflag',
  'inappmessage',
  'line',
  'liveactivity',
  'newsfeedcard',
  'pushnotification',
  'rcs',
  'sms',
  'webhook',
  'whatsapp',
] as const;
export type Channel = (typeof CHANNELS)[number];

/** The Currents release a type was added to the catalogue with (absent: the first catalogue). */
export const CATALOG_RELEASE = 'Currents v10';

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
  /** Why the type is not exported by default: set on opt-in types, which a connector must name in `events`. */
  readonly optIn?: string;
  /** Braze no longer sends this type (or no longer exports it to Segment); accepted for old data and backfills. */
  readonly retired?: string;
  /** The release the type was added with (absent: the first catalogue). */
  readonly added?: string;
  /** A field whose (non-empty string) value names the Segment event instead of `segmentEvent` (custom events). */
  readonly eventNameField?: string;
  /** A type the catalogue does not know, exported generically (`exportUnknownTypes`); never in CATALOG. */
  readonly generic?: true;
}

type Extra = Partial<Pick<CatalogEntry, 'renames' | 'traits' | 'retired' | 'added'>>;

const EMAIL_TRAITS = [['email_address', 'email']] as const;
const PHONE_TRAITS = [
  ['to_phone_number', 'phone'],
  ['phone_number', 'phone'],
] as const;
const CARD_RENAMES = { content_card_id: 'card_id' } as const;
const NEW = { added: CATALOG_RELEASE } as const;
const NEWS_FEED_RETIRED = 'Braze retired News Feed (replaced by Content Cards)';

function messages(
  channel: Channel,
  entries: ReadonlyArray<readonly [action: string, segmentEvent: string, perType?: Extra]>,
  extra: Extra = {},
): CatalogEntry[] {
  return entries.map(([action, segmentEvent, perType]) => ({
    type: `users.messages.${channel}.${action}`,
    segmentEvent,
    group: 'messages' as const,
    channel,
    ...extra,
    ...perType,
  }));
}

const ECHO =
  'it is behaviour your app or Segment produced: it usually reached Braze from Segment or the Braze SDK, so exporting ' +
  'it back to Segment makes duplicates, or a loop when Segment forwards it to Braze again';
const TOKENS =
  "it is the Braze SDK's bookkeeping of a device's push tokens, not a user's engagement, and Segment's own SDK " +
  'records the same device';
const PROFILE =
  'it is a profile attribute change, which usually reached Braze from Segment (identify calls): exporting it back ' +
  'makes duplicates or a loop, and a Segment track event is not where attributes belong';

/** The exportable types (default and opt-in), in docs order. */
export const CATALOG_ENTRIES: readonly CatalogEntry[] = [
  { type: 'users.behaviors.Uninstall', segmentEvent: 'Application Uninstalled', group: 'behaviors' },
  {
    type: 'users.behaviors.app.NewsFeedImpression',
    segmentEvent: 'News Feed Viewed',
    group: 'behaviors',
    retired: NEWS_FEED_RETIRED,
  },
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
  {
    type: 'users.behaviors.CustomEvent',
    segmentEvent: 'Custom Event',
    group: 'behaviors',
    optIn: ECHO,
    eventNameField: 'name',
  },
  { type: 'users.behaviors.Purchase', segmentEvent: 'Product Purchased', group: 'behaviors', optIn: ECHO },
  { type: 'users.behaviors.app.SessionStart', segmentEvent: 'Session Started', group: 'behaviors', optIn: ECHO },
  { type: 'users.behaviors.app.SessionEnd', segmentEvent: 'Session Ended', group: 'behaviors', optIn: ECHO },
  { type: 'users.behaviors.app.FirstSession', segmentEvent: 'First Session Started', group: 'behaviors', optIn: ECHO },
  { type: 'users.behaviors.Location', segmentEvent: 'Location Recorded', group: 'behaviors', optIn: ECHO },
  {
    type: 'users.behaviors.InstallAttribution',
    segmentEvent: 'Install Attributed',
    group: 'behaviors',
    optIn: `${ECHO} (or from your attribution provider)`,
  },
  {
    type: 'users.behaviors.UpgradedApp',
    segmentEvent: 'Application Updated',
    group: 'behaviors',
    optIn: ECHO,
    retired: 'Braze no longer sends it (removed from Currents in 2021)',
  },
  {
    type: 'users.behaviors.pushnotification.TokenStateChange',
    segmentEvent: 'Push Token State Changed',
    group: 'behaviors',
    optIn: TOKENS,
  },
  {
    type: 'users.behaviors.liveactivity.PushToStartTokenChange',
    segmentEvent: 'Live Activity Push-to-Start Token Changed',
    group: 'behaviors',
    optIn: TOKENS,
  },
  {
    type: 'users.behaviors.liveactivity.UpdateTokenChange',
    segmentEvent: 'Live Activity Update Token Changed',
    group: 'behaviors',
    optIn: TOKENS,
  },
  {
    type: 'users.profile.Update',
    segmentEvent: 'Profile Updated',
    group: 'behaviors',
    optIn: PROFILE,
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
  { type: 'users.canvas.costep.Send', segmentEvent: 'Canvas Content Optimizer Step Sent', group: 'canvas', ...NEW },
  { type: 'users.canvasstep.Progression', segmentEvent: 'Canvas Step Progressed', group: 'canvas', ...NEW },
  ...messages(
    'banner',
    [
      ['Abort', 'Banner Aborted'],
      ['Click', 'Banner Clicked'],
      ['Dismiss', 'Banner Dismissed'],
      ['Impression', 'Banner Viewed'],
    ],
    NEW,
  ),
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
      ['Click', 'Email Link Clicked', { renames: { url: 'link_url' } }],
      ['Deferral', 'Email Deferred', NEW],
      ['Delivery', 'Email Delivered'],
      ['MarkAsSpam', 'Email Marked as Spam'],
      ['Open', 'Email Opened'],
      ['Retry', 'Email Retried', NEW],
      ['Send', 'Email Sent'],
      ['SoftBounce', 'Email Soft Bounced'],
      ['Unsubscribe', 'Email Unsubscribed'],
    ],
    { traits: [...EMAIL_TRAITS] },
  ),
  ...messages('featureflag', [['Impression', 'Feature Flag Viewed']], NEW),
  ...messages('inappmessage', [
    ['Abort', 'In-App Message Aborted'],
    ['Click', 'In-App Message Clicked'],
    ['Impression', 'In-App Message Viewed'],
  ]),
  ...messages(
    'line',
    [
      ['Abort', 'LINE Message Aborted'],
      ['Click', 'LINE Link Clicked'],
      ['InboundReceive', 'LINE Message Received'],
      ['Retry', 'LINE Message Retried'],
      ['Send', 'LINE Message Sent'],
    ],
    NEW,
  ),
  ...messages(
    'liveactivity',
    [
      ['Outcome', 'Live Activity Outcome Recorded'],
      ['Send', 'Live Activity Sent'],
    ],
    NEW,
  ),
  ...messages(
    'newsfeedcard',
    [
      ['Abort', 'News Feed Card Aborted'],
      ['Click', 'News Feed Card Clicked'],
      ['Impression', 'News Feed Card Viewed'],
    ],
    { renames: CARD_RENAMES, retired: NEWS_FEED_RETIRED },
  ),
  ...messages('pushnotification', [
    ['Abort', 'Push Notification Aborted'],
    ['Bounce', 'Push Notification Bounced'],
    ['IosForeground', 'iOS Foreground Push Opened'],
    ['Open', 'Push Notification Tapped'],
    ['Retry', 'Push Notification Retried', NEW],
    ['Send', 'Push Notification Sent'],
  ]),
  ...messages(
    'rcs',
    [
      ['Abort', 'RCS Message Aborted'],
      ['Click', 'RCS Message Clicked'],
      ['Delivery', 'RCS Message Delivered'],
      ['InboundReceive', 'RCS Message Received'],
      ['Read', 'RCS Message Read'],
      ['Rejection', 'RCS Message Rejected'],
      ['Send', 'RCS Message Sent'],
    ],
    { traits: [...PHONE_TRAITS], ...NEW },
  ),
  ...messages(
    'sms',
    [
      ['Abort', 'SMS Aborted'],
      ['CarrierSend', 'SMS Sent to Carrier', { retired: "Braze removed it from its own Segment export's events" }],
      ['Delivery', 'SMS Delivered'],
      ['DeliveryFailure', 'SMS Delivery Failed'],
      ['InboundReceive', 'SMS Inbound Received'],
      ['Rejection', 'SMS Rejected'],
      ['Retry', 'SMS Retried', NEW],
      ['Send', 'SMS Sent'],
      ['ShortLinkClick', 'SMS Short Link Clicked'],
    ],
    { traits: [...PHONE_TRAITS] },
  ),
  ...messages('webhook', [
    ['Abort', 'Webhook Aborted'],
    ['Failure', 'Webhook Failed', NEW],
    ['Retry', 'Webhook Retried', NEW],
    ['Send', 'Webhook Sent'],
  ]),
  ...messages(
    'whatsapp',
    [
      ['Abort', 'WhatsApp Aborted'],
      ['Click', 'WhatsApp Link Clicked', NEW],
      ['Delivery', 'WhatsApp Delivered'],
      ['Failure', 'WhatsApp Delivery Failed'],
      ['InboundReceive', 'WhatsApp Inbound Received'],
      ['Read', 'WhatsApp Read'],
      ['Retry', 'WhatsApp Retried', NEW],
      ['Send', 'WhatsApp Sent'],
    ],
    { traits: [...PHONE_TRAITS] },
  ),
];

const BOOKKEEPING = "it is Braze's bookkeeping of a user profile, not something the user did";
const AGENTS = "it is about a run of Braze's AI agents (model, tokens, tools), not about a user";

/** Currents types that are never exported, with the reason (every refusal message says it). */
export const REFUSED_TYPES: Readonly<Record<string, string>> = Object.freeze({
  'agentconsole.AgentExecuted': AGENTS,
  'agentconsole.ToolInvocation': AGENTS,
  'users.UserDeleteRequest': `${BOOKKEEPING} (a deletion request, which Segment handles with its own user deletion)`,
  'users.UserOrphan': `${BOOKKEEPING} (a profile merged into another)`,
  'users.RandomBucketNumberUpdate': `${BOOKKEEPING} (the random bucket number used for audience sampling)`,
});

/** How the Segment event names are made (docs/events.md prints it). */
export const NAMING_RULE =
  'Segment event names follow Segment\'s naming spec: Object + past-tense Action, in Title Case. The object is the channel\'s message ("Email", "SMS", "WhatsApp", "Push Notification", "RCS Message", "LINE Message", "Banner", "Content Card", "Feature Flag", "Live Activity", "Webhook", "Canvas", "Campaign"); the action is the last part of the type in the past tense (Send → Sent, Delivery → Delivered, Impression → Viewed, Click → Clicked, or Link Clicked for a click on a link, Abort → Aborted, Retry → Retried, Rejection → Rejected, Deferral → Deferred, Failure → Failed, InboundReceive → Received). The names Braze uses in its own Segment material are kept (Push Notification Tapped, iOS Foreground Push Opened, Email Link Clicked, Application Uninstalled…).';
