/**
 * The connector and environment schema: ONE typed, validated definition read by the infrastructure (CDKTF stacks), the
 * runtime (the Cloud Function's configuration) and the operator commands.
 *
 * Field-level rules live in the zod schemas below, and what each field must be, in the product's words, in
 * CONNECTOR_TEXTS / ENVIRONMENT_TEXTS (every message is said from those, never the schema library's). Rules that span
 * fields or connectors (event names that must exist, renames of unselected types, workspace overlaps, unique names) are
 * checked in `validateEnvironments`. Each field is parsed on its own and every rule runs over the fields it needs that
 * parsed, so one run reports every problem of every connector, each naming the environment, the connector, the field,
 * the allowed values or the closest match, and what to do.
 */
import { z } from 'zod';
import {
  CATALOG,
  canonicalType,
  DEFAULT_CATALOG,
  isSelector,
  resolveSelection,
  SELECTORS,
  suggestTypes,
  typesOfSelector,
} from './catalog';
import { CURRENTS_FIELDS } from './catalog-fields';
import { doorLocationClashes, doorNameClashes } from './door';
import { deploymentFindings, LOCATION_FIELDS, LOCATION_TEXTS, residencyFindings } from './deployment';
import { EnvironmentSchema, ENVIRONMENT_TEXTS } from './environment';
import { parseDuration } from './duration';
import { MAX_CONNECTOR_NAME_LENGTH, nameLimitViolations, TIGHTEST_NAME_LIMIT } from './names';
import { CONNECTOR_FIELD_DEFAULTS as DEFAULTS } from './defaults';
import { fieldLabel, type FieldText, type FieldTexts, type Finding, parseFields } from './schema-messages';
import { didYouMean, suggest } from './suggest';

export { REGIONS, type SegmentRegion } from './regions';
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
export type SegmentCredential = z.infer<typeof CredentialSchema>;

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

export { EnvironmentSchema, ENVIRONMENT_TEXTS } from './environment';

export type EnvironmentDefinition = Omit<z.input<typeof EnvironmentSchema>, 'connectors'> & {
  connectors: ConnectorDefinition[];
};
export type Environment = Omit<z.output<typeof EnvironmentSchema>, 'connectors'> & { connectors: Connector[] };

/** Typing helper for definition files. */
export const defineEnvironment = (e: EnvironmentDefinition): EnvironmentDefinition => e;

export interface ValidationError {
  readonly environment?: string;
  /** The connector's name, or `#N` (its position) when it has no name. */
  readonly connector?: string;
  /** The field the problem is about, as `segment.region` or `events[2]`. */
  readonly field?: string;
  /** A whole sentence naming the field: what is wrong, the allowed values or the closest match, and what to do. */
  readonly message: string;
}

/** A connector or environment as messages name it: `'email-eu'`, or `#2` (its position) when it has no name. */
const quoted = (label: string): string => (label.startsWith('#') ? label : `'${label}'`);

/** `connector 'a' of environment 'dev': maxInstances must be a whole number from 1 to 1000 (you wrote 0); …` */
export function formatValidationError(e: ValidationError): string {
  const env = e.environment === undefined ? '' : `environment ${quoted(e.environment)}`;
  const where = e.connector === undefined ? env : `connector ${quoted(e.connector)}${env ? ` of ${env}` : ''}`;
  return where ? `${where}: ${e.message}` : e.message;
}

export class ConnectorValidationError extends Error {
  constructor(readonly errors: readonly ValidationError[]) {
    super(
      `${errors.length} problem${errors.length === 1 ? '' : 's'} in the connector definitions:\n` +
        errors.map((e) => `  - ${formatValidationError(e)}`).join('\n'),
    );
    this.name = 'ConnectorValidationError';
  }
}

/** The first `max` names, then how many more. */
function listed(names: readonly string[], max: number): string {
  return names.length > max ? `${names.slice(0, max).join(', ')} and ${names.length - max} more` : names.join(', ');
}

/** One event type or group name of `events`, said when unknown, with the closest types and groups. */
function unknownSelection(name: string, suggestions: readonly string[]): string {
  const closest = didYouMean(suggestions, (s) =>
    isSelector(s) ? ` (the ${typesOfSelector(s).length} ${s} types)` : '',
  );
  return (
    `events: '${name}' is neither an exportable event type nor a group; ` +
    (closest ? `${closest} ` : '') +
    `Fix or remove it (groups: ${SELECTORS.join(', ')}; docs/events.md lists the ${CATALOG.length} types)`
  );
}

const objectOr = (v: unknown): Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
const stringsOf = (v: unknown): string[] =>
  Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];

/**
 * What the connector rules read of a definition as written, whatever else is wrong with it (the strings of a list that
 * also holds a number, the keys of a map with an empty value), so that a broken field hides none of the rules.
 */
interface RuleView {
  readonly name?: string;
  /** The `events` as written (undefined when it is not a list). */
  readonly events?: string[];
  readonly renamed: string[];
  readonly redact: string[];
  readonly hash: string[];
  readonly credentialKind?: unknown;
  readonly sourceId?: unknown;
}

function ruleView(raw: Record<string, unknown>): RuleView {
  const fields = objectOr(raw.fields);
  const segment = objectOr(raw.segment);
  return {
    ...(typeof raw.name === 'string' ? { name: raw.name } : {}),
    ...(Array.isArray(raw.events) ? { events: stringsOf(raw.events) } : {}),
    renamed: Object.keys(objectOr(raw.eventNames)),
    redact: stringsOf(fields.redact),
    hash: stringsOf(fields.hash),
    credentialKind: objectOr(segment.credential).kind,
    sourceId: segment.sourceId,
  };
}

/** One connector's own rules beyond its fields' forms (see RuleView). */
function connectorRules(v: RuleView): Finding[] {
  const out: Finding[] = [];
  if (v.name !== undefined && nameLimitViolations(v.name).length) {
    const limit = TIGHTEST_NAME_LIMIT;
    out.push({
      path: ['name'],
      message:
        `name is ${v.name.length} characters long; a connector name may have at most ${MAX_CONNECTOR_NAME_LENGTH}, ` +
        `so that every resource named after it fits GCP's limits (the ${limit.what} ${limit.template} may have at most ${limit.max}): shorten it`,
    });
  }
  const selection = v.events ? resolveSelection(v.events) : undefined;
  for (const u of selection?.unknown ?? []) {
    out.push({ path: ['events', v.events!.indexOf(u.name)], message: unknownSelection(u.name, u.suggestions) });
  }
  for (const r of selection?.refused ?? []) {
    out.push({
      path: ['events', v.events!.indexOf(r.name)],
      message: `events: '${r.name}' is never exported: ${r.reason}; remove it`,
    });
  }
  const selected = new Set(selection?.types);
  for (const key of v.renamed) {
    const t = canonicalType(key);
    if (!t) {
      const closest = didYouMean(suggestTypes(key));
      out.push({
        path: ['eventNames', key],
        message: `eventNames renames '${key}', which is not an exportable event type; ${closest ? `${closest} Fix` : `docs/events.md lists the ${CATALOG.length} types: fix`} the type or remove the rename`,
      });
    } else if (selection && !selected.has(t)) {
      out.push({
        path: ['eventNames', key],
        message: `eventNames renames '${key}', which this connector does not select; add it to events or remove the rename`,
      });
    }
  }
  for (const kind of ['redact', 'hash'] as const) {
    v[kind].forEach((f, i) => {
      const path = ['fields', kind, i];
      if (!KNOWN_FIELD_NAMES.has(f)) {
        const closest = didYouMean(suggest(f, KNOWN_FIELD_NAMES, 1));
        out.push({
          path,
          message: `fields.${kind}: '${f}' is not a Currents field of any exportable type; ${closest ? `${closest} Fix` : "docs/events.md lists each type's fields: fix"} or remove it`,
        });
      } else if (f === 'id' || f === 'time' || f === 'time_ms') {
        out.push({
          path,
          message: `fields.${kind}: '${f}' cannot be ${kind === 'redact' ? 'redacted' : 'hashed'}: it becomes the Segment messageId or timestamp, which deduplication and ordering need; remove it`,
        });
      } else if (kind === 'redact' && (f === 'user_id' || f === 'external_user_id')) {
        out.push({
          path,
          message: `fields.redact: '${f}' cannot be redacted: it becomes the Segment user id, and redacting it would merge every user into one; list it under fields.hash instead`,
        });
      }
    });
  }
  const both = v.redact.filter((f) => v.hash.includes(f));
  if (both.length) {
    out.push({
      path: ['fields'],
      message: `fields: ${both.map((f) => `'${f}'`).join(', ')} listed in both redact and hash; keep it in one of them`,
    });
  }
  if (v.sourceId !== undefined && v.credentialKind === 'oauth') {
    out.push({
      path: ['segment', 'sourceId'],
      message:
        "segment.sourceId is for write-key connectors (the source check); an OAuth credential's failures are seen at Segment's token server: remove it",
    });
  }
  return out;
}

/** The canonical event types a connector selects. */
export function selectedTypes(c: { readonly events: readonly string[] }): string[] {
  return resolveSelection(c.events).types;
}

/** The warning for a write-key connector without `segment.sourceId` (validate and plan-summary print it). */
export const NO_SOURCE_CHECK_WARNING =
  "write key without a source check (segment.sourceId): a revoked write key would be invisible: Segment answers 200 and discards the events; set segment.sourceId and the environment's Public API token";

/** The warning for a connector that opts in to a type not exported by default (validate and plan-summary print it). */
export const optInWarning = (type: string, reason: string): string =>
  `events: ${type} is exported because this connector names it, though it is not exported by default: ${reason}. Keep it only if these events are not in Segment already`;

/**
 * Warnings (not errors) about a valid connector: a write-key connector that nothing can see failing, and each opt-in
 * type it exports.
 */
export function connectorWarnings(c: Connector): Omit<ValidationError, 'environment'>[] {
  const out: Omit<ValidationError, 'environment'>[] = [];
  if (c.segment.credential.kind === 'writeKey' && c.segment.sourceId === undefined) {
    out.push({ connector: c.name, field: 'segment.sourceId', message: NO_SOURCE_CHECK_WARNING });
  }
  for (const o of resolveSelection(c.events).optedIn) {
    out.push({ connector: c.name, field: 'events', message: optInWarning(o.type, o.reason) });
  }
  return out;
}

const toError = (f: Finding, where: { environment?: string; connector?: string }): ValidationError => ({
  ...where,
  ...(f.path.length ? { field: fieldLabel(f.path) } : {}),
  message: f.message,
});

/** One connector's fields and own rules: the fields that parsed, what the rules read, and every problem. */
function checkConnector(input: unknown): { parts: Partial<Connector>; view: RuleView; findings: Finding[] } {
  const { data, findings } = parseFields(ConnectorSchema, input, CONNECTOR_TEXTS);
  const view = ruleView(objectOr(input));
  if (findings.length && !findings[0]!.path.length) return { parts: {}, view, findings };
  return { parts: data, view, findings: [...findings, ...connectorRules(view)] };
}

/** Parses and checks one connector on its own (no cross-connector rules). */
export function parseConnector(
  input: unknown,
  where: { environment?: string } = {},
): { connector?: Connector; errors: ValidationError[] } {
  const label = (input as { name?: unknown } | null)?.name;
  const base = { environment: where.environment, connector: typeof label === 'string' ? label : undefined };
  const { parts, findings } = checkConnector(input);
  return findings.length
    ? { errors: findings.map((f) => toError(f, base)) }
    : { connector: parts as Connector, errors: [] };
}

/**
 * Validates a set of environments and reports every problem of every connector at once: each field of each connector
 * is checked on its own, and the rules across connectors run over the connectors whose fields they need parsed (unique
 * names, no two connectors of one Braze workspace selecting the same types, no two environments in one project with a
 * connector of the same name), so a broken field hides nothing else.
 */
export function validateEnvironments(inputs: readonly unknown[]): {
  environments: Environment[];
  errors: ValidationError[];
} {
  const errors: ValidationError[] = [];
  const environments: Environment[] = [];
  const envNames = new Set<string>();
  const namesByProject = new Map<string, Map<string, string>>();
  inputs.forEach((input, envIndex) => {
    const name = (input as { name?: unknown } | null)?.name;
    const envLabel = typeof name === 'string' ? name : `#${envIndex}`;
    const env = parseFields(EnvironmentSchema, input, ENVIRONMENT_TEXTS);
    const envFindings = [...env.findings, ...deploymentFindings(env.data)];
    errors.push(...envFindings.map((f) => toError(f, { environment: envLabel })));
    if (envNames.has(envLabel)) {
      errors.push({
        environment: envLabel,
        field: 'name',
        message: `name '${envLabel}' is used by two environments; rename one`,
      });
    }
    envNames.add(envLabel);
    const checked = (env.data.connectors ?? []).map((raw, i) => {
      const n = (raw as { name?: unknown } | null)?.name;
      const label = typeof n === 'string' ? n : `#${i}`;
      const checkedAlone = checkConnector(raw);
      const { parts, view } = checkedAlone;
      const findings = [...checkedAlone.findings, ...residencyFindings(parts, env.data)];
      errors.push(...findings.map((f) => toError(f, { environment: envLabel, connector: label })));
      return { label, index: i, parts, events: view.events, ok: findings.length === 0 };
    });
    const where = (c: (typeof checked)[number]) => ({ environment: envLabel, connector: c.label });
    const seen = new Map<string, number>();
    for (const c of checked) {
      if (c.label.startsWith('#')) continue;
      const first = seen.get(c.label);
      if (first === undefined) seen.set(c.label, c.index);
      else {
        errors.push({
          ...where(c),
          field: 'name',
          message: `name '${c.label}' is used by connectors #${first} and #${c.index}; names must be unique within an environment: rename one`,
        });
      }
    }
    // Braze sends an event of a workspace to only one of the connectors of the same kind that select its type.
    const exporting = checked.filter((c) => c.parts.workspace !== undefined && c.events !== undefined);
    exporting.forEach((ca, a) => {
      for (const cb of exporting.slice(a + 1)) {
        if (ca.parts.workspace !== cb.parts.workspace || ca.label === cb.label) continue;
        const tb = new Set(selectedTypes({ events: cb.events! }));
        const overlap = selectedTypes({ events: ca.events! }).filter((t) => tb.has(t));
        if (!overlap.length) continue;
        errors.push({
          ...where(cb),
          field: 'events',
          message:
            `events overlap connector ${quoted(ca.label)} of the same Braze workspace '${cb.parts.workspace}' on ${overlap.length} event type(s): ` +
            `${listed(overlap, 5)}. Braze sends each event of a workspace to only one of its Segment connectors, so one ` +
            'of the two would silently miss these events: remove them from one of the connectors',
        });
      }
    });
    const named = checked.flatMap((c) =>
      c.parts.name !== undefined && c.parts.workspace !== undefined
        ? [{ name: c.parts.name, workspace: c.parts.workspace }]
        : [],
    );
    errors.push(...doorNameClashes(named).map((e) => ({ environment: envLabel, ...e })));
    const placed = checked.flatMap((c) => (c.ok ? [c.parts as Connector] : []));
    errors.push(...doorLocationClashes(placed, env.data).map((e) => ({ environment: envLabel, ...e })));
    if (env.data.project !== undefined) {
      const project = env.data.project;
      const byName = namesByProject.get(project) ?? new Map<string, string>();
      for (const c of checked) {
        if (c.parts.name === undefined) continue;
        const other = byName.get(c.parts.name);
        if (other !== undefined && other !== envLabel) {
          errors.push({
            ...where(c),
            field: 'name',
            message: `name '${c.parts.name}' is also a connector of environment '${other}' in the same project '${project}': their cloud resources would have the same names; rename one`,
          });
        }
        byName.set(c.parts.name, envLabel);
      }
      namesByProject.set(project, byName);
    }
    if (!envFindings.length) {
      const connectors = checked.filter((c) => c.ok).map((c) => c.parts as Connector);
      environments.push({ ...(env.data as z.output<typeof EnvironmentSchema>), connectors });
    }
  });
  return { environments, errors };
}

/** Validates and returns the environments, or throws a ConnectorValidationError listing every problem. */
export function loadEnvironments(inputs: readonly unknown[]): Environment[] {
  const { environments, errors } = validateEnvironments(inputs);
  if (errors.length) throw new ConnectorValidationError(errors);
  return environments;
}
