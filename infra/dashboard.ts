/**
 * The environment's Cloud Monitoring dashboard, built only from log-based metrics the stack declares:
 *
 * - per connector, events received, delivered, skipped, dead-lettered, parked and dropped: DISTRIBUTION metrics on the
 *   function's `batch_done` lines, one per count (`jsonPayload.counts.<outcome>`), charted as events per minute (the
 *   distributions' `_sum` in PromQL);
 * - Segment's answers by status (counter of `batch_done` by `segmentStatus`, the worst answer of the message) and the
 *   time spent in Segment (distribution of `segmentMs`, 50th and 95th percentile);
 * - the credential: state changes by the state entered (`state_change` by `to`), and the alerted metrics (credential
 *   failures, cannot be verified, events dropped, dead letters);
 * - the answers of the connector's workspace door to Braze by status (`receiver_request` by `status`);
 * - events of types the catalogue does not know, by type (distribution of `unknown_event_type`'s `events` by `eventType`).
 *
 * `DASHBOARD_METRICS` (infra/dashboard-metrics.ts) are declared by the connector construct beside its alert metrics; the tests check that every
 * metric a tile names exists in the synthesized stack.
 */
import { doorNames } from '../shared/door';
import { resourceNames } from '../shared/names';
import { ALERTED_EVENTS, RECEIVER_EVENTS } from './connector/events';
import { dashboardMetricName, type DashboardMetricId } from './dashboard-metrics';

/** The dashboard's name in the console (Monitoring → Dashboards). */
export const dashboardDisplayName = (environment: string): string => `Currents → Segment: ${environment}`;

const userMetric = (name: string) => `logging.googleapis.com/user/${name}`;
/** PromQL's name of a log-based metric (the first / becomes :, every other special character _). */
const promName = (name: string) => `logging_googleapis_com:user_${name.replace(/[^A-Za-z0-9_]/g, '_')}`;

type Tile = Record<string, unknown>;
const WIDTH = 6;
const HEIGHT = 4;

/** A chart of counters (log lines per minute), summed, optionally split by a metric label. */
function counterChart(title: string, metrics: { name: string; legend: string }[], groupBy?: string): Tile {
  return {
    title,
    xyChart: {
      chartOptions: { mode: 'COLOR' },
      dataSets: metrics.map((m) => ({
        plotType: 'LINE',
        legendTemplate: groupBy ? `${m.legend} \${metric.labels.${groupBy}}` : m.legend,
        timeSeriesQuery: {
          timeSeriesFilter: {
            filter: `metric.type="${userMetric(m.name)}" resource.type="cloud_run_revision"`,
            aggregation: {
              alignmentPeriod: '60s',
              perSeriesAligner: 'ALIGN_SUM',
              crossSeriesReducer: 'REDUCE_SUM',
              ...(groupBy ? { groupByFields: [`metric.label."${groupBy}"`] } : {}),
            },
          },
        },
      })),
    },
  };
}

/** A chart of PromQL queries. */
function promChart(title: string, queries: { query: string; legend: string }[], unit?: string): Tile {
  return {
    title,
    xyChart: {
      chartOptions: { mode: 'COLOR' },
      ...(unit ? { yAxis: { label: unit, scale: 'LINEAR' } } : {}),
      dataSets: queries.map((q) => ({
        plotType: 'LINE',
        legendTemplate: q.legend,
        timeSeriesQuery: { prometheusQuery: q.query, unitOverride: unit ?? '1' },
      })),
    },
  };
}

/** The tiles of one connector: a section header, then its charts. */
export function connectorTiles(connector: string, workspace: string): Tile[] {
  const names = resourceNames(connector);
  const sumPerMinute = (id: DashboardMetricId) =>
    `sum(rate(${promName(dashboardMetricName(connector, id))}_sum{monitored_resource="cloud_run_revision"}[5m])) * 60`;
  const outcomes: [DashboardMetricId, string][] = [
    ['events-received', 'received'],
    ['events-delivered', 'delivered'],
    ['events-skipped', 'skipped'],
    ['events-dead-lettered', 'dead-lettered'],
    ['events-parked', 'parked'],
    ['events-dropped-count', 'dropped'],
  ];
  const latency = promName(dashboardMetricName(connector, 'segment-latency'));
  const quantile = (q: number) =>
    `histogram_quantile(${q}, sum by (le) (rate(${latency}_bucket{monitored_resource="cloud_run_revision"}[5m])))`;
  const alerted = (Object.keys(ALERTED_EVENTS) as (keyof typeof ALERTED_EVENTS)[]).map((e) => ({
    name: `${names.function}-${ALERTED_EVENTS[e].metric}`,
    legend: ALERTED_EVENTS[e].title,
  }));
  const receiver = RECEIVER_EVENTS.receiver_request;
  const door = doorNames(workspace);
  return [
    {
      title: `Connector ${connector}`,
      text: {
        content: `Function \`${names.function}\`; Braze workspace \`${workspace}\`, door \`${door.function}\`.`,
        format: 'MARKDOWN',
      },
    },
    promChart(
      'Events per minute by outcome',
      outcomes.map(([id, legend]) => ({ query: sumPerMinute(id), legend })),
    ),
    counterChart(
      "Segment's answers (messages by worst status)",
      [{ name: dashboardMetricName(connector, 'segment-answers'), legend: 'status' }],
      'status',
    ),
    promChart(
      'Time in Segment per message',
      [
        { query: quantile(0.5), legend: 'p50' },
        { query: quantile(0.95), legend: 'p95' },
      ],
      'ms',
    ),
    counterChart(
      'Credential state changes (by state entered)',
      [{ name: dashboardMetricName(connector, 'credential-transitions'), legend: 'to' }],
      'to',
    ),
    counterChart('Credential and delivery alerts (log lines)', alerted),
    promChart('Events of unknown types per minute (by type)', [
      {
        query: `sum by (event_type) (rate(${promName(dashboardMetricName(connector, 'unknown-types'))}_sum{monitored_resource="cloud_run_revision"}[5m])) * 60`,
        legend: '${metric.labels.event_type}',
      },
    ]),
    counterChart(
      `Door answers to Braze, workspace ${workspace} (by status)`,
      [{ name: door.requestsMetric, legend: 'status' }],
      receiver.label,
    ),
  ];
}

/**
 * A tile at (x, y). The Monitoring API answers without the fields that hold their default (proto3 JSON: zeros, empty
 * lists), and the provider compares what it reads back with what the stack wrote (provider issue 16173), so the
 * dashboard never writes a default: a tile at x or y 0 has no `xPos` / `yPos`, a chart not grouped has no
 * `groupByFields`. test/unit/infra/dashboard.test.ts normalizes the JSON as the API does and expects no change.
 */
const placed = (x: number, y: number, width: number, height: number, widget: Tile): Tile => ({
  ...(x ? { xPos: x } : {}),
  ...(y ? { yPos: y } : {}),
  width,
  height,
  widget,
});

/** The dashboard's JSON (google_monitoring_dashboard `dashboard_json`): a mosaic, one band of tiles per connector. */
export function dashboardJson(
  environment: string,
  connectors: readonly { readonly name: string; readonly workspace: string }[],
): string {
  const tiles: Tile[] = [];
  let y = 0;
  for (const c of connectors) {
    const [header, ...charts] = connectorTiles(c.name, c.workspace);
    tiles.push(placed(0, y, 12, 1, header!));
    y += 1;
    charts.forEach((widget, i) => {
      tiles.push(placed((i % 2) * WIDTH, y + Math.floor(i / 2) * HEIGHT, WIDTH, HEIGHT, widget));
    });
    y += Math.ceil(charts.length / 2) * HEIGHT;
  }
  return JSON.stringify({ displayName: dashboardDisplayName(environment), mosaicLayout: { columns: 12, tiles } });
}
