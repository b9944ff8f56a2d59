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
 *
 * A backfill (`currents import --remote`) has a path of its own beside it: the period's files, notification-shaped, on
 * the backfill-files topic, pushed to the backfill importer (the same code and account, its own instances), which
 * publishes on the connector's backfill topic (infra/connector/backfill.ts), so a backfill never takes the live
 * import's instances nor queues in front of live events.
 */
import { type ITerraformDependable } from 'cdktf';
import { Construct } from 'constructs';
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
import { buildSettings, type CurrentsConnectorProps, dependsOnAlso } from './connector/props';
import { runInvoker } from './connector/identity';
import { metricsQueryable } from './metrics-settle';
import { connectorLocation } from '../shared/deployment';
import { IMPORTER_TARGET, resourceNames, storageImportNames } from '../shared/names';
import { ENV_VARS, importerEnvironment } from '../shared/runtime-config';

/** The importer's time budget: the longest a 2nd-gen function triggered by a push may run; a longer file resumes. */
export const IMPORTER_TIMEOUT_SECONDS = 540;

export interface StorageImportProps {
  readonly connector: Connector & { storage: NonNullable<Connector['storage']> };
  readonly environment: Pick<Environment, 'name' | 'project' | 'region'>;
  readonly source: { readonly bucket: string; readonly object: string };
  readonly runtime: string;
  /** The identity the importer's build runs as, and what the build waits for (CurrentsConnectorProps `build`). */
  readonly build?: CurrentsConnectorProps['build'];
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

interface Context {
  readonly props: StorageImportProps;
  readonly connector: StorageImportProps['connector'];
  readonly env: StorageImportProps['environment'];
  readonly project: string;
  readonly bucket: string;
  readonly prefix: string;
  readonly names: ReturnType<typeof storageImportNames>;
  readonly connectorNames: ReturnType<typeof resourceNames>;
  readonly storageLabels: Record<string, string>;
  readonly dep: StorageImportProps['dependsOn'];
  /** The importer handles the connector's events: it runs where the connector does. */
  readonly location: string;
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
    const { connector, environment: env, labels } = props;
    const { bucket, prefix } = connector.storage;
    const ctx: Context = {
      props,
      connector,
      env,
      project: env.project,
      bucket,
      prefix,
      names: storageImportNames(connector.name),
      connectorNames: resourceNames(connector.name),
      storageLabels: { ...labels, role: 'storage-import' },
      dep: props.dependsOn,
      location: connectorLocation(connector, env),
    };
    this.serviceAccount = this.buildServiceAccount(ctx);
    ({ topic: this.topic, notification: this.notification } = this.buildNotification(ctx));
    const importerEnv = importerEnvironment(env, connector, IMPORTER_TIMEOUT_SECONDS);
    this.importer = this.buildImporter(ctx, 'importer', ctx.names.importerFunction, 5, importerEnv);
    this.subscription = this.buildSubscription(ctx, 'import', this.topic, this.importer, ctx.storageLabels);
    this.backfillFilesTopic = new PubsubTopic(this, 'backfill-files-topic', {
      project: ctx.project,
      name: ctx.names.backfillFilesTopic,
      labels: { ...ctx.storageLabels, role: 'backfill' },
      ...ctx.dep('pubsub'),
    });
    // The backfill importer: the same code and account, its own instances (one file each at once), publishing on the
    // backfill topic (CURRENTS_IMPORTER_ROLE), so that a backfill never takes the live import's instances.
    this.backfillImporter = this.buildImporter(
      ctx,
      'backfill-importer',
      ctx.names.backfillImporterFunction,
      connector.backfill.importers,
      { ...importerEnv, [ENV_VARS.importerRole]: 'backfill' },
      `${ctx.names.backfillTopic} (backfills)`,
    );
    this.backfillSubscription = this.buildSubscription(
      ctx,
      'backfill-import',
      this.backfillFilesTopic,
      this.backfillImporter,
      { ...ctx.storageLabels, role: 'backfill' },
    );
    this.grantImporter(ctx);
    this.alerts = this.buildAlerts(ctx);
  }

  /** The importer's own service account. */
  private buildServiceAccount({ project, connector, names, bucket, prefix, connectorNames, dep }: Context) {
    return new ServiceAccount(this, 'importer-sa', {
      project,
      accountId: names.importerServiceAccount,
      displayName: `Currents ${connector.name}: importer`,
      description: `Runs '${names.importerFunction}', reading gs://${bucket}/${prefix} into '${connectorNames.ingestTopic}'`,
      ...dep('iam'),
    });
  }

  /** The notify topic, the Cloud Storage agent's grant on it, and the bucket's notification. */
  private buildNotification({ project, names, storageLabels, bucket, prefix, connector, dep }: Context) {
    const topic = new PubsubTopic(this, 'notify-topic', {
      project,
      name: names.notificationTopic,
      labels: storageLabels,
      ...dep('pubsub'),
    });
    const gcsAgent = new DataGoogleStorageProjectServiceAccount(this, 'gcs-agent', { project });
    const agentPublisher = new PubsubTopicIamMember(this, 'gcs-agent-notify-publisher', {
      project,
      topic: topic.name,
      role: 'roles/pubsub.publisher',
      member: `serviceAccount:${gcsAgent.emailAddress}`,
    });
    const notification = new StorageNotification(this, 'notification', {
      bucket,
      topic: topic.id,
      payloadFormat: 'JSON_API_V1',
      eventTypes: ['OBJECT_FINALIZE'],
      ...(prefix ? { objectNamePrefix: `${prefix}/` } : {}),
      customAttributes: { connector: connector.name },
      dependsOn: [agentPublisher],
    });
    return { topic, notification };
  }

  /** An importer function (the live one, or the backfill one publishing where `what` says). */
  private buildImporter(
    { props, project, bucket, prefix, connector, connectorNames, storageLabels, dep, location }: Context,
    id: string,
    name: string,
    maxInstances: number,
    environmentVariables: Record<string, string>,
    what = connectorNames.ingestTopic,
  ) {
    const build = buildSettings(props.build, dep('cloudfunctions', 'run', 'cloudbuild', 'artifactregistry'));
    return new Cloudfunctions2Function(this, id, {
      project,
      name,
      location,
      description: `Braze storage export gs://${bucket}/${prefix} → ${what} for '${connector.displayName}'`,
      labels: storageLabels,
      buildConfig: {
        runtime: props.runtime,
        entryPoint: IMPORTER_TARGET,
        source: { storageSource: { bucket: props.source.bucket, object: props.source.object } },
        ...build.config,
      },
      serviceConfig: {
        serviceAccountEmail: this.serviceAccount.email,
        ingressSettings: 'ALLOW_INTERNAL_ONLY',
        allTrafficOnLatestRevision: true,
        availableMemory: '512Mi',
        timeoutSeconds: IMPORTER_TIMEOUT_SECONDS,
        minInstanceCount: 0,
        maxInstanceCount: maxInstances,
        environmentVariables,
      },
      ...build.dependsOn,
    });
  }

  /**
   * The push subscription that hands each message of `topic` (a notification, or a backfill's file) to `importer`
   * (`key` names both: `<key>-subscription` and the push's invoker grant).
   */
  private buildSubscription(
    { props, project, names, dep, location }: Context,
    key: 'import' | 'backfill-import',
    topic: PubsubTopic,
    importer: Cloudfunctions2Function,
    labels: Record<string, string>,
  ) {
    const url = importer.serviceConfig.uri;
    // The push may invoke the importer before the subscription delivers anything (no 403s counted as attempts).
    const invokerId = key === 'import' ? 'push-importer-invoker' : 'push-backfill-importer-invoker';
    const invoker = runInvoker(
      { scope: this, project, dep, region: location },
      invokerId,
      importer,
      props.pushServiceAccount.member,
    );
    return new PubsubSubscription(this, `${key}-subscription`, {
      project,
      name: key === 'import' ? names.notificationSubscription : names.backfillFilesSubscription,
      topic: topic.id,
      labels,
      // Pub/Sub's maximum: an import runs up to the importer's timeout; a redelivery resumes after what was published.
      ackDeadlineSeconds: 600,
      messageRetentionDuration: '604800s',
      expirationPolicy: { ttl: '' },
      retryPolicy: { minimumBackoff: '10s', maximumBackoff: '600s' },
      pushConfig: {
        pushEndpoint: url,
        oidcToken: { serviceAccountEmail: props.pushServiceAccount.email, audience: url },
      },
      ...dependsOnAlso(dep('pubsub'), [invoker]),
    });
  }

  /** The importer's grants, each on the one resource it concerns. */
  private grantImporter({ props, project, bucket, prefix, dep }: Context): void {
    const member = this.serviceAccount.member;
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
  }

  /** The damaged-file metric and the two alert policies. */
  private buildAlerts({ props, project, env, connector, names, connectorNames, dep }: Context) {
    const { labels } = props;
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
    const queryable = metricsQueryable(this, 'metrics-queryable', [failed]);
    const policy = (
      key: string,
      title: string,
      what: string,
      filter: string,
      threshold: number,
      aligner: string,
      duration: string,
      after: ITerraformDependable[] = [],
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
        ...dependsOnAlso(dep('monitoring'), after),
      });
    return {
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
        [queryable],
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
