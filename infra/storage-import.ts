/**
 * The live storage import of one connector (declared only when its definition has `storage: { bucket, prefix }`):
 *
 *   Braze ─writes Avro files─▶ bucket ─notification (OBJECT_FINALIZE, prefix)─▶ notify topic ─push (OIDC)─▶ importer
 *   importer (own 2nd-gen function, own account) ─reads the object─▶ publishes chunks ─▶ the connector's ingest topic
 *
 * Why its own function rather than a route of the connector's function: reading the bucket is a grant the function's
 * account must not have (it holds the Segment credential), an import runs for minutes where a delivery runs for seconds
 * (its own timeout, ack deadline and instance count), and a stuck import never takes the delivery path's instances.
 *
 * IAM, each grant on the one resource it concerns: the importer reads objects of that bucket only, conditioned on the
 * prefix (an IAM condition on `resource.name`; the bucket must use uniform bucket-level access, which conditions need),
 * publishes on the connector's ingest topic, and uses the connector's Firestore database (progress per object). The
 * project's Cloud Storage service agent publishes on the notify topic; the connector's push identity invokes the
 * importer. Alerts: a damaged file (`storage_import_failed` logged) and a notification left unacknowledged for an hour
 * (imports failing or stuck).
 */
import { type ITerraformDependable } from 'cdktf';
import { Construct } from 'constructs';
import { CloudRunV2ServiceIamMember } from '@cdktf/provider-google/lib/cloud-run-v2-service-iam-member';
import { Cloudfunctions2Function } from '@cdktf/provider-google/lib/cloudfunctions2-function';
import { DataGoogleStorageProjectServiceAccount } from '@cdktf/provider-google/lib/data-google-storage-project-service-account';
import { LoggingMetric } from '@cdktf/provider-google/lib/logging-metric';
import { MonitoringAlertPolicy } from '@cdktf/provider-google/lib/monitoring-alert-policy';
import { ProjectIamMember } from '@cdktf/provider-google/lib/project-iam-member';
import { PubsubSubscription } from '@cdktf/provider-google/lib/pubsub-subscription';
import { PubsubTopic } from '@cdktf/provider-google/lib/pubsub-topic';
import { PubsubTopicIamMember } from '@cdktf/provider-google/lib/pubsub-topic-iam-member';
import { ServiceAccount } from '@cdktf/provider-google/lib/service-account';
import { StorageBucketIamMember } from '@cdktf/provider-google/lib/storage-bucket-iam-member';
import { StorageNotification } from '@cdktf/provider-google/lib/storage-notification';
import type { Connector, Environment } from '../shared/connector';
import { IMPORTER_TARGET, resourceNames, storageImportNames } from '../shared/names';
import { ENV_VARS, receiverEnvironment } from '../shared/runtime-config';

/** The importer's time budget: the longest a 2nd-gen function triggered by a push may run; a longer file resumes. */
export const IMPORTER_TIMEOUT_SECONDS = 540;

export interface StorageImportProps {
  readonly connector: Connector & { storage: NonNullable<Connector['storage']> };
  readonly environment: Pick<Environment, 'name' | 'project' | 'region'>;
  readonly source: { readonly bucket: string; readonly object: string };
  readonly runtime: string;
  readonly labels: Record<string, string>;
  readonly ingestTopic: PubsubTopic;
  /** The backfill's own topic (infra/connector/backfill.ts): the backfill importer publishes there. */
  readonly backfillTopic: PubsubTopic;
  /** The connector's push identity (it invokes the importer too). */
  readonly pushServiceAccount: ServiceAccount;
  readonly notificationChannel: string;
  readonly firestoreCondition: { title: string; description: string; expression: string };
  readonly dependsOn: (...apis: string[]) => { dependsOn?: ITerraformDependable[] };
}

/** The IAM condition limiting object reads to the prefix (the whole bucket when the prefix is empty). */
export function prefixCondition(
  bucket: string,
  prefix: string,
): { title: string; description: string; expression: string } {
  const objects = `projects/_/buckets/${bucket}/objects/${prefix ? `${prefix}/` : ''}`;
  return {
    title: 'storage-export-prefix',
    description: `Objects of gs://${bucket}/${prefix ? `${prefix}/` : ''} only`,
    expression: `resource.name.startsWith("${objects}")`,
  };
}

export class StorageImport extends Construct {
  readonly serviceAccount: ServiceAccount;
  readonly topic: PubsubTopic;
  readonly notification: StorageNotification;
  readonly importer: Cloudfunctions2Function;
  readonly subscription: PubsubSubscription;
  /** `currents import --remote` publishes a backfill's files here; its push feeds the backfill importer. */
  readonly backfillFilesTopic: PubsubTopic;
  readonly backfillImporter: Cloudfunctions2Function;
  readonly backfillSubscription: PubsubSubscription;
  readonly alerts: Record<'failed-files' | 'backlog', MonitoringAlertPolicy>;

  constructor(scope: Construct, id: string, props: StorageImportProps) {
    super(scope, id);
    const { connector, environment: env, labels, dependsOn: dep } = props;
    const project = env.project;
    const { bucket, prefix } = connector.storage;
    const names = storageImportNames(connector.name);
    const connectorNames = resourceNames(connector.name);
    const storageLabels = { ...labels, role: 'storage-import' };

    this.serviceAccount = new ServiceAccount(this, 'importer-sa', {
      project,
      accountId: names.importerServiceAccount,
      displayName: `Currents ${connector.name}: importer`,
      description: `Runs '${names.importerFunction}', reading gs://${bucket}/${prefix} into '${connectorNames.ingestTopic}'`,
      ...dep('iam'),
    });
    const member = this.serviceAccount.member;

    this.topic = new PubsubTopic(this, 'notify-topic', {
      project,
      name: names.notificationTopic,
      labels: storageLabels,
      ...dep('pubsub'),
    });
    const gcsAgent = new DataGoogleStorageProjectServiceAccount(this, 'gcs-agent', { project });
    const agentPublisher = new PubsubTopicIamMember(this, 'gcs-agent-notify-publisher', {
      project,
      topic: this.topic.name,
      role: 'roles/pubsub.publisher',
      member: `serviceAccount:${gcsAgent.emailAddress}`,
    });
    this.notification = new StorageNotification(this, 'notification', {
      bucket,
      topic: this.topic.id,
      payloadFormat: 'JSON_API_V1',
      eventTypes: ['OBJECT_FINALIZE'],
      ...(prefix ? { objectNamePrefix: `${prefix}/` } : {}),
      customAttributes: { connector: connector.name },
      dependsOn: [agentPublisher],
    });

    const importer = (id: string, name: string, maxInstances: number, vars: Record<string, string>, what: string) =>
      new Cloudfunctions2Function(this, id, {
        project,
        name,
        location: env.region,
        description: `Braze storage export gs://${bucket}/${prefix} → ${what} for '${connector.displayName}'`,
        labels: storageLabels,
        buildConfig: {
          runtime: props.runtime,
          entryPoint: IMPORTER_TARGET,
          source: { storageSource: { bucket: props.source.bucket, object: props.source.object } },
        },
        serviceConfig: {
          serviceAccountEmail: this.serviceAccount.email,
          ingressSettings: 'ALLOW_INTERNAL_ONLY',
          allTrafficOnLatestRevision: true,
          availableMemory: '512Mi',
          timeoutSeconds: IMPORTER_TIMEOUT_SECONDS,
          minInstanceCount: 0,
          maxInstanceCount: maxInstances,
          environmentVariables: vars,
        },
        ...dep('cloudfunctions', 'run', 'cloudbuild', 'artifactregistry'),
      });
    const importerEnv = receiverEnvironment(env, connector, IMPORTER_TIMEOUT_SECONDS);
    this.importer = importer('importer', names.importerFunction, 5, importerEnv, connectorNames.ingestTopic);
    // The backfill importer: the same code and account, its own instances (one file each at once), publishing on the
    // backfill topic (CURRENTS_IMPORTER_ROLE), so that a backfill never takes the live import's instances.
    this.backfillImporter = importer(
      'backfill-importer',
      names.backfillImporterFunction,
      connector.backfill.importers,
      { ...importerEnv, [ENV_VARS.importerRole]: 'backfill' },
      `${names.backfillTopic} (backfills)`,
    );
    // Pub/Sub's maximum ack deadline: an import runs up to the importer's timeout; a redelivery resumes after what was
    // published. The same policy for the live notifications and a backfill's files.
    const pushTo = (id: string, name: string, topic: PubsubTopic, fn: Cloudfunctions2Function, l: typeof labels) =>
      new PubsubSubscription(this, id, {
        project,
        name,
        topic: topic.id,
        labels: l,
        ackDeadlineSeconds: 600,
        messageRetentionDuration: '604800s',
        expirationPolicy: { ttl: '' },
        retryPolicy: { minimumBackoff: '10s', maximumBackoff: '600s' },
        pushConfig: {
          pushEndpoint: fn.serviceConfig.uri,
          oidcToken: { serviceAccountEmail: props.pushServiceAccount.email, audience: fn.serviceConfig.uri },
        },
        ...dep('pubsub'),
      });
    this.subscription = pushTo(
      'import-subscription',
      names.notificationSubscription,
      this.topic,
      this.importer,
      storageLabels,
    );
    this.backfillFilesTopic = new PubsubTopic(this, 'backfill-files-topic', {
      project,
      name: names.backfillFilesTopic,
      labels: { ...storageLabels, role: 'backfill' },
      ...dep('pubsub'),
    });
    this.backfillSubscription = pushTo(
      'backfill-import-subscription',
      names.backfillFilesSubscription,
      this.backfillFilesTopic,
      this.backfillImporter,
      { ...storageLabels, role: 'backfill' },
    );

    // --- IAM.
    new StorageBucketIamMember(this, 'importer-object-viewer', {
      bucket,
      role: 'roles/storage.objectViewer',
      member,
      condition: prefixCondition(bucket, prefix),
    });
    new PubsubTopicIamMember(this, 'importer-ingest-publisher', {
      project,
      topic: props.ingestTopic.name,
      role: 'roles/pubsub.publisher',
      member,
    });
    new PubsubTopicIamMember(this, 'importer-backfill-publisher', {
      project,
      topic: props.backfillTopic.name,
      role: 'roles/pubsub.publisher',
      member,
    });
    new ProjectIamMember(this, 'importer-datastore-user', {
      project,
      role: 'roles/datastore.user',
      member,
      condition: props.firestoreCondition,
      ...dep('cloudresourcemanager'),
    });
    for (const [id, fn] of [
      ['push-importer-invoker', this.importer],
      ['push-backfill-importer-invoker', this.backfillImporter],
    ] as const) {
      new CloudRunV2ServiceIamMember(this, id, {
        project,
        location: env.region,
        name: fn.name,
        role: 'roles/run.invoker',
        member: props.pushServiceAccount.member,
        ...dep('run'),
      });
    }

    // --- Alerts.
    const failed = new LoggingMetric(this, 'metric-import-failed', {
      project,
      name: `${connectorNames.function}-storage-import-failed`,
      description: `Damaged storage-export files of '${connector.name}' (event=storage_import_failed)`,
      filter:
        `resource.type="cloud_run_revision" AND resource.labels.service_name="${names.importerFunction}" AND ` +
        `jsonPayload.event="storage_import_failed" AND jsonPayload.connector="${connector.name}"`,
      metricDescriptor: { metricKind: 'DELTA', valueType: 'INT64', unit: '1' },
      ...dep('logging'),
    });
    const policy = (
      key: string,
      title: string,
      what: string,
      filter: string,
      threshold: number,
      aligner: string,
      duration: string,
    ) =>
      new MonitoringAlertPolicy(this, `alert-${key}`, {
        project,
        displayName: `Currents ${env.name}/${connector.name}: ${title}`,
        combiner: 'OR',
        severity: 'ERROR',
        userLabels: labels,
        notificationChannels: [props.notificationChannel],
        conditions: [
          {
            displayName: title,
            conditionThreshold: {
              filter,
              comparison: 'COMPARISON_GT',
              thresholdValue: threshold,
              duration,
              aggregations: [{ alignmentPeriod: '300s', perSeriesAligner: aligner }],
              trigger: { count: 1 },
            },
          },
        ],
        alertStrategy: { autoClose: '1800s' },
        documentation: {
          mimeType: 'text/markdown',
          subject: `Currents → Segment ${env.name}/${connector.name}: ${title}`,
          content: `${what}\n\nConnector \`${connector.name}\` (${connector.displayName}), environment \`${env.name}\`, project \`${project}\`.`,
        },
        ...dep('monitoring'),
      });
    this.alerts = {
      'failed-files': policy(
        'storage-import-failed',
        'damaged storage-export file',
        'The importer found a damaged or truncated Avro file (its log line storage_import_failed names the object, the ' +
          'byte offset and the records before the damage, which were delivered). The file is marked failed; once Braze ' +
          'has rewritten it, `currents import` over its hour imports the rest.',
        `metric.type="logging.googleapis.com/user/${failed.name}" AND resource.type="cloud_run_revision"`,
        0,
        'ALIGN_SUM',
        '0s',
      ),
      backlog: policy(
        'storage-import-backlog',
        'storage import stuck',
        'A new-file notification has waited more than an hour: the importer keeps failing (Pub/Sub or Cloud Storage ' +
          'unreachable, missing access to the bucket) and each redelivery resumes where it stopped. Check the importer ' +
          'logs (event internal_error). Nothing is lost while the notification is retained (7 days).',
        `metric.type="pubsub.googleapis.com/subscription/oldest_unacked_message_age" AND resource.type="pubsub_subscription" AND resource.label.subscription_id="${names.notificationSubscription}"`,
        3600,
        'ALIGN_MAX',
        '300s',
      ),
    };
  }
}
