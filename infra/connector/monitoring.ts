/**
 * A connector's monitoring: the email channel for its contact, one log-based metric per counted log event of its
 * function (infra/connector/events.ts), and an alert policy on each, created once
 * the new metrics can be queried (a `time_sleep` after them: ../metrics-settle.ts). Its workspace's door has its own (infra/door.ts),
 * sent to the contacts of the workspace's connectors.
 */
import { LoggingMetric } from '@cdktf/provider-google/lib/logging-metric';
import {
  MonitoringAlertPolicy,
  type MonitoringAlertPolicyConditions,
} from '@cdktf/provider-google/lib/monitoring-alert-policy';
import { MonitoringNotificationChannel } from '@cdktf/provider-google/lib/monitoring-notification-channel';
import { metricsQueryable } from '../metrics-settle';
import { ALERTED_EVENTS, type AlertedEvent, metricFilter, metricName } from './events';
import { type ConnectorContext, dependsOnAlso } from './props';

export interface ConnectorMonitoring {
  readonly notificationChannel: MonitoringNotificationChannel;
  readonly metrics: Record<AlertedEvent, LoggingMetric>;
  readonly alerts: Record<AlertedEvent, MonitoringAlertPolicy>;
}

/** A threshold condition: the sum over `alignmentSeconds` above `threshold`, held for `durationSeconds`. */
export function over(
  displayName: string,
  filter: string,
  threshold: number,
  alignmentSeconds: number,
  duration: number,
): MonitoringAlertPolicyConditions {
  return {
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
  };
}

export const userMetric = (m: LoggingMetric) =>
  `metric.type="logging.googleapis.com/user/${m.name}" AND resource.type="cloud_run_revision"`;

export function buildMonitoring(ctx: ConnectorContext): ConnectorMonitoring {
  const { scope, project, connector, names, labels, environment: env } = ctx;
  const notificationChannel = new MonitoringNotificationChannel(scope, 'contact-channel', {
    project,
    type: 'email',
    displayName: `Currents ${env.name}/${connector.name}: ${connector.contactEmail}`,
    description: `Credential failures, expiry, dead letters of '${connector.displayName}' and faults of its workspace's door`,
    labels: { email_address: connector.contactEmail },
    userLabels: labels,
    ...ctx.dep('monitoring'),
  });
  const metrics = {} as Record<AlertedEvent, LoggingMetric>;
  const metric = (event: AlertedEvent, id: string) =>
    (metrics[event] = new LoggingMetric(scope, `metric-${id}`, {
      project,
      name: metricName(connector.name, event),
      description: `Log entries of '${connector.name}' with event=${event}`,
      filter: metricFilter(connector.name, event, Boolean(connector.storage && ctx.props.importerSource)),
      metricDescriptor: { metricKind: 'DELTA', valueType: 'INT64', unit: '1' },
      ...ctx.dep('logging'),
    }));
  // Every metric is declared before the first policy: the policies wait until they can be queried (../metrics-settle.ts).
  for (const event of Object.keys(ALERTED_EVENTS) as AlertedEvent[]) metric(event, ALERTED_EVENTS[event].metric);
  const queryable = metricsQueryable(scope, 'metrics-queryable', Object.values(metrics));
  const alert = (
    id: string,
    info: { title: string; severity: string; what: string },
    conditions: MonitoringAlertPolicyConditions[],
  ) =>
    new MonitoringAlertPolicy(scope, `alert-${id}`, {
      project,
      displayName: `Currents ${env.name}/${connector.name}: ${info.title}`,
      combiner: 'OR',
      severity: info.severity,
      userLabels: labels,
      notificationChannels: [notificationChannel.name],
      conditions,
      alertStrategy: { autoClose: '1800s' },
      documentation: {
        mimeType: 'text/markdown',
        subject: `Currents → Segment ${env.name}/${connector.name}: ${info.title}`,
        content: `${info.what}\n\nConnector \`${connector.name}\` (${connector.displayName}), environment \`${env.name}\`, project \`${project}\`.`,
      },
      ...dependsOnAlso(ctx.dep('monitoring'), [queryable]),
    });

  const alerts = {} as Record<AlertedEvent, MonitoringAlertPolicy>;
  for (const event of Object.keys(ALERTED_EVENTS) as AlertedEvent[]) {
    const info = ALERTED_EVENTS[event];
    const m = metrics[event];
    alerts[event] = alert(info.metric, info, [
      over(`${info.title} logged by ${names.function}`, userMetric(m), 0, 300, 0),
    ]);
  }

  return { notificationChannel, metrics, alerts };
}
