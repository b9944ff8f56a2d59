/**
 * `CurrentsConnector`: everything one connector becomes on Google Cloud, as one construct (in the manner of AWS
 * Solutions Constructs' aws-sqs-lambda and Cloud Foundation Fabric's cloud-function-v2 + pubsub modules):
 *
 *   ingest topic ─push (OIDC, backoff, dead-letter policy)─▶ 2nd-gen function ─▶ Segment
 *        └─ after deadLetterMaxAttempts ─▶ dead-letter topic ─▶ retained pull subscription (replay)
 *   Cloud Scheduler ─(every few minutes, OIDC)─▶ function /probe
 *   function ─▶ its own Firestore database (state + parked events, TTL on the expiry field) and its credential secret
 *   log-based metrics ─▶ alert policies ─▶ email channel for contactEmail
 *
 * Every prop documents its default; the defaults are the secure ones (internal-only ingress, a dedicated service account
 * per workload with only the roles the infrastructure spec lists, delete protection on). Props are checked in ONE place
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
import { MonitoringAlertPolicy } from '@cdktf/provider-google/lib/monitoring-alert-policy';
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
import { FIRESTORE_LAYOUT, publicApiTokenSecret, resourceNames, type ConnectorResourceNames } from '../shared/names';
import { functionEnvironment } from '../shared/runtime-config';
import { ackDeadlineFor, connectorPolicy } from '../shared/policy';
import { FUNCTION_TARGET } from './runtime-archive';

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

/** What the runtime logs (JSON, field `event`) and the infrastructure counts: one log-based metric and alert each. */
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
} as const;
export type AlertedEvent = keyof typeof ALERTED_EVENTS;

export interface CurrentsConnectorProps {
  /** The connector, validated by the shared schema (`loadEnvironments`). Re-checked here with the same schema. */
  readonly connector: Connector;
  /** The environment the connector is deployed into. */
  readonly environment: Pick<Environment, 'name' | 'project' | 'region'>;
  /** The function's source archive in Cloud Storage (built and uploaded once per environment). */
  readonly source: { readonly bucket: string; readonly object: string };
  /** Email of the project's Pub/Sub service agent, `service-PROJECT_NUMBER@gcp-sa-pubsub.iam.gserviceaccount.com`. */
  readonly pubsubServiceAgentEmail: string;
  /**
   * Cloud Functions runtime; must be nodejs22 or later.
   * @default 'nodejs22'
   */
  readonly runtime?: string;
  /**
   * The function's request time budget in seconds. The push subscription's ack deadline is this plus a 20 s margin
   * (shared/policy.ts `ackDeadlineFor`), so Pub/Sub never redelivers a message the function is still working on.
   * Between 10 and 580 (Pub/Sub's ack limit is 600).
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
  const timeout = props.timeoutSeconds ?? CONNECTOR_DEFAULTS.timeoutSeconds;
  if (!Number.isInteger(timeout) || timeout < 10 || timeout > 580) {
    problems.push(
      `timeoutSeconds ${timeout} must be a whole number between 10 and 580 (the push subscription's ack deadline is 20 s more, at most 600)`,
    );
  }
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
  return problems;
}

/** Names of the log-based metrics of a connector (derived from the shared resource names). */
export function metricName(connectorName: string, event: AlertedEvent): string {
  return `${resourceNames(connectorName).function}-${ALERTED_EVENTS[event].metric}`;
}

/** The Logging filter counting one runtime event of one connector. */
export function metricFilter(connectorName: string, event: AlertedEvent): string {
  return [
    'resource.type="cloud_run_revision"',
    `resource.labels.service_name="${resourceNames(connectorName).function}"`,
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
  readonly database: FirestoreDatabase;
  readonly secret: SecretManagerSecret;
  readonly probeJob: CloudSchedulerJob;
  readonly notificationChannel: MonitoringNotificationChannel;
  readonly serviceAccounts: {
    readonly runtime: ServiceAccount;
    readonly push: ServiceAccount;
    readonly scheduler: ServiceAccount;
  };
  readonly metrics: Record<AlertedEvent, LoggingMetric>;
  readonly alerts: Record<AlertedEvent, MonitoringAlertPolicy>;

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
    const sa = (key: 'runtime' | 'push' | 'scheduler', accountId: string, what: string) =>
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
    };
    const { runtime: runtimeSa, push: pushSa, scheduler: schedulerSa } = this.serviceAccounts;
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
        environmentVariables: functionEnvironment(env, connector),
      },
      ...dep('cloudfunctions', 'run', 'cloudbuild', 'artifactregistry'),
    });
    const url = this.function.serviceConfig.uri;

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
    const invoker = (id: string, account: ServiceAccount) =>
      new CloudRunV2ServiceIamMember(this, id, {
        project,
        location: env.region,
        name: this.function.name, // a 2nd-gen function's Cloud Run service has the function's name
        role: 'roles/run.invoker',
        member: account.member,
        ...dep('run'),
      });
    invoker('push-invoker', pushSa);
    invoker('scheduler-invoker', schedulerSa);
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
      description: `Credential failures, expiry and dead letters of '${connector.displayName}'`,
      labels: { email_address: connector.contactEmail },
      userLabels: labels,
      ...dep('monitoring'),
    });
    const metrics = {} as Record<AlertedEvent, LoggingMetric>;
    const alerts = {} as Record<AlertedEvent, MonitoringAlertPolicy>;
    for (const event of Object.keys(ALERTED_EVENTS) as AlertedEvent[]) {
      const info = ALERTED_EVENTS[event];
      const metric = new LoggingMetric(this, `metric-${info.metric}`, {
        project,
        name: metricName(connector.name, event),
        description: `Log entries of '${connector.name}' with event=${event}`,
        filter: metricFilter(connector.name, event),
        metricDescriptor: { metricKind: 'DELTA', valueType: 'INT64', unit: '1' },
        ...dep('logging'),
      });
      metrics[event] = metric;
      alerts[event] = new MonitoringAlertPolicy(this, `alert-${info.metric}`, {
        project,
        displayName: `Currents ${env.name}/${connector.name}: ${info.title}`,
        combiner: 'OR',
        severity: info.severity,
        userLabels: labels,
        notificationChannels: [this.notificationChannel.name],
        conditions: [
          {
            displayName: `${info.title} logged by ${names.function}`,
            conditionThreshold: {
              filter: `metric.type="logging.googleapis.com/user/${metric.name}" AND resource.type="cloud_run_revision"`,
              comparison: 'COMPARISON_GT',
              thresholdValue: 0,
              duration: '0s',
              aggregations: [
                { alignmentPeriod: '300s', perSeriesAligner: 'ALIGN_SUM', crossSeriesReducer: 'REDUCE_SUM' },
              ],
              trigger: { count: 1 },
            },
          },
        ],
        alertStrategy: { autoClose: '1800s' },
        documentation: {
          mimeType: 'text/markdown',
          subject: `Currents → Segment ${env.name}/${connector.name}: ${info.title}`,
          content: `${info.what}\n\nConnector \`${connector.name}\` (${connector.displayName}), environment \`${env.name}\`, project \`${project}\`.`,
        },
        ...dep('monitoring'),
      });
    }
    this.metrics = metrics;
    this.alerts = alerts;
  }
}
