/**
 * Every default of a connector, in ONE module (in the manner of AWS Solutions Constructs' `core/lib/*-defaults.ts`):
 * the connector definition's field defaults (the schema in shared/connector.ts applies them), the timing policy's
 * (shared/policy.ts derives budgets from them), and the CurrentsConnector construct's props (infra/connector/). The
 * runtime, the local run and the infrastructure read them from here; nothing else writes a default down.
 */

/** Defaults of the connector definition's optional fields (`connectors/*.ts`). */
export const CONNECTOR_FIELD_DEFAULTS = {
  includeAnonymousUsers: false,
  /** Types the catalogue does not know are skipped (and counted) unless a connector asks for them. */
  exportUnknownTypes: false,
  /** `fields.hash` is plain SHA-256 unless a connector asks for HMAC-SHA256 with its key. */
  hashAlgorithm: 'sha256',
  /** The credential grace period when a connector does not set one. */
  credentialGracePeriod: '48h',
  deadLetterMaxAttempts: 10,
  maxInstances: 10,
  concurrency: 16,
  retention: '7d',
  /**
   * A backfill's width: 10 backfill-function instances deliver pushes of ≤ 500 events, one Segment request each, CPU-bound
   * near 12,500 events/s an instance: about 250 Segment requests/s, a quarter of Segment's recommended ~1,000 per
   * workspace (shared/backfill-capacity.ts, docs/sizing.md); 10 importers read 10 files at once.
   */
  backfill: { maxInstances: 10, importers: 10 },
} as const;

/** The function's request timeout when the construct is not given one. */
export const DEFAULT_FUNCTION_TIMEOUT_SECONDS = 60;
/** The receiver's request timeout when the construct is not given one. */
export const DEFAULT_RECEIVER_TIMEOUT_SECONDS = 60;
/** The push subscription's retry policy (Pub/Sub's exponential backoff between redeliveries), in seconds. */
export const DEFAULT_BACKOFF_SECONDS = { minimum: 10, maximum: 600 } as const;
/** Cloud Scheduler cron of the credential probe / drain job (every 3 minutes; the runtime adds jitter). */
export const DEFAULT_PROBE_SCHEDULE = '*/3 * * * *';

/** Defaults of the CurrentsConnector construct's props (infra/connector/props.ts documents each). */
export const CONNECTOR_DEFAULTS = {
  runtime: 'nodejs22',
  timeoutSeconds: DEFAULT_FUNCTION_TIMEOUT_SECONDS,
  memory: '512Mi',
  retryBackoff: { minimum: `${DEFAULT_BACKOFF_SECONDS.minimum}s`, maximum: `${DEFAULT_BACKOFF_SECONDS.maximum}s` },
  probeSchedule: DEFAULT_PROBE_SCHEDULE,
  deleteProtection: true,
} as const;

/** Defaults of the construct's `receiver` props (infra/connector/props.ts `ReceiverProps` documents each). */
export const RECEIVER_DEFAULTS = {
  concurrency: 80,
  cpu: '1',
  memory: '1Gi',
  maxInstances: 10,
  minInstances: 0,
  timeoutSeconds: DEFAULT_RECEIVER_TIMEOUT_SECONDS,
  refusalsAlertThreshold: 20,
} as const;
