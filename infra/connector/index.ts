/**
 * `CurrentsConnector`: everything one connector becomes on Google Cloud, as one construct (in the manner of AWS
 * Solutions Constructs' aws-sqs-lambda and Cloud Foundation Fabric's cloud-function-v2 + pubsub modules):
 *
 *   Braze ─HTTPS POST, bearer token─▶ its workspace's door (infra/door.ts) ─publish─▶ ingest topic
 *   ingest topic ─push (OIDC, backoff, dead-letter policy)─▶ 2nd-gen function ─▶ Segment
 *        └─ after deadLetterMaxAttempts ─▶ dead-letter topic ─▶ retained pull subscription (replay)
 *   Cloud Scheduler ─(every few minutes, OIDC)─▶ function /probe
 *   function ─▶ its own Firestore database (state + parked events, TTL on the expiry field) and its credential secret
 *   log-based metrics ─▶ alert policies ─▶ email channel for contactEmail
 *
 * Every prop documents its default; the defaults are the secure ones (internal-only ingress for the function, a
 * dedicated service account per workload with only the roles the infrastructure spec lists, delete protection on). The
 * door Braze posts to belongs to the workspace, not to the connector: the environment's stack declares one per
 * workspace (infra/door.ts) with the `receiver` settings resolved here (`receiverSettings`). Props are checked in ONE place
 * (`validateConnectorProps`, infra/connector/validate.ts) and every problem is reported at once.
 */
import { Aspects } from 'cdktf';
import { Construct } from 'constructs';
import type { CloudSchedulerJob } from '@cdktf/provider-google/lib/cloud-scheduler-job';
import type { Cloudfunctions2Function } from '@cdktf/provider-google/lib/cloudfunctions2-function';
import type { FirestoreDatabase } from '@cdktf/provider-google/lib/firestore-database';
import type { LoggingMetric } from '@cdktf/provider-google/lib/logging-metric';
import type { MonitoringAlertPolicy } from '@cdktf/provider-google/lib/monitoring-alert-policy';
import type { MonitoringNotificationChannel } from '@cdktf/provider-google/lib/monitoring-notification-channel';
import type { PubsubSubscription } from '@cdktf/provider-google/lib/pubsub-subscription';
import type { PubsubTopic } from '@cdktf/provider-google/lib/pubsub-topic';
import type { SecretManagerSecret } from '@cdktf/provider-google/lib/secret-manager-secret';
import { resourceNames, type ConnectorResourceNames } from '../../shared/names';
import type { DashboardMetricId } from '../dashboard-metrics';
import { StorageImport } from '../storage-import';
import { buildBackfillDelivery, type BackfillDelivery } from './backfill';
import { TerraformLiteralStrings } from '../terraform-literals';
import { buildDashboardMetrics } from './dashboard-metrics';
import type { AlertedEvent } from './events';
import { buildFunction, buildProbeJob } from './function';
import {
  buildCallerGrants,
  buildFunctionIam,
  buildFunctionServiceAccounts,
  type FunctionServiceAccounts,
} from './identity';
import { buildPushSubscription, buildTopics } from './messaging';
import { buildMonitoring } from './monitoring';
import { connectorContext, type ConnectorApi, type CurrentsConnectorProps, type ReceiverProps } from './props';
import { buildState, firestoreDatabaseCondition } from './state';
import { resolveConnectorProps } from './validate';

export class CurrentsConnector extends Construct {
  readonly names: ConnectorResourceNames;
  readonly ingestTopic: PubsubTopic;
  readonly deadLetterTopic: PubsubTopic;
  readonly deadLetterSubscription: PubsubSubscription;
  readonly pushSubscription: PubsubSubscription;
  readonly function: Cloudfunctions2Function;
  readonly database: FirestoreDatabase;
  readonly secret: SecretManagerSecret;
  /** The hash key of `fields.hashAlgorithm: 'hmac-sha256'` (that connector only; Terraform never creates a version). */
  readonly hashKeySecret?: SecretManagerSecret;
  readonly probeJob: CloudSchedulerJob;
  readonly notificationChannel: MonitoringNotificationChannel;
  readonly serviceAccounts: FunctionServiceAccounts;
  /** The door settings resolved from the props (`receiver`), for its workspace's door (infra/door.ts). */
  readonly receiverSettings: Required<ReceiverProps>;
  /** The Cloud Functions runtime resolved from the props (its workspace's door runs on the same). */
  readonly runtime: string;
  readonly metrics: Record<AlertedEvent, LoggingMetric>;
  /** The metrics only the environment's dashboard draws (infra/dashboard-metrics.ts). */
  readonly dashboardMetrics: Record<DashboardMetricId, LoggingMetric>;
  readonly alerts: Record<AlertedEvent, MonitoringAlertPolicy>;
  /** The live storage import (only for a connector with `storage`). */
  readonly storageImport?: StorageImport;
  /** A backfill's own topic, function and push (only for a connector with `storage`): infra/connector/backfill.ts. */
  readonly backfill?: BackfillDelivery;

  constructor(scope: Construct, id: string, given: CurrentsConnectorProps) {
    super(scope, id);
    const props = resolveConnectorProps(given);
    // Its literal strings written as Terraform reads them (`${` as `$${`), also where it is used outside a stack of ours.
    Aspects.of(this).add(new TerraformLiteralStrings());
    const { connector, environment: env } = props;
    const names = (this.names = resourceNames(connector.name));
    const ctx = connectorContext(this, props, names);

    const accounts = buildFunctionServiceAccounts(ctx);
    const topics = buildTopics(ctx);
    this.ingestTopic = topics.ingestTopic;
    this.deadLetterTopic = topics.deadLetterTopic;
    this.deadLetterSubscription = topics.deadLetterSubscription;
    ({ database: this.database, secret: this.secret, hashKeySecret: this.hashKeySecret } = buildState(ctx));

    this.function = buildFunction(ctx, accounts.runtime);
    const url = this.function.serviceConfig.uri;
    const callers = buildCallerGrants(ctx, accounts, this.function);
    this.pushSubscription = buildPushSubscription(ctx, topics, url, accounts.push, callers.push);
    this.probeJob = buildProbeJob(ctx, url, accounts.scheduler, callers.scheduler);
    buildFunctionIam(ctx, {
      ...topics,
      accounts,
      secret: this.secret,
      hashKeySecret: this.hashKeySecret,
      pushSubscription: this.pushSubscription,
    });

    this.serviceAccounts = accounts;
    this.receiverSettings = props.receiver;
    this.runtime = props.runtime;

    const monitoring = buildMonitoring(ctx);
    this.notificationChannel = monitoring.notificationChannel;
    this.metrics = monitoring.metrics;
    this.alerts = monitoring.alerts;
    this.dashboardMetrics = buildDashboardMetrics(ctx);

    // The live storage import (infra/storage-import.ts) and a backfill's own path, with `storage` only.
    if (connector.storage && props.importerSource) {
      this.backfill = buildBackfillDelivery(ctx, accounts, topics, callers.push);
      this.storageImport = new StorageImport(this, 'storage-import', {
        connector: { ...connector, storage: connector.storage },
        environment: env,
        source: props.importerSource,
        runtime: props.runtime,
        build: props.build,
        labels: ctx.labels,
        ingestTopic: this.ingestTopic,
        backfillTopic: this.backfill.topic,
        pushServiceAccount: accounts.push,
        notificationChannel: this.notificationChannel.name,
        firestoreCondition: firestoreDatabaseCondition(env.project, names.firestoreDatabase),
        dependsOn: (...apis) => ctx.dep(...(apis as ConnectorApi[])),
      });
    }
  }
}
