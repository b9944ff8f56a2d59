/**
 * The log-based metrics the dashboard needs besides the alerted ones (infra/dashboard.ts draws them), declared by the
 * connector construct beside its alert metrics: DISTRIBUTIONs of the function's `batch_done` counts and Segment time,
 * and counters labelled by Segment's worst answer and by the credential state entered.
 */
import type { LogEventName } from '../runtime/log';
import { resourceNames } from '../shared/names';

/** A log-based metric the dashboard needs besides the alerted ones, on lines of the connector's function. */
export interface DashboardMetric {
  readonly event: LogEventName;
  readonly description: string;
  /** DISTRIBUTION of this jsonPayload field (its lines must have it); otherwise a counter of the lines. */
  readonly value?: string;
  readonly unit?: string;
  /** A counter's label, extracted from this jsonPayload field. */
  readonly label?: { readonly key: string; readonly from: string };
}

const count = (outcome: string, what: string): DashboardMetric => ({
  event: 'batch_done',
  value: `counts.${outcome}`,
  unit: '1',
  description: `Events ${what}, per handled Pub/Sub message`,
});

export const DASHBOARD_METRICS = {
  'events-received': count('received', 'received'),
  'events-delivered': count('delivered', 'delivered to Segment'),
  'events-skipped': count('skipped', 'skipped (not selected, not exportable, anonymous)'),
  'events-dead-lettered': count('deadLettered', 'dead-lettered'),
  'events-parked': count('parked', 'parked while the credential fails'),
  'events-dropped-count': count('dropped', 'dropped after the grace period'),
  'segment-latency': {
    event: 'batch_done',
    value: 'segmentMs',
    unit: 'ms',
    description: "Time a message's events spent in Segment's Tracking API (retries included)",
  },
  'segment-answers': {
    event: 'batch_done',
    label: { key: 'status', from: 'segmentStatus' },
    description: "Handled messages by Segment's worst answer (HTTP status, or network)",
  },
  'unknown-types': {
    event: 'unknown_event_type',
    value: 'events',
    unit: '1',
    label: { key: 'event_type', from: 'eventType' },
    description: 'Events of types the catalogue does not know, by type, per handled Pub/Sub message',
  },
  'credential-transitions': {
    event: 'state_change',
    label: { key: 'to', from: 'to' },
    description: 'Credential state changes, by the state entered (failing, expired, active)',
  },
} as const satisfies Record<string, DashboardMetric>;
export type DashboardMetricId = keyof typeof DASHBOARD_METRICS;

/** The metric's name for a connector (like the alert metrics: `<function>-<id>`). */
export const dashboardMetricName = (connector: string, id: DashboardMetricId): string =>
  `${resourceNames(connector).function}-${id}`;

/** The Logging filter of a dashboard metric: the connector's function, the event, and (distributions) the field present. */
export function dashboardMetricFilter(connector: string, id: DashboardMetricId): string {
  const m: DashboardMetric = DASHBOARD_METRICS[id];
  const field = m.value ?? m.label?.from;
  return [
    'resource.type="cloud_run_revision"',
    `resource.labels.service_name="${resourceNames(connector).function}"`,
    `jsonPayload.connector="${connector}"`,
    `jsonPayload.event="${m.event}"`,
    ...(field ? [`jsonPayload.${field}:*`] : []),
  ].join(' AND ');
}
