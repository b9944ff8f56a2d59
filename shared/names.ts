/**
 * Every Google Cloud resource name derived from a connector's name, in one place. The infrastructure declares resources
 * with these names, the runtime and the operator commands find them with these names, and the connector schema checks
 * that the longest of them fits GCP's limits, so the three can never disagree.
 */

export interface ConnectorResourceNames {
  readonly ingestTopic: string;
  readonly deadLetterTopic: string;
  /** Pull subscription on the dead-letter topic that keeps dead letters for inspection and replay. */
  readonly deadLetterSubscription: string;
  readonly pushSubscription: string;
  readonly function: string;
  readonly firestoreDatabase: string;
  readonly secret: string;
  readonly schedulerJob: string;
  /** Secret holding the key of `fields.hashAlgorithm: 'hmac-sha256'` (created for the connectors that use it). */
  readonly hashKeySecret: string;
  /** Service account ids (the part before `@PROJECT.iam.gserviceaccount.com`). */
  readonly runtimeServiceAccount: string;
  readonly pushServiceAccount: string;
  readonly schedulerServiceAccount: string;
}

export const RESOURCE_PREFIX = 'currents';
/** The HTTP function's name inside the runtime module (functions-framework target, Cloud Functions entry point). */
export const FUNCTION_TARGET = 'currents';
/** The receiver's functions-framework target / Cloud Functions entry point (runtime/receiver/function.ts). */
export const RECEIVER_TARGET = 'receiver';
/** Short prefix for service account ids, whose limit (30) is the tightest of all. */
export const SERVICE_ACCOUNT_PREFIX = 'cs';

export function resourceNames(connectorName: string): ConnectorResourceNames {
  const base = `${RESOURCE_PREFIX}-${connectorName}`;
  return {
    ingestTopic: `${base}-ingest`,
    deadLetterTopic: `${base}-dead-letter`,
    deadLetterSubscription: `${base}-dead-letter-hold`,
    pushSubscription: `${base}-push`,
    function: base,
    firestoreDatabase: base,
    secret: `${base}-segment-credential`,
    schedulerJob: `${base}-probe`,
    hashKeySecret: `${base}-hash-key`,
    runtimeServiceAccount: `${SERVICE_ACCOUNT_PREFIX}-${connectorName}-run`,
    pushServiceAccount: `${SERVICE_ACCOUNT_PREFIX}-${connectorName}-push`,
    schedulerServiceAccount: `${SERVICE_ACCOUNT_PREFIX}-${connectorName}-sched`,
  };
}

/**
 * The Secret Manager secret (one per environment, in its project) holding the Segment Public API token the source check
 * uses (a workspace token with read access to sources). Created by the infrastructure without a version, like the
 * credential secrets; the runtime account of every connector of the environment may read it.
 */
export function publicApiTokenSecret(environmentName: string): string {
  return `${RESOURCE_PREFIX}-${environmentName}-segment-public-api-token`;
}

/**
 * The service account Cloud Build builds an environment's functions as (one per environment, in its project):
 * `cs-build-<env>`; an environment name too long for the 30-character limit keeps its first 13 characters and gets a
 * checksum of the whole name, so two long names sharing a project still differ.
 */
export function buildServiceAccountId(environmentName: string): string {
  const id = `${SERVICE_ACCOUNT_PREFIX}-build-${environmentName}`.replace(/-+$/, '');
  if (id.length <= 30) return id;
  let sum = 0x811c9dc5; // FNV-1a, 32 bits
  for (const c of environmentName) sum = Math.imul(sum ^ c.charCodeAt(0), 0x01000193) >>> 0;
  const head = environmentName.slice(0, 13).replace(/-+$/, '');
  return `${SERVICE_ACCOUNT_PREFIX}-build-${head}-${sum.toString(36).padStart(7, '0').slice(0, 6)}`;
}

/** GCP's length limits for each derived name (inclusive). */
export const NAME_LIMITS: Readonly<Record<keyof ConnectorResourceNames, { min: number; max: number; what: string }>> = {
  ingestTopic: { min: 3, max: 255, what: 'Pub/Sub topic id' },
  deadLetterTopic: { min: 3, max: 255, what: 'Pub/Sub topic id' },
  deadLetterSubscription: { min: 3, max: 255, what: 'Pub/Sub subscription id' },
  pushSubscription: { min: 3, max: 255, what: 'Pub/Sub subscription id' },
  function: { min: 1, max: 63, what: 'Cloud Functions name' },
  firestoreDatabase: { min: 4, max: 63, what: 'Firestore database id' },
  secret: { min: 1, max: 255, what: 'Secret Manager secret id' },
  schedulerJob: { min: 1, max: 500, what: 'Cloud Scheduler job name' },
  hashKeySecret: { min: 1, max: 255, what: 'Secret Manager secret id' },
  runtimeServiceAccount: { min: 6, max: 30, what: 'service account id' },
  pushServiceAccount: { min: 6, max: 30, what: 'service account id' },
  schedulerServiceAccount: { min: 6, max: 30, what: 'service account id' },
};

/** Names derived from `connectorName` that fall outside GCP's limits, each with the limit it breaks. */
export function nameLimitViolations(connectorName: string): string[] {
  const names = resourceNames(connectorName);
  const out: string[] = [];
  for (const key of Object.keys(NAME_LIMITS) as (keyof ConnectorResourceNames)[]) {
    const { min, max, what } = NAME_LIMITS[key];
    const value = names[key];
    if (value.length < min || value.length > max) {
      out.push(`${what} '${value}' is ${value.length} characters (allowed ${min}–${max})`);
    }
  }
  return out;
}

/** The longest connector name whose derived resource names all fit (computed, not hard-coded). */
export const MAX_CONNECTOR_NAME_LENGTH: number = (() => {
  let n = 1;
  while (nameLimitViolations('a'.repeat(n + 1)).length === 0) n++;
  return n;
})();

/**
 * The derived name that limits a connector's name: the first to break one character past the longest allowed name (a
 * service account id such as `cs-<name>-sched`, at most 30 characters). Messages quote it to say why a name is too long.
 */
export const TIGHTEST_NAME_LIMIT: { readonly what: string; readonly max: number; readonly template: string } = (() => {
  const over = resourceNames('a'.repeat(MAX_CONNECTOR_NAME_LENGTH + 1));
  const keys = Object.keys(NAME_LIMITS) as (keyof ConnectorResourceNames)[];
  const key = keys.find((k) => over[k].length > NAME_LIMITS[k].max)!;
  return { what: NAME_LIMITS[key].what, max: NAME_LIMITS[key].max, template: resourceNames('<name>')[key] };
})();

/** Firestore layout inside a connector's database. */
export const FIRESTORE_LAYOUT = {
  /** Document holding the credential state machine. */
  stateDocument: 'connector/state',
  /** Collection of parked event groups (one document per incoming message). */
  parkedCollection: 'parked',
  /** Field of a parked group that the TTL policy expires on. */
  parkedExpiryField: 'expireAt',
} as const;

/**
 * The log-based metric counting a door's answers (its `receiver_request` log lines), labelled by the HTTP status
 * answered; its name is the door's (shared/door.ts `doorNames().requestsMetric`). The infrastructure declares it;
 * `currents status` reads its time series.
 */
export const RECEIVER_REQUESTS_METRIC = { label: 'status' } as const;

/** The object prefix of an environment's Terraform state in its GCS backend bucket, unless the environment sets one. */
export function stateBackendPrefix(env: {
  readonly name: string;
  readonly backend?: { readonly prefix?: string };
}): string {
  return env.backend?.prefix ?? `currents-segment/${env.name}`;
}

/** Collection of the connector's database recording each storage-export object's import (runtime/storage/progress.ts). */
export const FIRESTORE_IMPORTS_COLLECTION = 'imports';

/** The storage importer's functions-framework target / Cloud Functions entry point (runtime/storage/function.ts). */
export const IMPORTER_TARGET = 'importer';

/** Resources of a connector's live storage import (only for a connector with `storage`). */
export function storageImportNames(connectorName: string): {
  readonly importerFunction: string;
  readonly notificationTopic: string;
  readonly notificationSubscription: string;
  readonly importerServiceAccount: string;
  /** A backfill's files (notification-shaped messages `currents import --remote` publishes) and their push. */
  readonly backfillFilesTopic: string;
  readonly backfillFilesSubscription: string;
  /** The importer serving backfills (same code as the live one, its own instances, publishing on backfillTopic). */
  readonly backfillImporterFunction: string;
  /** Backfilled events, and their push to the backfill function (the connector's function, its own instances). */
  readonly backfillTopic: string;
  readonly backfillPushSubscription: string;
  readonly backfillFunction: string;
} {
  const base = `${RESOURCE_PREFIX}-${connectorName}`;
  return {
    importerFunction: `${base}-importer`,
    notificationTopic: `${base}-storage-notify`,
    notificationSubscription: `${base}-storage-import`,
    backfillFilesTopic: `${base}-backfill-files`,
    backfillFilesSubscription: `${base}-backfill-import`,
    backfillImporterFunction: `${base}-backfill-importer`,
    backfillTopic: `${base}-backfill`,
    backfillPushSubscription: `${base}-backfill-push`,
    backfillFunction: `${base}-backfill`,
    // The tightest limit (30): shorter than the scheduler's account id, so the name check covers it.
    importerServiceAccount: `${SERVICE_ACCOUNT_PREFIX}-${connectorName}-impo`,
  };
}
