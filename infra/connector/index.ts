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
import type { ServiceAccount } from '@cdktf/provider-google/lib/service-account';
import { resourceNames, type ConnectorResourceNames } from '../../shared/names';
import { receiverEnvironment } from '../../shared/runtime-config';
import type { DashboardMetricId } from '../dashboard-metrics';
import { StorageImport } from '../storage-import';
import { buildBackfillDelivery, type BackfillDelivery } from './backfill';
import { TerraformLiteralStrings } from '../terraform-literals';
import { buildDashboardMetrics } from './dashboard-metrics';
import type { AlertedEvent, MeteredEvent, ReceiverAlert } from './events';
import { buildFunction, buildProbeJob } from './function';
import {
  buildCallerGrants,
  buildFunctionIam,
  buildFunctionServiceAccounts,
  type FunctionServiceAccounts,
} from './identity';
import { buildPushSubscription, buildTopics } from './messaging';
import { buildMonitoring } from './monitoring';
import { connectorContext, type ConnectorApi, type CurrentsConnectorProps } from './props';
import { buildReceiver } from './receiver';
import { buildState, firestoreDatabaseCondition } from './state';
import { resolveConnectorProps } from './validate';

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
  /** The hash key of `fields.hashAlgorithm: 'hmac-sha256'` (that connector only; Terraform never creates a version). */
  readonly hashKeySecret?: SecretManagerSecret;
  /** Every enabled version is a bearer token the receiver accepts; Terraform never creates one. */
  readonly ingestTokenSecret: SecretManagerSecret;
  readonly probeJob: CloudSchedulerJob;
  readonly notificationChannel: MonitoringNotificationChannel;
  readonly serviceAccounts: FunctionServiceAccounts & { readonly receiver: ServiceAccount };
  readonly metrics: Record<MeteredEvent, LoggingMetric>;
  /** The metrics only the environment's dashboard draws (infra/dashboard-metrics.ts). */
  readonly dashboardMetrics: Record<DashboardMetricId, LoggingMetric>;
  readonly alerts: Record<AlertedEvent, MonitoringAlertPolicy>;
  readonly receiverAlerts: Record<ReceiverAlert, MonitoringAlertPolicy>;
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

    const receiver = buildReceiver({
      scope: this,
      project: env.project,
      region: ctx.location,
      names,
      ingestTopic: this.ingestTopic,
      serves: connector,
      settings: props.receiver,
      source: props.receiverSource,
      runtime: props.runtime,
      build: props.build,
      environmentVariables: receiverEnvironment(env, connector, props.receiver.timeoutSeconds),
      labels: ctx.labels,
      dep: ctx.dep,
    });
    this.receiver = receiver.function;
    this.ingestTokenSecret = receiver.ingestTokenSecret;
    this.serviceAccounts = { ...accounts, receiver: receiver.serviceAccount };

    const monitoring = buildMonitoring(ctx);
    this.notificationChannel = monitoring.notificationChannel;
    this.metrics = monitoring.metrics;
    this.alerts = monitoring.alerts;
    this.receiverAlerts = monitoring.receiverAlerts;
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
