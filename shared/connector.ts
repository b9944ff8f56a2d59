/**
 * The connector and environment schema: ONE typed, validated definition read by the infrastructure (CDKTF stacks), the
 * runtime (the Cloud Function's configuration) and the operator commands.
 *
 * Field-level rules live in the zod schemas below; rules that span fields or connectors (event names that must exist,
 * renames of unselected types, workspace overlaps, unique names) are checked in `validateEnvironments`, which reports
 * every problem at once, each naming the environment, the connector, the field and what to do.
 */
import { z } from 'zod';
import { CATALOG_BY_TYPE, canonicalType, resolveSelection, suggestNames } from './catalog';
import { CURRENTS_FIELDS } from './catalog-fields';
import { DURATION_PATTERN, parseDuration } from './duration';
import { MAX_CONNECTOR_NAME_LENGTH, nameLimitViolations } from './names';
import { DEFAULT_GRACE_PERIOD } from './policy';

export const REGIONS = ['us', 'eu'] as const;
export type SegmentRegion = (typeof REGIONS)[number];

const HOUR = 3_600_000;
export const GRACE_PERIOD_MIN_MS = HOUR;
export const GRACE_PERIOD_MAX_MS = 7 * 24 * HOUR;

export const DEFAULTS = {
  includeAnonymousUsers: false,
  credentialGracePeriod: DEFAULT_GRACE_PERIOD,
  deadLetterMaxAttempts: 10,
  maxInstances: 10,
  concurrency: 16,
  retention: '7d',
} as const;

const nonEmpty = (what: string) =>
  z
    .string({ error: `must be ${what}` })
    .trim()
    .min(1, { error: `must be ${what}` });

const durationString = z.string().regex(DURATION_PATTERN, { error: 'must be a duration such as 48h, 7d or 90m' });

/** Every Currents field name the catalogue knows (for `fields.redact` / `fields.hash`). */
export const KNOWN_FIELD_NAMES: ReadonlySet<string> = new Set(
  Object.values(CURRENTS_FIELDS).flatMap((list) => list.split(',').map((f) => f.trim().split(':')[0]!)),
);

export const CredentialSchema = z.discriminatedUnion(
  'kind',
  [
    z.strictObject({ kind: z.literal('writeKey') }),
    z.strictObject({
      kind: z.literal('oauth'),
      appId: nonEmpty('the Segment OAuth app id'),
      keyId: nonEmpty("the id of the OAuth app's public key"),
    }),
  ],
  { error: "must be { kind: 'writeKey' } or { kind: 'oauth', appId, keyId }" },
);
export type SegmentCredential = z.infer<typeof CredentialSchema>;

export const ConnectorSchema = z.strictObject({
  name: z.string({ error: 'must be a string' }).regex(/^[a-z]([a-z0-9-]*[a-z0-9])?$/, {
    error: 'must be lowercase letters, digits and hyphens, starting with a letter and not ending with a hyphen',
  }),
  displayName: nonEmpty('the integration name shown to people (free text)'),
  contactEmail: z.email({ error: 'must be a valid email address' }),
  workspace: nonEmpty('the Braze workspace (app group) id whose events this connector exports'),
  segment: z.strictObject({
    region: z.enum(REGIONS, { error: "must be 'us' or 'eu' (the region of the Segment workspace)" }),
    credential: CredentialSchema,
    /**
     * The Segment source the write key belongs to (its id, as in the source's settings or the Public API). With it, the
     * probe and each function instance at start ask Segment's Public API whether the source exists in this region, is
     * enabled and still has this write key: the only way to see a revoked or rotated write key, since the Tracking API
     * answers 200 and discards the events. Write-key connectors only; recommended for every one of them.
     */
    sourceId: z
      .string({ error: 'must be a string' })
      .regex(/^[A-Za-z0-9_-]{1,64}$/, {
        error: "must be a Segment source id (letters, digits, '_' or '-', as shown in the source's settings)",
      })
      .optional(),
  }),
  events: z.array(z.string(), { error: 'must be a list of event types or groups' }).min(1, {
    error: 'must select at least one event type or group',
  }),
  includeAnonymousUsers: z.boolean().default(DEFAULTS.includeAnonymousUsers),
  eventNames: z.record(z.string(), nonEmpty('a Segment event name')).default({}),
  fields: z
    .strictObject({
      redact: z.array(z.string()).default([]),
      hash: z.array(z.string()).default([]),
    })
    .default({ redact: [], hash: [] }),
  credentialGracePeriod: durationString.default(DEFAULTS.credentialGracePeriod),
  deadLetterMaxAttempts: z
    .number()
    .int()
    .min(5, { error: 'must be between 5 and 100 (Pub/Sub dead-letter policy)' })
    .max(100, { error: 'must be between 5 and 100 (Pub/Sub dead-letter policy)' })
    .default(DEFAULTS.deadLetterMaxAttempts),
  maxInstances: z.number().int().min(1).max(1000).default(DEFAULTS.maxInstances),
  /**
   * Pushes one function instance handles at once (its request concurrency; above 1 the instance gets 1 vCPU). Each
   * push waits on Segment most of its time, so concurrent pushes overlap their round trips: see shared/capacity.ts.
   */
  concurrency: z
    .number()
    .int()
    .min(1, { error: 'must be between 1 and 80 (pushes one function instance handles at once)' })
    .max(80, { error: 'must be between 1 and 80 (pushes one function instance handles at once)' })
    .default(DEFAULTS.concurrency),
  retention: durationString.default(DEFAULTS.retention),
  /**
   * Braze's storage export (Avro files in Cloud Storage) as a second source: the bucket Braze writes to and the prefix
   * it was given (objects are `<prefix>/dataexport.…/event_type=…/date=…/…avro`). With it, new files under the prefix
   * are imported live, and `currents import` replays any period. Optional.
   */
  storage: z
    .strictObject({
      bucket: z.string({ error: 'must be a string' }).regex(/^[a-z0-9][a-z0-9_.-]{1,220}[a-z0-9]$/, {
        error: "must be a Cloud Storage bucket name (lowercase letters, digits, '-', '_' and '.')",
      }),
      prefix: z
        .string({ error: 'must be a string' })
        .max(512, { error: 'must be at most 512 characters' })
        .regex(/^([^/\s]([^\s]*[^/\s])?)?$/, {
          error: "must be an object-name prefix without spaces and without a leading or trailing '/' ('' for none)",
        })
        .default(''),
    })
    .optional(),
});

/** What an author writes (defaults may be left out). */
export type ConnectorDefinition = z.input<typeof ConnectorSchema>;
/** A validated connector with defaults applied. */
export type Connector = z.output<typeof ConnectorSchema>;

export const BackendSchema = z.strictObject({
  bucket: nonEmpty('a GCS bucket name for the Terraform state'),
  prefix: z.string().optional(),
});

export const EnvironmentSchema = z.strictObject({
  name: z.string().regex(/^[a-z][a-z0-9-]{0,29}$/, { error: 'must be lowercase letters, digits and hyphens (≤ 30)' }),
  project: z.string().regex(/^[a-z][a-z0-9-]{4,28}[a-z0-9]$/, {
    error: 'must be a Google Cloud project id (6–30 lowercase letters, digits, hyphens)',
  }),
  region: z.string().regex(/^[a-z]+-[a-z]+\d+$/, { error: 'must be a Google Cloud region such as europe-west1' }),
  backend: BackendSchema.optional(),
  /**
   * Delete protection of the connectors' Firestore databases (state and parked events): on unless the environment turns
   * it off, whatever its name. When on, `terraform destroy` abandons the databases instead of deleting them.
   */
  deleteProtection: z.boolean({ error: 'must be true or false' }).default(true),
  connectors: z.array(z.unknown(), { error: 'must be a list of connectors' }),
});
export type EnvironmentDefinition = Omit<z.input<typeof EnvironmentSchema>, 'connectors'> & {
  connectors: ConnectorDefinition[];
};
export type Environment = Omit<z.output<typeof EnvironmentSchema>, 'connectors'> & { connectors: Connector[] };

/** Typing helper for definition files. */
export const defineEnvironment = (e: EnvironmentDefinition): EnvironmentDefinition => e;

export interface ValidationError {
  readonly environment?: string;
  readonly connector?: string;
  readonly field?: string;
  readonly message: string;
}

export function formatValidationError(e: ValidationError): string {
  const where = [
    e.environment !== undefined ? `environment '${e.environment}'` : undefined,
    e.connector !== undefined ? `connector '${e.connector}'` : undefined,
    e.field ? `field '${e.field}'` : undefined,
  ]
    .filter(Boolean)
    .join(', ');
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

/** What to do about a field, appended to zod's message. */
const FIELD_HINTS: Record<string, string> = {
  name: `keep it short (at most ${MAX_CONNECTOR_NAME_LENGTH} characters) so every derived resource name fits GCP's limits`,
  contactEmail: 'set the address that should hear about credential failures, expiry and dead letters',
  'segment.region':
    'set it to the region of the Segment workspace; a write key sent to the wrong region is silently lost',
  'segment.credential':
    'the secret value itself never goes in code: put it in the connector’s Secret Manager secret (see README)',
  credentialGracePeriod: 'write a duration between 1h and 7d, e.g. 48h',
};

function pathString(path: readonly PropertyKey[]): string {
  return path
    .map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? String(p) : `.${String(p)}`))
    .join('')
    .replace(/\.\[/g, '[');
}

function zodIssues(
  err: z.ZodError,
  base: { environment?: string; connector?: string },
  prefix = '',
): ValidationError[] {
  return err.issues.map((issue) => {
    let field = prefix + pathString(issue.path);
    let message = issue.message;
    if (issue.code === 'unrecognized_keys') {
      const keys = (issue as { keys: string[] }).keys;
      field = [field, keys.length === 1 ? keys[0] : ''].filter(Boolean).join('.');
      const secretish = keys.some((k) => /key|secret|token|password/i.test(k) && !/keyId/.test(k));
      message =
        `unknown field${keys.length > 1 ? 's' : ''} ${keys.map((k) => `'${k}'`).join(', ')}: remove ${keys.length > 1 ? 'them' : 'it'}` +
        (secretish ? ' (credential values never appear in code; they live in Secret Manager)' : '');
    } else if (issue.code === 'invalid_type' && /received undefined/.test(message)) {
      message = `is required (${message.replace(/^Invalid input: /, '')})`;
    }
    const hint = FIELD_HINTS[field.replace(/^connectors\[\d+\]\./, '')];
    return { ...base, field: field || undefined, message: hint ? `${message}; ${hint}` : message };
  });
}

/** Checks one connector's own rules beyond the field schemas. */
function connectorRules(c: Connector): Omit<ValidationError, 'environment' | 'connector'>[] {
  const out: Omit<ValidationError, 'environment' | 'connector'>[] = [];
  const tooLong = nameLimitViolations(c.name);
  if (tooLong.length) {
    out.push({
      field: 'name',
      message: `'${c.name}' is too long for GCP resource ids (${tooLong.join('; ')}); use at most ${MAX_CONNECTOR_NAME_LENGTH} characters`,
    });
  }
  const selection = resolveSelection(c.events);
  for (const u of selection.unknown) {
    out.push({
      field: 'events',
      message:
        `unknown event type or group '${u.name}'` +
        (u.suggestions.length ? `; did you mean ${u.suggestions.map((s) => `'${s}'`).join(' or ')}?` : '') +
        ' (see docs/events.md for the 55 exportable types and the groups)',
    });
  }
  const selected = new Set(selection.types);
  for (const key of Object.keys(c.eventNames)) {
    const t = canonicalType(key);
    if (!t) {
      const s = suggestNames(key).filter((n) => CATALOG_BY_TYPE.has(n));
      out.push({
        field: `eventNames.${key}`,
        message: `'${key}' is not an exportable event type${s.length ? `; did you mean '${s[0]}'?` : ''}`,
      });
    } else if (!selected.has(t)) {
      out.push({
        field: `eventNames.${key}`,
        message: `renames '${key}', which this connector does not select; add it to 'events' or remove the rename`,
      });
    }
  }
  for (const kind of ['redact', 'hash'] as const) {
    for (const f of c.fields[kind]) {
      if (!KNOWN_FIELD_NAMES.has(f)) {
        out.push({ field: `fields.${kind}`, message: `'${f}' is not a Currents field of any exportable type` });
      }
    }
  }
  for (const f of c.fields.redact) {
    if (f === 'user_id' || f === 'external_user_id') {
      out.push({
        field: 'fields.redact',
        message: `'${f}' cannot be redacted: it becomes the Segment user id, and redacting it would merge every user into one; list it under hash instead`,
      });
    }
  }
  for (const kind of ['redact', 'hash'] as const) {
    for (const f of c.fields[kind].filter((x) => x === 'id' || x === 'time' || x === 'time_ms')) {
      out.push({
        field: `fields.${kind}`,
        message: `'${f}' cannot be ${kind === 'redact' ? 'redacted' : 'hashed'}: it becomes the Segment messageId or timestamp, which deduplication and ordering need; remove it`,
      });
    }
  }
  const both = c.fields.redact.filter((f) => c.fields.hash.includes(f));
  if (both.length) {
    out.push({
      field: 'fields',
      message: `${both.map((f) => `'${f}'`).join(', ')} listed in both redact and hash; choose one`,
    });
  }
  if (c.segment.sourceId !== undefined && c.segment.credential.kind !== 'writeKey') {
    out.push({
      field: 'segment.sourceId',
      message:
        "the source check is for write-key connectors; an OAuth credential's failures are seen at Segment's token server: remove it",
    });
  }
  const grace = parseDuration(c.credentialGracePeriod);
  if (grace !== undefined && (grace < GRACE_PERIOD_MIN_MS || grace > GRACE_PERIOD_MAX_MS)) {
    out.push({
      field: 'credentialGracePeriod',
      message: `'${c.credentialGracePeriod}' is outside the allowed range; write a duration between 1h and 7d`,
    });
  }
  const retention = parseDuration(c.retention);
  if (retention !== undefined && (retention < 600_000 || retention > 31 * 24 * HOUR)) {
    out.push({ field: 'retention', message: `'${c.retention}' must be between 10m and 31d (Pub/Sub retention)` });
  }
  return out;
}

/** The canonical event types a connector selects. */
export function selectedTypes(c: Pick<Connector, 'events'>): string[] {
  return resolveSelection(c.events).types;
}

/** The warning for a write-key connector without `segment.sourceId` (validate and plan-summary print it). */
export const NO_SOURCE_CHECK_WARNING =
  "write key without a source check (segment.sourceId): a revoked write key would be invisible: Segment answers 200 and discards the events; set segment.sourceId and the environment's Public API token";

/** Warnings (not errors) about a valid connector: today, a write-key connector that nothing can see failing. */
export function connectorWarnings(c: Connector): Omit<ValidationError, 'environment'>[] {
  return c.segment.credential.kind === 'writeKey' && c.segment.sourceId === undefined
    ? [{ connector: c.name, field: 'segment.sourceId', message: NO_SOURCE_CHECK_WARNING }]
    : [];
}

/** Parses and checks one connector on its own (no cross-connector rules). */
export function parseConnector(
  input: unknown,
  where: { environment?: string } = {},
): { connector?: Connector; errors: ValidationError[] } {
  const label = (input as { name?: unknown } | null)?.name;
  const base = { environment: where.environment, connector: typeof label === 'string' ? label : undefined };
  const parsed = ConnectorSchema.safeParse(input);
  if (!parsed.success) return { errors: zodIssues(parsed.error, base) };
  const rules = connectorRules(parsed.data).map((e) => ({ ...base, ...e }));
  return rules.length ? { errors: rules } : { connector: parsed.data, errors: [] };
}

/**
 * Validates a set of environments: each connector's fields and rules, unique connector names per environment, no two
 * connectors of one Braze workspace with overlapping events, and no two environments sharing a project with the same
 * connector names. Returns every problem found, not only the first.
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
    const envLabel =
      typeof (input as { name?: unknown } | null)?.name === 'string'
        ? (input as { name: string }).name
        : `#${envIndex}`;
    const env = EnvironmentSchema.safeParse(input);
    if (!env.success) {
      errors.push(
        ...zodIssues(env.error, { environment: envLabel }).filter((e) => !e.field?.startsWith('connectors[')),
      );
      if (!Array.isArray((input as { connectors?: unknown } | null)?.connectors)) return;
    }
    if (envNames.has(envLabel)) {
      errors.push({ environment: envLabel, field: 'name', message: 'two environments have this name; rename one' });
    }
    envNames.add(envLabel);
    const connectors: Connector[] = [];
    const rawConnectors = (input as { connectors: unknown[] }).connectors;
    const seen = new Map<string, number>();
    rawConnectors.forEach((raw, i) => {
      const { connector, errors: errs } = parseConnector(raw, { environment: envLabel });
      errors.push(
        ...errs.map((e) => (e.connector === undefined ? { ...e, connector: `#${i}`, field: e.field ?? undefined } : e)),
      );
      const name = (raw as { name?: unknown } | null)?.name;
      if (typeof name === 'string') {
        if (seen.has(name)) {
          errors.push({
            environment: envLabel,
            connector: name,
            field: 'name',
            message: `connectors #${seen.get(name)} and #${i} are both named '${name}'; names must be unique within an environment`,
          });
        } else seen.set(name, i);
      }
      if (connector) connectors.push(connector);
    });
    // Braze's rule: two connectors of one workspace with overlapping events cause deduplication and lost data.
    for (let a = 0; a < connectors.length; a++) {
      for (let b = a + 1; b < connectors.length; b++) {
        const ca = connectors[a]!;
        const cb = connectors[b]!;
        if (ca.workspace !== cb.workspace || ca.name === cb.name) continue;
        const tb = new Set(selectedTypes(cb));
        const overlap = selectedTypes(ca).filter((t) => tb.has(t));
        if (overlap.length) {
          errors.push({
            environment: envLabel,
            connector: cb.name,
            field: 'events',
            message:
              `overlaps connector '${ca.name}' in Braze workspace '${ca.workspace}' on ${overlap.length} event type(s): ` +
              `${overlap.join(', ')}; two connectors of one workspace must not export the same types (Segment would receive ` +
              'each event twice and Braze deduplicates connectors): remove the overlap from one of them',
          });
        }
      }
    }
    if (env.success) {
      const byName = namesByProject.get(env.data.project) ?? new Map<string, string>();
      for (const c of connectors) {
        const other = byName.get(c.name);
        if (other !== undefined && other !== envLabel) {
          errors.push({
            environment: envLabel,
            connector: c.name,
            field: 'name',
            message: `environment '${other}' has a connector of this name in the same project '${env.data.project}'; resource names would collide: rename one`,
          });
        }
        byName.set(c.name, envLabel);
      }
      namesByProject.set(env.data.project, byName);
      environments.push({ ...env.data, connectors });
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
