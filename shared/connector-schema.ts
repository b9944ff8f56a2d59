/**
 * The connector's fields: the zod schema every definition is parsed with (ranges, forms, defaults from
 * shared/defaults.ts), and what each field must be in the product's words (CONNECTOR_TEXTS: every message about a field
 * is said from these, never the schema library's). Rules that span fields or connectors are in shared/connector-rules.ts
 * and shared/connector.ts.
 */
import { z } from 'zod';
import { CATALOG, DEFAULT_CATALOG } from './catalog';
import { CURRENTS_FIELDS } from './catalog-fields';
import { LOCATION_FIELDS, LOCATION_TEXTS } from './deployment';
import { parseDuration } from './duration';
import { MAX_CONNECTOR_NAME_LENGTH } from './names';
import { CONNECTOR_FIELD_DEFAULTS as DEFAULTS } from './defaults';
import type { FieldText, FieldTexts } from './schema-messages';
import { REGIONS, regionChoice } from './regions';

const HOUR = 3_600_000;
export const GRACE_PERIOD_MIN_MS = HOUR;
export const GRACE_PERIOD_MAX_MS = 7 * 24 * HOUR;

/** Inclusive ranges of the numeric fields (the schema checks them; the messages quote them). */
export const NUMBER_RANGES = {
  deadLetterMaxAttempts: [5, 100],
  maxInstances: [1, 1000],
  concurrency: [1, 80],
  'backfill.maxInstances': [1, 100],
  'backfill.importers': [1, 100],
} as const;

/** Inclusive ranges of the duration fields, in milliseconds, with how the messages write them. */
export const DURATION_RANGES = {
  credentialGracePeriod: { min: GRACE_PERIOD_MIN_MS, max: GRACE_PERIOD_MAX_MS, text: 'from 1h to 7d, such as 48h' },
  retention: { min: 600_000, max: 31 * 24 * HOUR, text: 'from 10m to 31d, such as 7d' },
} as const;

const nonEmpty = () => z.string().trim().min(1);
const wholeNumber = ([min, max]: readonly [number, number]) => z.number().int().min(min).max(max);
const duration = ({ min, max }: { min: number; max: number }) =>
  z.string().refine((v) => {
    const ms = parseDuration(v);
    return ms !== undefined && ms >= min && ms <= max;
  });

/** Every Currents field name the catalogue knows (for `fields.redact` / `fields.hash`). */
export const KNOWN_FIELD_NAMES: ReadonlySet<string> = new Set(
  Object.values(CURRENTS_FIELDS).flatMap((list) => list.split(',').map((f) => f.trim().split(':')[0]!)),
);

export const CREDENTIAL_KINDS = ['writeKey', 'oauth'] as const;

/** `fields.hashAlgorithm`: plain SHA-256 (the default) or HMAC-SHA256 keyed with the connector's hash-key secret. */
export const HASH_ALGORITHMS = ['sha256', 'hmac-sha256'] as const;
export type HashAlgorithm = (typeof HASH_ALGORITHMS)[number];
/** The fewest characters the hash key of hmac-sha256 may have (a shorter key would be guessable). */
export const MIN_HASH_KEY_LENGTH = 32;

export const CredentialSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('writeKey') }),
  z.strictObject({ kind: z.literal('oauth'), appId: nonEmpty(), keyId: nonEmpty() }),
]);

/** A connector name's form (its length is checked against the resource names derived from it). */
const CONNECTOR_NAME = /^[a-z]([a-z0-9-]*[a-z0-9])?$/;

export const ConnectorSchema = z.strictObject({
  name: z.string().regex(CONNECTOR_NAME),
  displayName: nonEmpty(),
  contactEmail: z.email(),
  workspace: nonEmpty(),
  segment: z.strictObject({
    region: z.enum(REGIONS),
    credential: CredentialSchema,
    /**
     * The Segment source the write key belongs to (its id, as in the source's settings or the Public API). With it, the
     * probe and each function instance at start ask Segment's Public API whether the source exists in this region, is
     * enabled and still has this write key: the only way to see a revoked or rotated write key, since the Tracking API
     * answers 200 and discards the events. Write-key connectors only; recommended for every one of them.
     */
    sourceId: z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,64}$/)
      .optional(),
  }),
  events: z.array(z.string()).min(1),
  includeAnonymousUsers: z.boolean().default(DEFAULTS.includeAnonymousUsers),
  /** Export event types the catalogue does not know yet (generic track calls, shared/catalog.ts `genericEventName`). */
  exportUnknownTypes: z.boolean().default(DEFAULTS.exportUnknownTypes),
  eventNames: z.record(z.string(), nonEmpty()).default({}),
  fields: z
    .strictObject({
      redact: z.array(z.string()).default([]),
      hash: z.array(z.string()).default([]),
      /** How `hash` hashes (docs/events.md "Hashing"): plain SHA-256, or HMAC-SHA256 with the connector's hash key. */
      hashAlgorithm: z.enum(HASH_ALGORITHMS).default(DEFAULTS.hashAlgorithm),
    })
    .default({ redact: [], hash: [], hashAlgorithm: DEFAULTS.hashAlgorithm }),
  credentialGracePeriod: duration(DURATION_RANGES.credentialGracePeriod).default(DEFAULTS.credentialGracePeriod),
  deadLetterMaxAttempts: wholeNumber(NUMBER_RANGES.deadLetterMaxAttempts).default(DEFAULTS.deadLetterMaxAttempts),
  maxInstances: wholeNumber(NUMBER_RANGES.maxInstances).default(DEFAULTS.maxInstances),
  /**
   * Pushes one function instance handles at once (its request concurrency; above 1 the instance gets 1 vCPU). Each
   * push waits on Segment most of its time, so concurrent pushes overlap their round trips: see shared/capacity.ts.
   */
  concurrency: wholeNumber(NUMBER_RANGES.concurrency).default(DEFAULTS.concurrency),
  retention: duration(DURATION_RANGES.retention).default(DEFAULTS.retention),
  /**
   * Braze's storage export (Avro files in Cloud Storage) as a second source: the bucket Braze writes to and the prefix
   * it was given (objects are `<prefix>/dataexport.…/event_type=…/date=…/…avro`). With it, new files under the prefix
   * are imported live, and `currents import` replays any period. Optional.
   */
  storage: z
    .strictObject({
      bucket: z.string().regex(/^[a-z0-9][a-z0-9_.-]{1,220}[a-z0-9]$/),
      prefix: z
        .string()
        .max(512)
        .regex(/^([^/\s]([^\s]*[^/\s])?)?$/)
        .default(''),
    })
    .optional(),
  /**
   * A backfill (`currents import --remote`) travels its own path, so that live events keep their pace: the files go to
   * the backfill importer (`importers` instances, one file each at once), their events to the backfill topic and the
   * connector's backfill function (`maxInstances` instances, the connector's `concurrency` each): see
   * docs/storage-import.md. The defaults keep a backfill well under Segment's ~1,000 requests/s per workspace.
   */
  backfill: z
    .strictObject({
      maxInstances: wholeNumber(NUMBER_RANGES['backfill.maxInstances']).default(DEFAULTS.backfill.maxInstances),
      importers: wholeNumber(NUMBER_RANGES['backfill.importers']).default(DEFAULTS.backfill.importers),
    })
    .default(DEFAULTS.backfill),
  /** Where the connector runs (default: the environment's region), and whether an EU connector may run outside the EU. */
  ...LOCATION_FIELDS,
});

const wholeNumberText = (field: keyof typeof NUMBER_RANGES, hint: string): FieldText => ({
  must: `a whole number from ${NUMBER_RANGES[field][0]} to ${NUMBER_RANGES[field][1]}`,
  hint,
});
const durationText = (field: keyof typeof DURATION_RANGES, hint: string): FieldText => ({
  must: `a duration ${DURATION_RANGES[field].text}: a number followed by m, h or d`,
  hint,
});
const fieldList = (what: string): FieldText => ({
  must: 'a list of Currents field names',
  hint: `the fields to ${what}; docs/events.md lists each type's fields`,
});

/**
 * What each connector field must be, in the product's words: every problem the schema finds in a definition is said from
 * these (shared/schema-messages.ts). A test holds every field of the schema to having one.
 */
export const CONNECTOR_TEXTS: FieldTexts = {
  '': { must: 'a connector definition: an object { name, displayName, contactEmail, workspace, segment, events, … }' },
  name: {
    must: "lowercase letters, digits and hyphens, starting with a letter and not ending with a hyphen, such as 'email-eu'",
    hint: `at most ${MAX_CONNECTOR_NAME_LENGTH} characters: every cloud resource of the connector is named after it`,
  },
  displayName: { must: 'the integration name shown to people: free text, not empty' },
  contactEmail: {
    must: 'an email address such as team@example.com',
    hint: 'it hears about credential failures, expiry and dead letters',
  },
  workspace: { must: 'the id of the Braze workspace (app group) whose events this connector exports, not empty' },
  segment: { must: "an object { region, credential, sourceId }: where this connector's events go in Segment" },
  'segment.region': {
    must: regionChoice(),
    values: REGIONS,
    hint: 'the region of the Segment workspace: a write key sent to the wrong region is silently lost',
  },
  'segment.credential': {
    must: "{ kind: 'writeKey' } or { kind: 'oauth', appId, keyId }",
    hint: "the secret value itself never goes in code: it goes in the connector's Secret Manager secret",
    quiet: true,
  },
  'segment.credential.kind': { must: "'writeKey' or 'oauth'", values: CREDENTIAL_KINDS, quiet: true },
  'segment.credential.appId': { must: 'the Segment OAuth app id, not empty', quiet: true },
  'segment.credential.keyId': { must: "the id of the OAuth app's public key, not empty", quiet: true },
  'segment.sourceId': {
    must: "a Segment source id as shown in the source's settings: up to 64 letters, digits, '_' or '-'",
  },
  events: {
    must: "a list of at least one event type or group, such as ['email'] or ['users.messages.email.Open']",
    hint: `docs/events.md lists the ${CATALOG.length} exportable types (${DEFAULT_CATALOG.length} by default) and the groups`,
  },
  'events[]': { must: "an event type or group name, such as 'email'" },
  includeAnonymousUsers: { must: 'true or false', hint: 'whether events of users without an external id are exported' },
  exportUnknownTypes: {
    must: 'true or false',
    hint: 'whether event types the catalogue does not know yet are exported as generic track calls',
  },
  eventNames: {
    must: "an object mapping an event type to its Segment event name, such as { 'users.messages.email.Open': 'Email Opened' }",
  },
  'eventNames.*': { must: 'a Segment event name, not empty' },
  fields: {
    must: "an object { redact: [...], hash: [...], hashAlgorithm } of Currents field names and 'sha256' or 'hmac-sha256'",
  },
  'fields.redact': fieldList('remove from every event'),
  'fields.redact[]': { must: "a Currents field name, such as 'email_address'" },
  'fields.hash': fieldList('replace by their hash (fields.hashAlgorithm)'),
  'fields.hash[]': { must: "a Currents field name, such as 'email_address'" },
  'fields.hashAlgorithm': {
    must: "'sha256' or 'hmac-sha256'",
    values: HASH_ALGORITHMS,
    hint: "hmac-sha256 keys the hash with the connector's hash-key secret in Secret Manager",
  },
  credentialGracePeriod: durationText(
    'credentialGracePeriod',
    'how long events are held when the credential fails before they are dropped (counted and reported)',
  ),
  deadLetterMaxAttempts: wholeNumberText(
    'deadLetterMaxAttempts',
    "deliveries of a message before it is dead-lettered (Pub/Sub's limits)",
  ),
  maxInstances: wholeNumberText('maxInstances', 'the most function instances the connector runs at once'),
  concurrency: wholeNumberText('concurrency', 'pushes one function instance handles at once'),
  retention: durationText('retention', 'how long Pub/Sub keeps messages not yet delivered'),
  storage: { must: "an object { bucket, prefix }: the Cloud Storage bucket Braze's storage export writes to" },
  'storage.bucket': {
    must: "a Cloud Storage bucket name without gs://: 3 to 222 lowercase letters, digits, '-', '_' and '.'",
  },
  'storage.prefix': {
    must: "an object-name prefix of at most 512 characters, without spaces and without a leading or trailing '/', or '' for none",
  },
  backfill: { must: 'an object { maxInstances, importers }: how wide a backfill of the storage export runs' },
  'backfill.maxInstances': wholeNumberText(
    'backfill.maxInstances',
    "instances of the backfill function delivering backfilled events (Segment's ~1,000 requests/s per workspace)",
  ),
  'backfill.importers': wholeNumberText('backfill.importers', 'importer instances reading backfilled files at once'),
  ...LOCATION_TEXTS,
};

/** What an author writes (defaults may be left out). */
export type ConnectorDefinition = z.input<typeof ConnectorSchema>;
/** A validated connector with defaults applied. */
export type Connector = z.output<typeof ConnectorSchema>;
