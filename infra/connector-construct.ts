/**
 * `CurrentsConnector`: everything one connector becomes on Google Cloud, as one construct (in the manner of AWS
 * Solutions Constructs' aws-sqs-lambda and Cloud Foundation Fabric's cloud-function-v2 + pubsub modules):
 *
 *   Braze ─HTTPS POST, bearer token─▶ receiver (public 2nd-gen function) ─publish─▶ ingest topic
 *   ingest topic ─push (OIDC, backoff, dead-letter policy)─▶ 2nd-gen function ─▶ Segment
 *        └─ after deadLetterMaxAttempts ─▶ dead-letter topic ─▶ retained pull subscription (replay)
 *   Cloud Scheduler ─(every few minutes, OIDC)─▶ function /probe
 *   function ─▶ its own Firestore database (state + parked events, TTL on the expiry field) and its credential secret
 *   receiver ─▶ its ingest-token secret (every enabled version is a token Braze may send)
 *   log-based metrics ─▶ alert policies ─▶ email channel for contactEmail
 *
 * Every prop documents its default; the defaults are the secure ones (internal-only ingress for the function, a
 * dedicated service account per workload with only the roles the infrastructure spec lists, delete protection on). The
 * one public member of the whole stack is `allUsers` as `run.invoker` of the receiver: Braze cannot present a Google
 * identity, so the receiver's bearer token is its lock. Props are checked in ONE place
 * (`validateConnectorProps`) and every problem is reported at once.
 */
import { type ITerraformDependable } from 'cdktf';
import { Construct } from 'constructs';
import { CloudRunV2ServiceIamMember } from '@cdktf/provider-google/lib/cloud-run-v2-service-iam-member';
import { CloudSchedulerJob } from '@cdktf/provider-google/lib/cloud-scheduler-job';
import { Cloudfunctions2Function } from '@cdktf/provider-google/lib/cloudfunctions2-function';
import { FirestoreDatabase } from '@cdktf/provider-google/lib/firestore-database';
import { FirestoreField } from '@cdktf/provider-google/lib/firestore-field';
import { LoggingMetric } from '@cdktf/provider-google/lib/logging-metric';
import {
  MonitoringAlertPolicy,
  type MonitoringAlertPolicyConditions,
} from '@cdktf/provider-google/lib/monitoring-alert-policy';
import { MonitoringNotificationChannel } from '@cdktf/provider-google/lib/monitoring-notification-channel';
import { ProjectIamMember } from '@cdktf/provider-google/lib/project-iam-member';
import { PubsubSubscription } from '@cdktf/provider-google/lib/pubsub-subscription';
import { PubsubSubscriptionIamMember } from '@cdktf/provider-google/lib/pubsub-subscription-iam-member';
import { PubsubTopic } from '@cdktf/provider-google/lib/pubsub-topic';
import { PubsubTopicIamMember } from '@cdktf/provider-google/lib/pubsub-topic-iam-member';
import { SecretManagerSecret } from '@cdktf/provider-google/lib/secret-manager-secret';
import { SecretManagerSecretIamMember } from '@cdktf/provider-google/lib/secret-manager-secret-iam-member';
import { ServiceAccount } from '@cdktf/provider-google/lib/service-account';
import { ServiceAccountIamMember } from '@cdktf/provider-google/lib/service-account-iam-member';
import { type Connector, DEFAULTS, type Environment, formatValidationError, parseConnector } from '../shared/connector';
import { googleSeconds } from '../shared/duration';
import {
  FIRESTORE_LAYOUT,
  publicApiTokenSecret,
  RECEIVER_REQUESTS_METRIC,
  resourceNames,
  type ConnectorResourceNames,
} from '../shared/names';
import type { LogEventName } from '../runtime/log';
import { functionEnvironment, receiverEnvironment } from '../shared/runtime-config';
import {
  ackDeadlineFor,
  connectorPolicy,
  DEFAULT_RECEIVER_TIMEOUT_SECONDS,
  functionTimeoutProblem,
  MIN_RECEIVER_TIMEOUT_SECONDS,
} from '../shared/policy';
import {
  DASHBOARD_METRICS,
  type DashboardMetric,
  type DashboardMetricId,
  dashboardMetricFilter,
  dashboardMetricName,
} from './dashboard-metrics';
import { FUNCTION_TARGET, RECEIVER_TARGET } from './runtime-archive';
import { StorageImport } from './storage-import';

/** The APIs a connector's resources need; a stack passes the matching `google_project_service` for each. */
export type ConnectorApi =
  | 'pubsub'
  | 'iam'
  | 'cloudfunctions'
  | 'run'
  | 'cloudbuild'
  | 'artifactregistry'
  | 'firestore'
  | 'secretmanager'
  | 'cloudscheduler'
  | 'monitoring'
  | 'logging'
  | 'cloudresourcemanager';

/**
 * What the runtime logs (JSON, field `event`) and the infrastructure counts: one log-based metric and alert each. Keyed by
 * the log event name (runtime/log.ts LOG_EVENTS), checked by the type system: a renamed event fails the build.
 */
export const ALERTED_EVENTS = {
  credential_failure: {
    metric: 'credential-failures',
    severity: 'ERROR',
    title: 'credential failure',
    what:
      'Segment refused the credential (401/403, OAuth token refused) or the secret is missing, disabled or destroyed. ' +
      'Events are being parked; they are dropped once the grace period passes. Put a working credential into the ' +
      'secret (`gcloud secrets versions add`, see README "Deploying").',
  },
  events_dropped: {
    metric: 'events-dropped',
    severity: 'CRITICAL',
    title: 'events dropped',
    what:
      'The credential has been failing for longer than the grace period: parked and new events are being dropped and ' +
      'are permanently lost until a probe succeeds. Fix the credential now.',
  },
  credential_unverified: {
    metric: 'credential-unverified',
    severity: 'WARNING',
    title: 'credential cannot be verified',
    what:
      "The write key's source check could not get an answer from Segment's Public API (down, rate-limited, or its " +
      'own token refused). Nothing changes while it lasts, but a revoked or rotated write key would go unseen (Segment ' +
      "answers 200 and discards the events). Check the environment's Public API token secret and Segment's status.",
  },
  dead_lettered: {
    metric: 'dead-lettered',
    severity: 'WARNING',
    title: 'events dead-lettered',
    what:
      'Events were written to the dead-letter topic (rejected by Segment, malformed, or out of delivery attempts). ' +
      'Inspect them on the dead-letter subscription and replay them once the cause is fixed.',
  },
} as const satisfies Partial<Record<LogEventName, unknown>>;
export type AlertedEvent = keyof typeof ALERTED_EVENTS;

/**
 * What the receiver logs once per request (`receiver_request`, with the HTTP `status` it answered) and the
 * infrastructure counts: one log-based metric labelled by status, and the alerts on it. Keyed by the log event name,
 * like ALERTED_EVENTS; each alert selects the statuses it watches with a Cloud Monitoring label filter.
 */
export const RECEIVER_EVENTS = {
  receiver_request: {
    metric: RECEIVER_REQUESTS_METRIC.suffix,
    /** The metric label, extracted from `jsonPayload.status` (the HTTP status answered, e.g. "202", "401", "503"). */
    label: RECEIVER_REQUESTS_METRIC.label,
    alerts: {
      /**
       * 5xx means Braze is retrying (with backoff, for up to 5 days before it disables the Current): nothing is lost yet,
       * but the door is shut. One 503 (a deploy's shutdown, one slow publish) is normal; the alert wants 5xx in every
       * 2-minute window for 5 minutes, which a Current's batches and retries keep up through an outage and a blip never
       * does (a single 5xx keeps one 2-minute window above zero, never 5 minutes of them).
       * A second condition counts Cloud Run's own 5xx for the service, which also sees crashes and timeouts the
       * receiver could not log.
       */
      'server-errors': {
        title: 'receiver answering 5xx',
        severity: 'ERROR',
        status: 'starts_with("5")',
        alignmentSeconds: 120,
        durationSeconds: 300,
        what:
          'The receiver has been answering 5xx to Braze for more than 5 minutes: it cannot publish to the ingest topic, ' +
          'cannot read its ingest-token secret, or is crashing. Braze keeps retrying with backoff (for up to 5 days), so ' +
          'nothing is lost yet. Check the receiver logs (event receiver_request, outcome) and `currents status`.',
      },
      /**
       * 401s to Braze itself (token rotated in one place only) stop the Current: Braze re-sends nothing and waits for
       * a person. How many refusals it takes before it stops is not documented (it posts batches in parallel, and the
       * Currents of several workspaces may share one URL), so the alert watches the rate. Any public URL also gets
       * stray requests (scanners, a curl without a token): a handful an hour. The alert wants more than
       * `refusalsAlertThreshold` (default 20) refusals in a 5-minute window, held for 5 minutes: above 4 a minute for 5
       * to 10 minutes is the rhythm of Currents posting batches, not of strays. Braze also emails its own contact.
       */
      refusals: {
        title: 'receiver refusing requests (401)',
        severity: 'CRITICAL',
        status: '"401"',
        alignmentSeconds: 300,
        durationSeconds: 300,
        what:
          'The receiver keeps refusing requests with 401 at the rate of a Braze Current: the token Braze sends is not an ' +
          'enabled version of the ingest-token secret (rotated in one place only, or disabled too early). Braze stops ' +
          'the Current on 401 and needs it re-enabled by hand. Make a token with `currents receiver-token new`, paste ' +
          'it into the Current (Partner Integrations → Data Export), re-enable it, then check `currents status`.',
      },
    },
  },
} as const satisfies Partial<Record<LogEventName, unknown>>;
export type ReceiverEvent = keyof typeof RECEIVER_EVENTS;
export type ReceiverAlert = keyof (typeof RECEIVER_EVENTS)['receiver_request']['alerts'];
/** Every log event a log-based metric counts. */
export type MeteredEvent = AlertedEvent | ReceiverEvent;

/** The receiver's scaling and alerting (`CurrentsConnectorProps.receiver`). */
export interface ReceiverProps {
  /**
   * Requests one instance serves at once. The receiver is I/O-bound (it waits on Pub/Sub's acknowledgement and on the
   * token cache), so one instance serves many requests; 80 is Cloud Run's default for such services. Above 1 needs at
   * least 1 CPU.
   * @default 80
   */
  readonly concurrency?: number;
  /**
   * CPUs per instance (Cloud Functions `availableCpu`).
   * @default '1'
   */
  readonly cpu?: string;
  /**
   * Memory per instance: room for `concurrency` request bodies in flight (Braze's batches are ~100 KB; a body may be up
   * to what one Pub/Sub message holds).
   * @default '1Gi'
   */
  readonly memory?: string;
  /**
   * Upper bound of instances (80 concurrent requests each: far above what one Braze workspace sends; excess requests
   * get 429, which Braze retries).
   * @default 10
   */
  readonly maxInstances?: number;
  /**
   * Instances kept warm. 0 scales to zero; a cold start only delays Braze's request, which it waits for.
   * @default 0
   */
  readonly minInstances?: number;
  /**
   * Request time budget in seconds. The receiver gets it in its environment and derives its publish timeout from it
   * (at most 10 s, and 5 s less than this), so that it answers 503 before the platform cuts a hanging publish.
   * @default 60
   */
  readonly timeoutSeconds?: number;
  /**
   * The 401 alert fires when more than this many requests are refused in a 5-minute window, for 5 minutes.
   * @default 20
   */
  readonly refusalsAlertThreshold?: number;
}

export interface CurrentsConnectorProps {
  /** The connector, validated by the shared schema (`loadEnvironments`). Re-checked here with the same schema. */
  readonly connector: Connector;
  /** The environment the connector is deployed into. */
  readonly environment: Pick<Environment, 'name' | 'project' | 'region'>;
  /** The function's source archive in Cloud Storage (built and uploaded once per environment). */
  readonly source: { readonly bucket: string; readonly object: string };
  /** The receiver's source archive in Cloud Storage (bundled from runtime/receiver/function.ts). */
  readonly receiverSource: { readonly bucket: string; readonly object: string };
  /** The storage importer's source archive (bundled from runtime/storage/function.ts): needed with `storage`. */
  readonly importerSource?: { readonly bucket: string; readonly object: string };
  /**
   * The receiver's scaling and alerting.
   * @default RECEIVER_DEFAULTS
   */
  readonly receiver?: ReceiverProps;
  /** Email of the project's Pub/Sub service agent, `service-PROJECT_NUMBER@gcp-sa-pubsub.iam.gserviceaccount.com`. */
  readonly pubsubServiceAgentEmail: string;
  /**
   * Cloud Functions runtime; must be nodejs22 or later.
   * @default 'nodejs22'
   */
  readonly runtime?: string;
  /**
   * The function's request time budget in seconds: the ONE timing source. The function gets it in its environment
   * (CURRENTS_TIMEOUT_SECONDS) and derives its delivery and probe budgets from it (15 s less: room to park or nack); the
   * push subscription's ack deadline is this plus a 20 s margin (shared/policy.ts `ackDeadlineFor`), so Pub/Sub never
   * redelivers a message the function is still working on; the probe job's attempt deadline is this.
   * Between 25 (a budget of one whole 10 s Segment request) and 580 (Pub/Sub's ack limit is 600).
   * @default 60
   */
  readonly timeoutSeconds?: number;
  /**
   * Memory of each function instance.
   * @default '512Mi'
   */
  readonly memory?: string;
  /**
   * Pub/Sub retry backoff for failed pushes (Google duration strings, 0s–600s, minimum ≤ maximum).
   * @default { minimum: '10s', maximum: '600s' }
   */
  readonly retryBackoff?: { readonly minimum: string; readonly maximum: string };
  /**
   * Cron schedule of the credential probe / drain job (every few minutes; the runtime adds jitter).
   * @default '*\/3 * * * *' (every 3 minutes)
   */
  readonly probeSchedule?: string;
  /**
   * Delete protection of the connector's Firestore database. When on, `terraform destroy` abandons the database
   * instead of deleting it.
   * @default true
   */
  readonly deleteProtection?: boolean;
  /**
   * Firestore location of the connector's database.
   * @default the environment's region
   */
  readonly firestoreLocation?: string;
  /**
   * The environment's Segment Public API token secret (shared/names.ts `publicApiTokenSecret`), declared once per
   * environment by its stack. A connector with `segment.sourceId` gets read access to it; default: the secret of that
   * name, declared elsewhere.
   */
  readonly publicApiTokenSecret?: SecretManagerSecret;
  /**
   * The API enablements each resource waits for (`google_project_service` per API).
   * @default none (the APIs are assumed enabled)
   */
  readonly dependsOn?: Partial<Record<ConnectorApi, ITerraformDependable>>;
  /**
   * Labels added to every labelled resource, besides `app`, `environment` and `connector`.
   * @default {}
   */
  readonly labels?: Record<string, string>;
}

/** The timing defaults come from shared/policy.ts, which the runtime and the local run read too. */
const POLICY = connectorPolicy(DEFAULTS);

export const CONNECTOR_DEFAULTS = {
  runtime: 'nodejs22',
  timeoutSeconds: POLICY.functionTimeoutSeconds,
  memory: '512Mi',
  retryBackoff: { minimum: `${POLICY.minimumBackoffSeconds}s`, maximum: `${POLICY.maximumBackoffSeconds}s` },
  probeSchedule: POLICY.probeSchedule,
  deleteProtection: true,
} as const;

export const RECEIVER_DEFAULTS = {
  concurrency: 80,
  cpu: '1',
  memory: '1Gi',
  maxInstances: 10,
  minInstances: 0,
  timeoutSeconds: DEFAULT_RECEIVER_TIMEOUT_SECONDS,
  refusalsAlertThreshold: 20,
} as const satisfies Required<ReceiverProps>;

export class ConnectorPropsError extends Error {
  constructor(
    readonly connector: string,
    readonly problems: readonly string[],
  ) {
    super(`connector '${connector}': ${problems.length} invalid construct prop(s):\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConnectorPropsError';
  }
}

const GOOGLE_SECONDS = /^(\d+(?:\.\d{1,9})?)s$/;
const MEMORY = /^\d+(Mi|Gi|M|G)$/;
const CRON = /^\S+( \S+){4}$/;

/** The ONE place the construct's props are checked; returns every problem. */
export function validateConnectorProps(props: CurrentsConnectorProps): string[] {
  const problems: string[] = [];
  const { errors } = parseConnector(props.connector, { environment: props.environment.name });
  problems.push(...errors.map(formatValidationError));
  const runtime = props.runtime ?? CONNECTOR_DEFAULTS.runtime;
  const version = /^nodejs(\d+)$/.exec(runtime);
  if (!version || Number(version[1]) < 22) {
    problems.push(`runtime '${runtime}' is not supported: use nodejs22 or later`);
  }
  const timeoutProblem = functionTimeoutProblem(props.timeoutSeconds ?? CONNECTOR_DEFAULTS.timeoutSeconds);
  if (timeoutProblem) problems.push(timeoutProblem);
  const memory = props.memory ?? CONNECTOR_DEFAULTS.memory;
  if (!MEMORY.test(memory)) problems.push(`memory '${memory}' must look like 512Mi or 1Gi`);
  const backoff = props.retryBackoff ?? CONNECTOR_DEFAULTS.retryBackoff;
  const seconds = [backoff.minimum, backoff.maximum].map((s) => GOOGLE_SECONDS.exec(s));
  if (seconds.some((m) => !m)) {
    problems.push(`retryBackoff ${JSON.stringify(backoff)} must be durations in seconds such as '10s' and '600s'`);
  } else {
    const [min, max] = seconds.map((m) => Number(m![1]));
    if (max! > 600 || min! > max!) {
      problems.push(`retryBackoff ${JSON.stringify(backoff)} must satisfy 0s ≤ minimum ≤ maximum ≤ 600s`);
    }
  }
  const schedule = props.probeSchedule ?? CONNECTOR_DEFAULTS.probeSchedule;
  if (!CRON.test(schedule.trim())) {
    problems.push(`probeSchedule '${schedule}' must be a five-field cron expression such as '*/3 * * * *'`);
  }
  if (props.firestoreLocation !== undefined && !props.firestoreLocation.trim()) {
    problems.push('firestoreLocation must not be empty (omit it to use the environment region)');
  }
  if (!/^[^@\s]+@[^@\s]+$/.test(props.pubsubServiceAgentEmail) && !props.pubsubServiceAgentEmail.includes('${')) {
    problems.push(`pubsubServiceAgentEmail '${props.pubsubServiceAgentEmail}' is not a service account email`);
  }
  problems.push(...validateReceiverProps(props.receiver ?? {}));
  if (props.connector.storage && !props.importerSource) {
    problems.push("importerSource is required: the connector has 'storage' (the storage importer's source archive)");
  }
  return problems;
}

const isWhole = (n: number, min: number, max = Infinity) => Number.isInteger(n) && n >= min && n <= max;

function validateReceiverProps(props: ReceiverProps): string[] {
  const r = { ...RECEIVER_DEFAULTS, ...props };
  const problems: string[] = [];
  if (!isWhole(r.concurrency, 1, 1000))
    problems.push(`receiver.concurrency ${r.concurrency} must be between 1 and 1000`);
  const cpu = Number(r.cpu);
  if (!/^\d+(\.\d+)?$/.test(r.cpu) || !(cpu > 0)) {
    problems.push(`receiver.cpu '${r.cpu}' must be a number of CPUs such as '1' or '2'`);
  } else if (r.concurrency > 1 && cpu < 1) {
    problems.push(
      `receiver.cpu '${r.cpu}' must be at least '1' when receiver.concurrency is above 1 (Cloud Run's rule)`,
    );
  }
  if (!MEMORY.test(r.memory)) problems.push(`receiver.memory '${r.memory}' must look like 512Mi or 1Gi`);
  if (!isWhole(r.maxInstances, 1)) problems.push(`receiver.maxInstances ${r.maxInstances} must be a whole number ≥ 1`);
  if (!isWhole(r.minInstances, 0, r.maxInstances)) {
    problems.push(`receiver.minInstances ${r.minInstances} must be a whole number between 0 and receiver.maxInstances`);
  }
  if (!isWhole(r.timeoutSeconds, MIN_RECEIVER_TIMEOUT_SECONDS, 3600)) {
    problems.push(
      `receiver.timeoutSeconds ${r.timeoutSeconds} must be a whole number between ${MIN_RECEIVER_TIMEOUT_SECONDS} and 3600 ` +
        '(the receiver keeps 5 s after a publish timed out to answer 503)',
    );
  }
  if (!isWhole(r.refusalsAlertThreshold, 1)) {
    problems.push(`receiver.refusalsAlertThreshold ${r.refusalsAlertThreshold} must be a whole number ≥ 1`);
  }
  return problems;
}

const isReceiverEvent = (event: MeteredEvent): event is ReceiverEvent => event in RECEIVER_EVENTS;

/** Names of the log-based metrics of a connector (derived from the shared resource names). */
export function metricName(connectorName: string, event: MeteredEvent): string {
  const metric = isReceiverEvent(event) ? RECEIVER_EVENTS[event].metric : ALERTED_EVENTS[event].metric;
  return `${resourceNames(connectorName).function}-${metric}`;
}

/** The Logging filter counting one event of one connector, logged by the service that logs it (function or receiver). */
export function metricFilter(connectorName: string, event: MeteredEvent): string {
  const names = resourceNames(connectorName);
  return [
    'resource.type="cloud_run_revision"',
    `resource.labels.service_name="${isReceiverEvent(event) ? names.receiverFunction : names.function}"`,
    `jsonPayload.connector="${connectorName}"`,
    `jsonPayload.event="${event}"`,
  ].join(' AND ');
}

/** IAM condition restricting a project-level Firestore grant to one named database (and its documents). */
export function firestoreDatabaseCondition(project: string, database: string) {
  const db = `projects/${project}/databases/${database}`;
  return {
    title: `only-${database}`.slice(0, 100),
    description: `Firestore access limited to the database ${database}`,
    // Equality plus a prefix ending in '/': a bare startsWith(db) would also match databases named db + anything.
    expression: `resource.name == "${db}" || resource.name.startsWith("${db}/")`,
  };
}

export class CurrentsConnector extends Construct {
  readonly names: ConnectorResourceNames;
  readonly ingestTopic: PubsubTopic;
  readonly deadLetterTopic: PubsubTopic;
  readonly deadLetterSubscription: PubsubSubscription;
  readonly pushSubscription: PubsubSubscription;
  readonly function: Cloudfunctions2Function;
  /** The public door Braze's Custom Currents Export posts to. */
  readonly receiver: Cloudfunctions2Function;
  readonly database: FirestoreDatabase;
  readonly secret: SecretManagerSecret;
  /** Every enabled version is a bearer token the receiver accepts; Terraform never creates one. */
  readonly ingestTokenSecret: SecretManagerSecret;
  readonly probeJob: CloudSchedulerJob;
  readonly notificationChannel: MonitoringNotificationChannel;
  readonly serviceAccounts: {
    readonly runtime: ServiceAccount;
    readonly push: ServiceAccount;
    readonly scheduler: ServiceAccount;
    readonly receiver: ServiceAccount;
  };
  readonly metrics: Record<MeteredEvent, LoggingMetric>;
  /** The metrics only the environment's dashboard draws (infra/dashboard-metrics.ts). */
  readonly dashboardMetrics: Record<DashboardMetricId, LoggingMetric>;
  readonly alerts: Record<AlertedEvent, MonitoringAlertPolicy>;
  readonly receiverAlerts: Record<ReceiverAlert, MonitoringAlertPolicy>;
  /** The live storage import (only for a connector with `storage`). */
  readonly storageImport?: StorageImport;

  constructor(scope: Construct, id: string, props: CurrentsConnectorProps) {
    super(scope, id);
    const problems = validateConnectorProps(props);
    if (problems.length) throw new ConnectorPropsError(props.connector.name, problems);

    const { connector, environment: env } = props;
    const project = env.project;
    const names = (this.names = resourceNames(connector.name));
    const timeoutSeconds = props.timeoutSeconds ?? CONNECTOR_DEFAULTS.timeoutSeconds;
    const deleteProtection = props.deleteProtection ?? CONNECTOR_DEFAULTS.deleteProtection;
    const labels = { ...props.labels, app: 'currents-segment', environment: env.name, connector: connector.name };
    const dep = (...apis: ConnectorApi[]) => {
      const list = apis.map((a) => props.dependsOn?.[a]).filter((d): d is ITerraformDependable => d !== undefined);
      return list.length ? { dependsOn: list } : {};
    };
    const retention = googleSeconds(connector.retention);

    // --- Service accounts: one per workload, no keys.
    const sa = (key: 'runtime' | 'push' | 'scheduler' | 'receiver', accountId: string, what: string) =>
      new ServiceAccount(this, `${key}-sa`, {
        project,
        accountId,
        displayName: `Currents ${connector.name}: ${key}`,
        description: what,
        ...dep('iam'),
      });
    this.serviceAccounts = {
      runtime: sa(
        'runtime',
        names.runtimeServiceAccount,
        `Runs the Currents → Segment function of '${connector.name}'`,
      ),
      push: sa('push', names.pushServiceAccount, `Pub/Sub push identity invoking '${names.function}'`),
      scheduler: sa('scheduler', names.schedulerServiceAccount, `Cloud Scheduler identity probing '${names.function}'`),
      receiver: sa(
        'receiver',
        names.receiverServiceAccount,
        `Runs '${names.receiverFunction}', publishing Braze's requests to '${names.ingestTopic}'`,
      ),
    };
    const { runtime: runtimeSa, push: pushSa, scheduler: schedulerSa, receiver: receiverSa } = this.serviceAccounts;
    const pubsubAgent = `serviceAccount:${props.pubsubServiceAgentEmail}`;

    // --- Pub/Sub topics.
    this.ingestTopic = new PubsubTopic(this, 'ingest-topic', {
      project,
      name: names.ingestTopic,
      labels: { ...labels, role: 'ingest' },
      ...dep('pubsub'),
    });
    this.deadLetterTopic = new PubsubTopic(this, 'dead-letter-topic', {
      project,
      name: names.deadLetterTopic,
      labels: { ...labels, role: 'dead-letter' },
      ...dep('pubsub'),
    });
    this.deadLetterSubscription = new PubsubSubscription(this, 'dead-letter-subscription', {
      project,
      name: names.deadLetterSubscription,
      topic: this.deadLetterTopic.id,
      labels: { ...labels, role: 'dead-letter' },
      messageRetentionDuration: retention,
      retainAckedMessages: true,
      ackDeadlineSeconds: 60,
      expirationPolicy: { ttl: '' }, // never expires, however long nobody pulls
      ...dep('pubsub'),
    });

    // --- Firestore: the connector's own database, TTL on parked events' expiry field.
    this.database = new FirestoreDatabase(this, 'database', {
      project,
      name: names.firestoreDatabase,
      locationId: props.firestoreLocation ?? env.region,
      type: 'FIRESTORE_NATIVE',
      deleteProtectionState: deleteProtection ? 'DELETE_PROTECTION_ENABLED' : 'DELETE_PROTECTION_DISABLED',
      deletionPolicy: deleteProtection ? 'ABANDON' : 'DELETE',
      ...dep('firestore'),
    });
    new FirestoreField(this, 'parked-ttl', {
      project,
      database: this.database.name,
      collection: FIRESTORE_LAYOUT.parkedCollection,
      field: FIRESTORE_LAYOUT.parkedExpiryField,
      ttlConfig: {},
    });

    // --- Secret: the credential lives here; Terraform never creates a version.
    this.secret = new SecretManagerSecret(this, 'credential-secret', {
      project,
      secretId: names.secret,
      labels: { ...labels, credential: connector.segment.credential.kind.toLowerCase() },
      replication: { auto: {} },
      ...dep('secretmanager'),
    });
    // The receiver's tokens live here: `currents receiver-token new` adds versions, never Terraform.
    this.ingestTokenSecret = new SecretManagerSecret(this, 'ingest-token-secret', {
      project,
      secretId: names.ingestTokenSecret,
      labels: { ...labels, role: 'ingest-token' },
      replication: { auto: {} },
      ...dep('secretmanager'),
    });

    // --- The function.
    this.function = new Cloudfunctions2Function(this, 'function', {
      project,
      name: names.function,
      location: env.region,
      description: `Braze Currents → Segment (${connector.segment.region}) for '${connector.displayName}'`,
      labels,
      buildConfig: {
        runtime: props.runtime ?? CONNECTOR_DEFAULTS.runtime,
        entryPoint: FUNCTION_TARGET,
        source: { storageSource: { bucket: props.source.bucket, object: props.source.object } },
      },
      serviceConfig: {
        serviceAccountEmail: runtimeSa.email,
        ingressSettings: 'ALLOW_INTERNAL_ONLY',
        allTrafficOnLatestRevision: true,
        availableMemory: props.memory ?? CONNECTOR_DEFAULTS.memory,
        timeoutSeconds,
        minInstanceCount: 0,
        maxInstanceCount: connector.maxInstances,
        // Concurrent pushes overlap their Segment round trips (measured: npm run bench -- concurrency); Cloud Run
        // needs a whole vCPU for more than one request at a time.
        maxInstanceRequestConcurrency: connector.concurrency,
        ...(connector.concurrency > 1 ? { availableCpu: '1' } : {}),
        environmentVariables: functionEnvironment(env, connector, timeoutSeconds),
      },
      ...dep('cloudfunctions', 'run', 'cloudbuild', 'artifactregistry'),
    });
    const url = this.function.serviceConfig.uri;

    // --- The receiver: public ingress (Braze posts from the internet), its own account, many requests per instance.
    const receiver = { ...RECEIVER_DEFAULTS, ...props.receiver };
    this.receiver = new Cloudfunctions2Function(this, 'receiver', {
      project,
      name: names.receiverFunction,
      location: env.region,
      description: `Braze Custom Currents Export → ${names.ingestTopic} for '${connector.displayName}'`,
      labels: { ...labels, role: 'receiver' },
      buildConfig: {
        runtime: props.runtime ?? CONNECTOR_DEFAULTS.runtime,
        entryPoint: RECEIVER_TARGET,
        source: { storageSource: { bucket: props.receiverSource.bucket, object: props.receiverSource.object } },
      },
      serviceConfig: {
        serviceAccountEmail: receiverSa.email,
        ingressSettings: 'ALLOW_ALL',
        allTrafficOnLatestRevision: true,
        availableMemory: receiver.memory,
        availableCpu: receiver.cpu,
        maxInstanceRequestConcurrency: receiver.concurrency,
        timeoutSeconds: receiver.timeoutSeconds,
        minInstanceCount: receiver.minInstances,
        maxInstanceCount: receiver.maxInstances,
        environmentVariables: receiverEnvironment(env, connector, receiver.timeoutSeconds),
      },
      ...dep('cloudfunctions', 'run', 'cloudbuild', 'artifactregistry'),
    });

    this.pushSubscription = new PubsubSubscription(this, 'push-subscription', {
      project,
      name: names.pushSubscription,
      topic: this.ingestTopic.id,
      labels: { ...labels, role: 'push' },
      ackDeadlineSeconds: ackDeadlineFor(timeoutSeconds),
      messageRetentionDuration: retention,
      expirationPolicy: { ttl: '' },
      retryPolicy: {
        minimumBackoff: (props.retryBackoff ?? CONNECTOR_DEFAULTS.retryBackoff).minimum,
        maximumBackoff: (props.retryBackoff ?? CONNECTOR_DEFAULTS.retryBackoff).maximum,
      },
      deadLetterPolicy: {
        deadLetterTopic: this.deadLetterTopic.id,
        maxDeliveryAttempts: connector.deadLetterMaxAttempts,
      },
      pushConfig: {
        pushEndpoint: url,
        oidcToken: { serviceAccountEmail: pushSa.email, audience: url },
      },
      ...dep('pubsub'),
    });

    this.probeJob = new CloudSchedulerJob(this, 'probe-job', {
      project,
      region: env.region,
      name: names.schedulerJob,
      description: `Credential probe and drain of parked events for '${connector.name}'`,
      schedule: props.probeSchedule ?? CONNECTOR_DEFAULTS.probeSchedule,
      timeZone: 'Etc/UTC',
      attemptDeadline: `${timeoutSeconds}s`,
      retryConfig: { retryCount: 0 }, // the next tick is the retry
      httpTarget: {
        uri: `${url}/probe`,
        httpMethod: 'POST',
        oidcToken: { serviceAccountEmail: schedulerSa.email, audience: url },
      },
      ...dep('cloudscheduler'),
    });

    // --- IAM: exactly the bindings of the infrastructure spec, each on the one resource it concerns.
    new SecretManagerSecretIamMember(this, 'runtime-secret-accessor', {
      project,
      secretId: this.secret.secretId,
      role: 'roles/secretmanager.secretAccessor',
      member: runtimeSa.member,
    });
    if (connector.segment.sourceId !== undefined) {
      new SecretManagerSecretIamMember(this, 'runtime-public-api-token-accessor', {
        project,
        secretId: props.publicApiTokenSecret?.secretId ?? publicApiTokenSecret(env.name),
        role: 'roles/secretmanager.secretAccessor',
        member: runtimeSa.member,
      });
    }
    new PubsubTopicIamMember(this, 'runtime-dead-letter-publisher', {
      project,
      topic: this.deadLetterTopic.name,
      role: 'roles/pubsub.publisher',
      member: runtimeSa.member,
    });
    // Firestore IAM has no per-database resource in provider 6.x: a project-level grant, conditioned on this database.
    new ProjectIamMember(this, 'runtime-datastore-user', {
      project,
      role: 'roles/datastore.user',
      member: runtimeSa.member,
      condition: firestoreDatabaseCondition(project, names.firestoreDatabase),
      ...dep('cloudresourcemanager'),
    });
    const invoker = (id: string, fn: Cloudfunctions2Function, member: string) =>
      new CloudRunV2ServiceIamMember(this, id, {
        project,
        location: env.region,
        name: fn.name, // a 2nd-gen function's Cloud Run service has the function's name
        role: 'roles/run.invoker',
        member,
        ...dep('run'),
      });
    invoker('push-invoker', this.function, pushSa.member);
    invoker('scheduler-invoker', this.function, schedulerSa.member);
    // The receiver: the ONE public member of the stack. Braze cannot present a Google identity; the bearer token
    // (compared with the enabled versions of the ingest-token secret) is the receiver's lock.
    invoker('receiver-public-invoker', this.receiver, 'allUsers');
    new PubsubTopicIamMember(this, 'receiver-ingest-publisher', {
      project,
      topic: this.ingestTopic.name,
      role: 'roles/pubsub.publisher',
      member: receiverSa.member,
    });
    const tokenGrant = (id: string, role: string) =>
      new SecretManagerSecretIamMember(this, id, {
        project,
        secretId: this.ingestTokenSecret.secretId,
        role,
        member: receiverSa.member,
      });
    tokenGrant('receiver-token-accessor', 'roles/secretmanager.secretAccessor');
    // The receiver accepts EVERY enabled version (so a token is rotated without losing a request: add the new version,
    // change it in Braze, disable the old one), so it lists the versions, which needs secretmanager.versions.list: not
    // in secretAccessor. Viewer grants it (and reading the versions' metadata, never their data) on this one secret only.
    tokenGrant('receiver-token-viewer', 'roles/secretmanager.viewer');
    new PubsubTopicIamMember(this, 'pubsub-agent-dead-letter-publisher', {
      project,
      topic: this.deadLetterTopic.name,
      role: 'roles/pubsub.publisher',
      member: pubsubAgent,
    });
    new PubsubSubscriptionIamMember(this, 'pubsub-agent-push-subscriber', {
      project,
      subscription: this.pushSubscription.name,
      role: 'roles/pubsub.subscriber',
      member: pubsubAgent,
    });
    new ServiceAccountIamMember(this, 'pubsub-agent-token-creator', {
      serviceAccountId: pushSa.name,
      role: 'roles/iam.serviceAccountTokenCreator',
      member: pubsubAgent,
    });

    // --- Monitoring: email channel, log-based metrics, alert policies.
    this.notificationChannel = new MonitoringNotificationChannel(this, 'contact-channel', {
      project,
      type: 'email',
      displayName: `Currents ${env.name}/${connector.name}: ${connector.contactEmail}`,
      description: `Credential failures, expiry, dead letters and receiver faults of '${connector.displayName}'`,
      labels: { email_address: connector.contactEmail },
      userLabels: labels,
      ...dep('monitoring'),
    });
    const metrics = {} as Record<MeteredEvent, LoggingMetric>;
    const metric = (event: MeteredEvent, id: string, label?: { key: string; from: string; description: string }) =>
      (metrics[event] = new LoggingMetric(this, `metric-${id}`, {
        project,
        name: metricName(connector.name, event),
        description: `Log entries of '${connector.name}' with event=${event}${label ? `, by ${label.key}` : ''}`,
        filter: metricFilter(connector.name, event),
        metricDescriptor: {
          metricKind: 'DELTA',
          valueType: 'INT64',
          unit: '1',
          ...(label ? { labels: [{ key: label.key, valueType: 'STRING', description: label.description }] } : {}),
        },
        ...(label ? { labelExtractors: { [label.key]: `EXTRACT(${label.from})` } } : {}),
        ...dep('logging'),
      }));
    /** A threshold condition: the sum over `alignmentSeconds` above `threshold`, held for `durationSeconds`. */
    const over = (
      displayName: string,
      filter: string,
      threshold: number,
      alignmentSeconds: number,
      duration: number,
    ): MonitoringAlertPolicyConditions => ({
      displayName,
      conditionThreshold: {
        filter,
        comparison: 'COMPARISON_GT',
        thresholdValue: threshold,
        duration: `${duration}s`,
        aggregations: [
          { alignmentPeriod: `${alignmentSeconds}s`, perSeriesAligner: 'ALIGN_SUM', crossSeriesReducer: 'REDUCE_SUM' },
        ],
        trigger: { count: 1 },
      },
    });
    const alert = (
      id: string,
      info: { title: string; severity: string; what: string },
      conditions: MonitoringAlertPolicyConditions[],
    ) =>
      new MonitoringAlertPolicy(this, `alert-${id}`, {
        project,
        displayName: `Currents ${env.name}/${connector.name}: ${info.title}`,
        combiner: 'OR',
        severity: info.severity,
        userLabels: labels,
        notificationChannels: [this.notificationChannel.name],
        conditions,
        alertStrategy: { autoClose: '1800s' },
        documentation: {
          mimeType: 'text/markdown',
          subject: `Currents → Segment ${env.name}/${connector.name}: ${info.title}`,
          content: `${info.what}\n\nConnector \`${connector.name}\` (${connector.displayName}), environment \`${env.name}\`, project \`${project}\`.`,
        },
        ...dep('monitoring'),
      });
    const userMetric = (m: LoggingMetric) =>
      `metric.type="logging.googleapis.com/user/${m.name}" AND resource.type="cloud_run_revision"`;

    const alerts = {} as Record<AlertedEvent, MonitoringAlertPolicy>;
    for (const event of Object.keys(ALERTED_EVENTS) as AlertedEvent[]) {
      const info = ALERTED_EVENTS[event];
      const m = metric(event, info.metric);
      alerts[event] = alert(info.metric, info, [
        over(`${info.title} logged by ${names.function}`, userMetric(m), 0, 300, 0),
      ]);
    }

    const requests = RECEIVER_EVENTS.receiver_request;
    const receiverMetric = metric('receiver_request', requests.metric, {
      key: requests.label,
      from: `jsonPayload.${requests.label}`,
      description: 'HTTP status the receiver answered',
    });
    const byStatus = (status: string) => `${userMetric(receiverMetric)} AND metric.label.${requests.label}=${status}`;
    const errors = requests.alerts['server-errors'];
    const refusals = requests.alerts.refusals;
    this.receiverAlerts = {
      'server-errors': alert('receiver-server-errors', errors, [
        over(
          `${names.receiverFunction} answered 5xx (its log)`,
          byStatus(errors.status),
          0,
          errors.alignmentSeconds,
          errors.durationSeconds,
        ),
        over(
          `${names.receiverFunction} answered 5xx (Cloud Run: also crashes and timeouts)`,
          'metric.type="run.googleapis.com/request_count" AND resource.type="cloud_run_revision" AND ' +
            `resource.label.service_name="${names.receiverFunction}" AND metric.label.response_code_class="5xx"`,
          0,
          errors.alignmentSeconds,
          errors.durationSeconds,
        ),
      ]),
      refusals: alert('receiver-refusals', refusals, [
        over(
          `${names.receiverFunction} refused more than ${receiver.refusalsAlertThreshold} requests in ${refusals.alignmentSeconds / 60} minutes`,
          byStatus(refusals.status),
          receiver.refusalsAlertThreshold,
          refusals.alignmentSeconds,
          refusals.durationSeconds,
        ),
      ]),
    };
    this.metrics = metrics;
    this.alerts = alerts;

    // --- The dashboard's own metrics: distributions of the handled messages' counts and Segment time, counters by
    // Segment's worst answer and by the credential state entered.
    const dashboardMetrics = {} as Record<DashboardMetricId, LoggingMetric>;
    for (const id of Object.keys(DASHBOARD_METRICS) as DashboardMetricId[]) {
      const m: DashboardMetric = DASHBOARD_METRICS[id];
      dashboardMetrics[id] = new LoggingMetric(this, `dashboard-metric-${id}`, {
        project,
        name: dashboardMetricName(connector.name, id),
        description: `${m.description} ('${connector.name}')`,
        filter: dashboardMetricFilter(connector.name, id),
        metricDescriptor: {
          metricKind: 'DELTA',
          valueType: m.value ? 'DISTRIBUTION' : 'INT64',
          unit: m.unit ?? '1',
          ...(m.label ? { labels: [{ key: m.label.key, valueType: 'STRING', description: m.description }] } : {}),
        },
        ...(m.value
          ? {
              valueExtractor: `EXTRACT(jsonPayload.${m.value})`,
              // 0, 1, 2, 4 … 2^20: event counts per message and milliseconds alike.
              bucketOptions: { exponentialBuckets: { numFiniteBuckets: 21, growthFactor: 2, scale: 1 } },
            }
          : {}),
        ...(m.label ? { labelExtractors: { [m.label.key]: `EXTRACT(jsonPayload.${m.label.from})` } } : {}),
        ...dep('logging'),
      });
    }
    this.dashboardMetrics = dashboardMetrics;

    // --- The live storage import (infra/storage-import.ts), with `storage` only.
    if (connector.storage && props.importerSource) {
      this.storageImport = new StorageImport(this, 'storage-import', {
        connector: { ...connector, storage: connector.storage },
        environment: env,
        source: props.importerSource,
        runtime: props.runtime ?? CONNECTOR_DEFAULTS.runtime,
        labels,
        ingestTopic: this.ingestTopic,
        pushServiceAccount: pushSa,
        notificationChannel: this.notificationChannel.name,
        firestoreCondition: firestoreDatabaseCondition(project, names.firestoreDatabase),
        dependsOn: (...apis) => dep(...(apis as ConnectorApi[])),
      });
    }
  }
}
