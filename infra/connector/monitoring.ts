/**
 * A connector's monitoring: the email channel for its contact, one log-based metric per counted log event
 * (infra/connector/events.ts), and the alert policies on them: one per alerted event of the function, and the
 * receiver's (5xx answered, 401 refusals at the rate of a Current), created once the new metrics can be queried
 * (a `time_sleep` after them: ../metrics-settle.ts).
 */
import { LoggingMetric } from '@cdktf/provider-google/lib/logging-metric';
import {
  MonitoringAlertPolicy,
  type MonitoringAlertPolicyConditions,
} from '@cdktf/provider-google/lib/monitoring-alert-policy';
import { MonitoringNotificationChannel } from '@cdktf/provider-google/lib/monitoring-notification-channel';
import { metricsQueryable } from '../metrics-settle';
import {
  ALERTED_EVENTS,
  type AlertedEvent,
  type MeteredEvent,
  metricFilter,
  metricName,
  RECEIVER_EVENTS,
  type ReceiverAlert,
} from './events';
import { type ConnectorContext, dependsOnAlso } from './props';

export interface ConnectorMonitoring {
  readonly notificationChannel: MonitoringNotificationChannel;
  readonly metrics: Record<MeteredEvent, LoggingMetric>;
  readonly alerts: Record<AlertedEvent, MonitoringAlertPolicy>;
  readonly receiverAlerts: Record<ReceiverAlert, MonitoringAlertPolicy>;
}

/** A threshold condition: the sum over `alignmentSeconds` above `threshold`, held for `durationSeconds`. */
function over(
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

const userMetric = (m: LoggingMetric) =>
  `metric.type="logging.googleapis.com/user/${m.name}" AND resource.type="cloud_run_revision"`;

export function buildMonitoring(ctx: ConnectorContext): ConnectorMonitoring {
  const { scope, project, connector, names, labels, environment: env } = ctx;
  const notificationChannel = new MonitoringNotificationChannel(scope, 'contact-channel', {
    project,
    type: 'email',
    displayName: `Currents ${env.name}/${connector.name}: ${connector.contactEmail}`,
    description: `Credential failures, expiry, dead letters and receiver faults of '${connector.displayName}'`,
    labels: { email_address: connector.contactEmail },
    userLabels: labels,
    ...ctx.dep('monitoring'),
  });
  const metrics = {} as Record<MeteredEvent, LoggingMetric>;
  const metric = (event: MeteredEvent, id: string, label?: { key: string; from: string; description: string }) =>
    (metrics[event] = new LoggingMetric(scope, `metric-${id}`, {
      project,
      name: metricName(connector.name, event),
      description: `Log entries of '${connector.name}' with event=${event}${label ? `, by ${label.key}` : ''}`,
      filter: metricFilter(connector.name, event, Boolean(connector.storage && ctx.props.importerSource)),
      metricDescriptor: {
        metricKind: 'DELTA',
        valueType: 'INT64',
        unit: '1',
        ...(label ? { labels: [{ key: label.key, valueType: 'STRING', description: label.description }] } : {}),
      },
      ...(label ? { labelExtractors: { [label.key]: `EXTRACT(${label.from})` } } : {}),
      ...ctx.dep('logging'),
    }));
  // Every metric is declared before the first policy: the policies wait until they can be queried (../metrics-settle.ts).
  for (const event of Object.keys(ALERTED_EVENTS) as AlertedEvent[]) metric(event, ALERTED_EVENTS[event].metric);
  const requests = RECEIVER_EVENTS.receiver_request;
  const receiverMetric = metric('receiver_request', requests.metric, {
    key: requests.label,
    from: `jsonPayload.${requests.label}`,
    description: 'HTTP status the receiver answered',
  });
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

  const byStatus = (status: string) => `${userMetric(receiverMetric)} AND metric.label.${requests.label}=${status}`;
  const errors = requests.alerts['server-errors'];
  const refusals = requests.alerts.refusals;
  const threshold = ctx.props.receiver.refusalsAlertThreshold;
  const receiverAlerts = {
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
        `${names.receiverFunction} refused more than ${threshold} requests in ${refusals.alignmentSeconds / 60} minutes`,
        byStatus(refusals.status),
        threshold,
        refusals.alignmentSeconds,
        refusals.durationSeconds,
      ),
    ]),
  };
  return { notificationChannel, metrics, alerts, receiverAlerts };
}
