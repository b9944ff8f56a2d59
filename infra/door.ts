/**
 * `WorkspaceDoor`: the door of one Braze workspace (shared/door.ts derives it from the connector definitions). Braze
 * configures one Custom Currents Export per workspace, so the receiver belongs to the workspace: one public 2nd-gen
 * function per workspace (its own URL, its own token secret, its own service account: publisher on the ingest topics
 * of the workspace's connectors and accessor on its token secret, nothing else), routing each event by type to the
 * connector that selects it. One function per workspace rather than one per environment: a token, an outage, a
 * deploy or an instance limit of one workspace never touches another's, and no account can publish on the topics of
 * a workspace it does not serve (docs/architecture.md says why).
 *
 * Its monitoring: one log-based metric counting its `receiver_request` lines by HTTP status, and two alerts (5xx for
 * 5 minutes; 401 refusals at the rate of a Current) sent to the contacts of every connector of the workspace.
 */
import { Construct } from 'constructs';
import type { Cloudfunctions2Function } from '@cdktf/provider-google/lib/cloudfunctions2-function';
import { LoggingMetric } from '@cdktf/provider-google/lib/logging-metric';
import { MonitoringAlertPolicy } from '@cdktf/provider-google/lib/monitoring-alert-policy';
import type { PubsubTopic } from '@cdktf/provider-google/lib/pubsub-topic';
import type { SecretManagerSecret } from '@cdktf/provider-google/lib/secret-manager-secret';
import type { ServiceAccount } from '@cdktf/provider-google/lib/service-account';
import type { Environment } from '../shared/connector';
import { doorLocation, type WorkspaceDoor as Door } from '../shared/door';
import { doorEnvironment } from '../shared/door-config';
import { doorMetricFilter, RECEIVER_EVENTS, type ReceiverAlert } from './connector/events';
import { over, userMetric } from './connector/monitoring';
import {
  type ConnectorApi,
  type CurrentsConnectorProps,
  type DependsOn,
  dependsOnAlso,
  type ReceiverProps,
} from './connector/props';
import { buildReceiver } from './connector/receiver';
import { metricsQueryable } from './metrics-settle';
import { TerraformLiteralStrings } from './terraform-literals';
import { Aspects, type ITerraformDependable } from 'cdktf';

export interface WorkspaceDoorProps {
  readonly environment: Pick<Environment, 'name' | 'project' | 'region'>;
  readonly door: Door;
  /** The ingest topic of each connector of the workspace, by connector name. */
  readonly ingestTopics: Readonly<Record<string, PubsubTopic>>;
  /** The notification channels of the workspace's connectors (their contacts hear about the door's alerts). */
  readonly notificationChannels: readonly string[];
  readonly settings: Required<ReceiverProps>;
  /** The receiver's source archive in Cloud Storage (bundled from runtime/receiver/function.ts). */
  readonly source: { readonly bucket: string; readonly object: string };
  readonly runtime: string;
  /** The identity its build runs as, and what the build waits for (the environment's build account, as its connectors'). */
  readonly build?: CurrentsConnectorProps['build'];
  readonly labels: Record<string, string>;
  readonly dependsOn?: Partial<Record<ConnectorApi, ITerraformDependable>>;
}

export class WorkspaceDoor extends Construct {
  readonly function: Cloudfunctions2Function;
  readonly serviceAccount: ServiceAccount;
  /** Every enabled version is a bearer token the door accepts; Terraform never creates one. */
  readonly tokenSecret: SecretManagerSecret;
  readonly requestsMetric: LoggingMetric;
  readonly alerts: Record<ReceiverAlert, MonitoringAlertPolicy>;

  constructor(scope: Construct, id: string, props: WorkspaceDoorProps) {
    super(scope, id);
    // Its literal strings written as Terraform reads them (`${` as `$${`), as a connector's are.
    Aspects.of(this).add(new TerraformLiteralStrings());
    const { door, environment: env, settings } = props;
    const project = env.project;
    const labels = { ...props.labels, workspace_door: door.id };
    const dep: DependsOn = (...apis) => {
      const list = apis.map((a) => props.dependsOn?.[a]).filter((d): d is ITerraformDependable => d !== undefined);
      return list.length ? { dependsOn: list } : {};
    };
    const receiver = buildReceiver({
      scope: this,
      project,
      // Where its connectors run (validated to be one location per workspace: shared/door.ts doorLocationClashes).
      region: doorLocation(door, env),
      names: door.names,
      ingestTopics: door.connectors.map((c) => ({ connector: c.name, topic: props.ingestTopics[c.name]! })),
      serves: { name: door.workspace, displayName: door.connectors.map((c) => c.name).join(', ') },
      settings,
      source: props.source,
      runtime: props.runtime,
      build: props.build,
      environmentVariables: doorEnvironment(env, door, settings.timeoutSeconds),
      labels,
      dep,
    });
    this.function = receiver.function;
    this.serviceAccount = receiver.serviceAccount;
    this.tokenSecret = receiver.tokenSecret;

    const requests = RECEIVER_EVENTS.receiver_request;
    const metric = (this.requestsMetric = new LoggingMetric(this, 'metric-requests', {
      project,
      name: door.names.requestsMetric,
      description: `Answers of the door of Braze workspace '${door.workspace}', by ${requests.label}`,
      filter: doorMetricFilter(door.workspace),
      metricDescriptor: {
        metricKind: 'DELTA',
        valueType: 'INT64',
        unit: '1',
        labels: [{ key: requests.label, valueType: 'STRING', description: 'HTTP status the door answered' }],
      },
      labelExtractors: { [requests.label]: `EXTRACT(jsonPayload.${requests.label})` },
      ...dep('logging'),
    }));
    // The policies wait until the new metric can be queried (./metrics-settle.ts).
    const queryable = metricsQueryable(this, 'metrics-queryable', [metric]);
    const byStatus = (status: string) => `${userMetric(metric)} AND metric.label.${requests.label}=${status}`;
    const fn = door.names.function;
    const alert = (key: ReceiverAlert, conditions: ReturnType<typeof over>[]) => {
      const info = requests.alerts[key];
      return new MonitoringAlertPolicy(this, `alert-receiver-${key}`, {
        project,
        displayName: `Currents ${env.name}/door ${door.workspace}: ${info.title}`,
        combiner: 'OR',
        severity: info.severity,
        userLabels: labels,
        notificationChannels: [...props.notificationChannels],
        conditions,
        alertStrategy: { autoClose: '1800s' },
        documentation: {
          mimeType: 'text/markdown',
          subject: `Currents → Segment ${env.name}/door ${door.workspace}: ${info.title}`,
          content:
            `${info.what}\n\nDoor \`${fn}\` of Braze workspace \`${door.workspace}\` (connectors ` +
            `${door.connectors.map((c) => `\`${c.name}\``).join(', ')}), environment \`${env.name}\`, project \`${project}\`.`,
        },
        ...dependsOnAlso(dep('monitoring'), [queryable]),
      });
    };
    const errors = requests.alerts['server-errors'];
    const refusals = requests.alerts.refusals;
    const threshold = settings.refusalsAlertThreshold;
    this.alerts = {
      'server-errors': alert('server-errors', [
        over(
          `${fn} answered 5xx (its log)`,
          byStatus(errors.status),
          0,
          errors.alignmentSeconds,
          errors.durationSeconds,
        ),
        over(
          `${fn} answered 5xx (Cloud Run: also crashes and timeouts)`,
          'metric.type="run.googleapis.com/request_count" AND resource.type="cloud_run_revision" AND ' +
            `resource.label.service_name="${fn}" AND metric.label.response_code_class="5xx"`,
          0,
          errors.alignmentSeconds,
          errors.durationSeconds,
        ),
      ]),
      refusals: alert('refusals', [
        over(
          `${fn} refused more than ${threshold} requests in ${refusals.alignmentSeconds / 60} minutes`,
          byStatus(refusals.status),
          threshold,
          refusals.alignmentSeconds,
          refusals.durationSeconds,
        ),
      ]),
    };
  }
}
