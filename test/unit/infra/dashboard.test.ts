/**
 * The environment's dashboard: one per environment, a band of tiles per connector (events by outcome, Segment's
 * answers and time, the credential, the receiver's answers), and every metric a tile draws is a log-based metric
 * declared in the same stack, of the kind the tile needs (a distribution for PromQL's _sum/_bucket).
 */
import { environments } from '../../fixtures/definitions';
import { DASHBOARD_METRICS, dashboardMetricFilter } from '../../../infra/dashboard-metrics';
import { dashboardDisplayName } from '../../../infra/dashboard';
import { type Json, resources, synthEnvironments } from '../../support/infra/helpers';
import { doorNames } from '../../../shared/door';
import { resourceNames } from '../../../shared/names';

const synth = synthEnvironments(environments);

/**
 * What the Monitoring API answers for a dashboard it was given (proto3 JSON): every field holding its default value
 * (0, false, "", an empty list) is left out, and the server's own fields (`name`, `etag`) are added; the provider
 * drops those two before comparing (provider issue 16173), so anything else that differs is a diff on every plan.
 */
function asTheApiAnswers(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(asTheApiAnswers);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value)
        .filter(([, v]) => !(v === 0 || v === false || v === '' || (Array.isArray(v) && v.length === 0)))
        .map(([k, v]) => [k, asTheApiAnswers(v)]),
    );
  }
  return value;
}
const promName = (name: string) => `logging_googleapis_com:user_${name.replace(/[^A-Za-z0-9_]/g, '_')}`;

interface Tile {
  xPos?: number;
  yPos?: number;
  widget: { title: string; xyChart?: { dataSets: { timeSeriesQuery: Json }[] }; text?: unknown };
}

describe.each(synth.environments.map((e) => e.name))('the %s dashboard', (envName) => {
  const json = synth.stacks[envName]!.json;
  const env = synth.environments.find((e) => e.name === envName)!;
  const metrics = resources(json, 'google_logging_metric');
  const byName = new Map(metrics.map((m) => [m.name as string, m]));
  const dashboards = resources(json, 'google_monitoring_dashboard');
  const dashboard = JSON.parse(dashboards[0]!.dashboard_json as string) as {
    displayName: string;
    mosaicLayout: { tiles: Tile[] };
  };
  const charts = dashboard.mosaicLayout.tiles.filter((t) => t.widget.xyChart);

  /** The stack metrics a chart draws (by name), and for PromQL the suffix it reads. */
  function drawn(tile: Tile): { name: string; prom?: string }[] {
    return tile.widget.xyChart!.dataSets.flatMap(({ timeSeriesQuery: q }) => {
      const filter = (q.timeSeriesFilter as { filter?: string } | undefined)?.filter;
      if (filter) {
        const m = /metric\.type="logging\.googleapis\.com\/user\/([^"]+)"/.exec(filter);
        expect(m).not.toBeNull();
        return [{ name: m![1]! }];
      }
      const query = q.prometheusQuery as string;
      const found = [...query.matchAll(/(logging_googleapis_com:user_[A-Za-z0-9_]+?)_(sum|bucket)\{/g)];
      expect(found.length).toBeGreaterThan(0);
      return found.map((f) => {
        const name = metrics.map((m) => m.name as string).find((n) => promName(n) === f[1]);
        return { name: name ?? `(none for ${f[1]})`, prom: f[2] };
      });
    });
  }

  it('is stable under the API’s normalization: what it reads back equals what the stack writes', () => {
    expect(asTheApiAnswers(dashboard)).toEqual(dashboard);
    // The layout still places every tile: a tile without xPos/yPos sits at 0.
    const at = dashboard.mosaicLayout.tiles.map((t) => `${t.xPos ?? 0},${t.yPos ?? 0}`);
    expect(new Set(at).size).toBe(at.length);
  });

  it('is one dashboard, named after the environment', () => {
    expect(dashboards).toHaveLength(1);
    expect(dashboard.displayName).toBe(dashboardDisplayName(envName));
    expect(json.output?.['dashboard-name']).toMatchObject({ value: dashboardDisplayName(envName) });
  });

  it('draws only metrics the stack declares, each of the kind its query needs', () => {
    expect(charts.length).toBeGreaterThan(0);
    for (const tile of charts) {
      for (const d of drawn(tile)) {
        const metric = byName.get(d.name);
        expect({ tile: tile.widget.title, metric: d.name, declared: metric !== undefined }).toEqual({
          tile: tile.widget.title,
          metric: d.name,
          declared: true,
        });
        const kind = (metric!.metric_descriptor as Json).value_type;
        expect(kind).toBe(d.prom ? 'DISTRIBUTION' : 'INT64');
      }
    }
  });

  it('covers, per connector, every outcome, Segment, the credential and its workspace door', () => {
    for (const c of env.connectors) {
      const fn = resourceNames(c.name).function;
      const names = new Set(charts.flatMap(drawn).map((d) => d.name));
      for (const id of Object.keys(DASHBOARD_METRICS)) expect(names).toContain(`${fn}-${id}`);
      for (const alerted of ['credential-failures', 'credential-unverified', 'events-dropped', 'dead-lettered']) {
        expect(names).toContain(`${fn}-${alerted}`);
      }
      expect(names).toContain(doorNames(c.workspace).requestsMetric);
      // Each dashboard metric counts the connector's own function lines of its event.
      for (const id of Object.keys(DASHBOARD_METRICS) as (keyof typeof DASHBOARD_METRICS)[]) {
        const m = byName.get(`${fn}-${id}`)!;
        expect(m.filter).toBe(dashboardMetricFilter(c.name, id));
        expect(m.filter).toContain(`resource.labels.service_name="${fn}"`);
        expect(m.filter).toContain(`jsonPayload.event="${DASHBOARD_METRICS[id].event}"`);
      }
    }
  });
});
