/**
 * The log-based metrics only the environment's dashboard draws (their definitions: infra/dashboard-metrics.ts):
 * distributions of the handled messages' counts and Segment time, counters by Segment's worst answer and by the
 * credential state entered.
 */
import { LoggingMetric } from '@cdktf/provider-google/lib/logging-metric';
import {
  DASHBOARD_METRICS,
  type DashboardMetric,
  type DashboardMetricId,
  dashboardMetricFilter,
  dashboardMetricName,
} from '../dashboard-metrics';
import type { ConnectorContext } from './props';

export function buildDashboardMetrics(ctx: ConnectorContext): Record<DashboardMetricId, LoggingMetric> {
  const { connector } = ctx;
  const dashboardMetrics = {} as Record<DashboardMetricId, LoggingMetric>;
  for (const id of Object.keys(DASHBOARD_METRICS) as DashboardMetricId[]) {
    const m: DashboardMetric = DASHBOARD_METRICS[id];
    dashboardMetrics[id] = new LoggingMetric(ctx.scope, `dashboard-metric-${id}`, {
      project: ctx.project,
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
      ...ctx.dep('logging'),
    });
  }
  return dashboardMetrics;
}
