/**
 * The environment's dashboard: one per environment, a band of tiles per connector (events by outcome, Segment's
 * answers and time, the credential, the receiver's answers), and every metric a tile draws is a log-based metric
 * declared in the same stack, of the kind the tile needs (a distribution for PromQL's _sum/_bucket).
 */
import { environments } from '../../fixtures/definitions';
import { DASHBOARD_METRICS, type DashboardMetric } from '../../../infra/dashboard-metrics';
import { dashboardDisplayName } from '../../../infra/dashboard';
import { type Json, resources, synthEnvironments } from '../../support/infra/helpers';
import { doorNames } from '../../../shared/door';
import { resourceNames } from '../../../shared/names';
import { createLogger, LOG_EVENT_SPECS } from '../../../runtime/log';

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
/**
 * Whether a Cloud Logging entry matches a filter of the form the stack writes: terms joined by `AND`, each
 * `path="value"` (equality) or `path:*` (the field is present). Any other form fails the test.
 */
function matches(filter: string, entry: Json): boolean {
  return filter.split(' AND ').every((term) => {
    const m = /^([A-Za-z0-9_.]+)(?:="([^"]*)"|:\*)$/.exec(term);
    if (!m) throw new Error(`a filter term this test does not read: ${term}`);
    const value = m[1]!.split('.').reduce<unknown>((v, k) => (v as Json | undefined)?.[k], entry);
    return m[2] === undefined ? value !== undefined : String(value) === m[2];
  });
}

/** The entry Cloud Logging stores for a line the runtime's own logger writes in a connector's function. */
function loggedEntry(connector: string, metric: DashboardMetric, service = resourceNames(connector).function): Json {
  const lines: string[] = [];
  const logger = createLogger({ connector, sink: (l) => lines.push(l) });
  const fields: Json = {};
  for (const path of [metric.value, metric.label?.from].filter((f): f is string => f !== undefined)) {
    const [top, sub] = path.split('.');
    fields[top!] = sub === undefined ? 7 : { ...((fields[top!] as Json | undefined) ?? {}), [sub]: 7 };
  }
  logger.log(LOG_EVENT_SPECS[metric.event].severities[0]!, metric.event, 'a line', fields as never);
  return {
    resource: { type: 'cloud_run_revision', labels: { service_name: service } },
    jsonPayload: JSON.parse(lines[0]!) as Json,
  };
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
      // Each dashboard metric counts the lines the runtime's logger writes for its event in the connector's own
      // function, reading fields that event declares — and no line of another connector, function or event.
      for (const id of Object.keys(DASHBOARD_METRICS) as (keyof typeof DASHBOARD_METRICS)[]) {
        const spec: DashboardMetric = DASHBOARD_METRICS[id];
        const filter = byName.get(`${fn}-${id}`)!.filter as string;
        const declared = LOG_EVENT_SPECS[spec.event].fields;
        for (const f of [spec.value, spec.label?.from]) if (f) expect(declared).toContain(f.split('.')[0]);
        const line = loggedEntry(c.name, spec);
        expect({ id, matches: matches(filter, line) }).toEqual({ id, matches: true });
        expect(matches(filter, loggedEntry('someone-else', spec))).toBe(false);
        expect(matches(filter, loggedEntry(c.name, spec, `${fn}-backfill`))).toBe(false);
        const other = spec.event === 'state_change' ? 'batch_done' : 'state_change';
        expect(matches(filter, loggedEntry(c.name, { ...spec, event: other }))).toBe(false);
        if (spec.value) expect(matches(filter, loggedEntry(c.name, { ...spec, value: undefined }))).toBe(false);
        const extractor = (byName.get(`${fn}-${id}`)!.label_extractors ?? {}) as Record<string, string>;
        if (spec.label) expect(extractor[spec.label.key]).toBe(`EXTRACT(jsonPayload.${spec.label.from})`);
      }
    }
  });
});
