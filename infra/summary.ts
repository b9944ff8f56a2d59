/**
 * The pull-request summary of the connector definitions, as Markdown: per environment, each connector's region,
 * credential kind, events, grace period, anonymous flag and contact; per Braze workspace, its door's URL and the boxes
 * to tick in Braze's form (./summary/doors.ts); the resources each connector becomes (from a real synth of the construct, so the list cannot drift from the
 * infrastructure); and, against a base (./summary/base.ts), which connectors were added, removed or changed, field by
 * field (./summary/diff.ts).
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, TerraformStack } from 'cdktf';
import { CATALOG_BY_TYPE, CATALOG_RELEASE, isSelector, typesOfSelector } from '../shared/catalog';
import { capacity, functionShape, type InstanceShape, monthlyCost, PRICES } from '../shared/capacity';
import { type Connector, connectorWarnings, type Environment, selectedTypes } from '../shared/connector';
import { connectorLocation, EU_LOCATIONS } from '../shared/deployment';
import { resourceNames, stateBackendPrefix } from '../shared/names';
import { CurrentsConnector } from './connector';
import type { Base } from './summary/base';
import { diffFields, type FieldChange } from './summary/diff';
import { doorLines } from './summary/doors';

/** Read through this module by `plan-summary` (which loads the whole summary lazily). */
export { loadBase } from './summary/base';

const nameOf = (c: Connector | Record<string, unknown>): string => String((c as { name?: unknown }).name ?? '?');
const isConnector = (c: Connector | Record<string, unknown>): c is Connector =>
  Array.isArray((c as Connector).events) && typeof (c as Connector).segment === 'object';

// ------------------------------------------------------------------------------------------------------------ markdown

const code = (v: unknown): string => {
  if (v === undefined) return '_(unset)_';
  const text = typeof v === 'string' ? v : JSON.stringify(v);
  return `\`${text.replace(/`/g, "'").replace(/\|/g, '\\|')}\``;
};

/** The types a group or channel selects that were added to the catalogue after the first one. */
const newTypesOf = (selector: string): string[] =>
  isSelector(selector) ? typesOfSelector(selector).filter((t) => CATALOG_BY_TYPE.get(t)?.added) : [];

/** "email (11, 2 new), sms (9, 1 new) = 20 types". */
export function describeEvents(c: Pick<Connector, 'events'>): string {
  const parts = c.events.map((e) => {
    if (!isSelector(e)) return e;
    const fresh = newTypesOf(e).length;
    return `${e} (${typesOfSelector(e).length}${fresh ? `, ${fresh} new` : ''})`;
  });
  return `${parts.join(', ')} = ${selectedTypes(c).length} types`;
}

/**
 * What a connector's groups export that they did not before the catalogue of CATALOG_RELEASE: a group selects every
 * type it holds when deployed (docs/events.md "Groups and new types"), so the pull request says so.
 */
export function newGroupTypesNote(c: Pick<Connector, 'name' | 'events'>): string[] {
  const named = new Set(c.events);
  const fresh = [...new Set(c.events.flatMap(newTypesOf))].filter((t) => !named.has(t));
  if (!fresh.length) return [];
  return [
    `- ℹ️ \`${c.name}\`: its groups also export ${fresh.length} type(s) new in ${CATALOG_RELEASE}: ` +
      `${fresh.map((t) => `\`${t}\``).join(', ')} (Braze sends them only if its Current selects them; name types ` +
      'instead of the group to leave them out)',
  ];
}

function describeChange(
  change: FieldChange,
  before?: Connector | Record<string, unknown>,
  after?: Connector | Record<string, unknown>,
): string {
  if (Array.isArray(change.before) || Array.isArray(change.after)) {
    const was = (change.before as unknown[] | undefined) ?? [];
    const now = (change.after as unknown[] | undefined) ?? [];
    const added = now.filter((x) => !was.some((y) => JSON.stringify(y) === JSON.stringify(x)));
    const removed = was.filter((x) => !now.some((y) => JSON.stringify(y) === JSON.stringify(x)));
    let text = `\`${change.field}\`: ${[...added.map((x) => `+${code(x)}`), ...removed.map((x) => `−${code(x)}`)].join(', ') || 'reordered'}`;
    if (change.field === 'events' && before && after && isConnector(before) && isConnector(after)) {
      const t0 = new Set(selectedTypes(before));
      const t1 = new Set(selectedTypes(after));
      const plus = [...t1].filter((t) => !t0.has(t)).length;
      const minus = [...t0].filter((t) => !t1.has(t)).length;
      text += ` (${t0.size} → ${t1.size} types: +${plus}, −${minus})`;
    }
    return text;
  }
  return `\`${change.field}\`: ${code(change.before)} → ${code(change.after)}`;
}

/** The Terraform resources one connector becomes, from a synth of the construct with placeholder inputs. */
export function connectorResourceList(connector: Connector, env: Pick<Environment, 'name' | 'project' | 'region'>) {
  const app = new App({ outdir: join(tmpdir(), 'currents-summary-unused'), skipValidation: true });
  const stack = new TerraformStack(app, 'summary');
  new CurrentsConnector(stack, 'c', {
    connector,
    environment: env,
    source: { bucket: 'source-bucket', object: 'source.zip' },
    pubsubServiceAgentEmail: 'service-0@gcp-sa-pubsub.iam.gserviceaccount.com',
  });
  const json = stack.toTerraform() as { resource: Record<string, Record<string, Record<string, unknown>>> };
  return Object.entries(json.resource)
    .map(([type, byId]) => ({
      type,
      names: Object.values(byId)
        .map((r) => (r.name ?? r.account_id ?? r.secret_id ?? r.display_name ?? r.role) as string | undefined)
        .filter((n): n is string => typeof n === 'string' && !n.includes('${')),
      count: Object.keys(byId).length,
    }))
    .sort((a, b) => a.type.localeCompare(b.type));
}

export interface SummaryOptions {
  readonly base?: Base;
  /** Include the per-connector resource lists (synthesizes each connector once). Default true. */
  readonly resources?: boolean;
  /** Monthly volume per connector for the cost estimate. Default 10 million events. */
  readonly eventsPerMonth?: number;
}

/** The receiver as deployed (shared/defaults.ts RECEIVER_DEFAULTS). */
const RECEIVER_SHAPE: InstanceShape = { vcpu: 1, memoryGiB: 1, concurrency: 80 };

/** Per connector: the sustainable ceiling and what a month at `eventsPerMonth` costs (shared/capacity.ts). */
export function capacityLines(connectors: readonly Connector[], eventsPerMonth: number): string[] {
  const rows = connectors.map((c) => {
    const cap = capacity(c, functionShape(c));
    const cost = monthlyCost(eventsPerMonth, functionShape(c), RECEIVER_SHAPE);
    return (
      `| \`${c.name}\` | ${c.maxInstances} × ${c.concurrency} | ${cap.eventsPerSec.toLocaleString('en-US')} | ` +
      `${cap.advice} | $${cost.totalUsd.toFixed(2)} | ${cost.dominant} |`
    );
  });
  return [
    `**Capacity and cost** (ceiling at 200 ms per Segment request; cost of ${eventsPerMonth.toLocaleString('en-US')} ` +
      `events a month at list prices of ${PRICES.readOn}; model and figures: shared/capacity.ts, docs/sizing.md):`,
    '',
    '| connector | instances × pushes at once | ceiling (events/s) | to go higher | cost / month | largest line |',
    '|---|---|---|---|---|---|',
    ...rows,
    '',
  ];
}

/** Connectors added, changed, removed and unchanged against the base. */
interface Counts {
  added: number;
  removed: number;
  changed: number;
  unchanged: number;
}

type BaseEnvironment = Base['environments'][number];

/** The environment's own fields that changed against the base. */
function environmentChanges(env: Environment, before: BaseEnvironment): string[] {
  return diffFields(
    {
      project: before.project,
      region: before.region,
      backend: before.backend,
      deleteProtection: before.deleteProtection,
    },
    { project: env.project, region: env.region, backend: env.backend, deleteProtection: env.deleteProtection },
  ).map((ch) => `- ⚠️ environment ${describeChange(ch)}`);
}

/** The connectors' changes against the base (counted in `counts`), and each connector's status for the table. */
function connectorChanges(env: Environment, before: BaseEnvironment | undefined, counts: Counts) {
  const beforeByName = new Map(before?.connectors.map((c) => [nameOf(c), c]) ?? []);
  const changes: string[] = [];
  const status = new Map<string, string>();
  for (const c of env.connectors) {
    const old = beforeByName.get(c.name);
    if (!old) {
      counts.added++;
      status.set(c.name, 'added');
      changes.push(
        `- ➕ **added** \`${c.name}\` (${c.displayName}): ${c.segment.region}, ${describeEvents(c)}`,
        `  - after the deploy: put its credential into \`${resourceNames(c.name).secret}\` and make a token ` +
          "for its workspace's door if it has none; the deploy does not wait for them, and until then it parks what arrives (alerting its contact)",
      );
      continue;
    }
    const diff = diffFields(old, c);
    if (!diff.length) {
      counts.unchanged++;
      status.set(c.name, 'unchanged');
      continue;
    }
    counts.changed++;
    status.set(c.name, 'changed');
    changes.push(`- ✏️ **changed** \`${c.name}\`:`, ...diff.map((d) => `  - ${describeChange(d, old, c)}`));
    if (diff.some((d) => d.field === 'segment.region')) {
      changes.push('  - ⚠️ region changed: check that the secret holds the credential of the new region’s workspace');
    }
  }
  for (const old of before?.connectors ?? []) {
    if (env.connectors.some((c) => c.name === nameOf(old))) continue;
    counts.removed++;
    changes.push(
      `- ➖ **removed** \`${nameOf(old)}\`: its topics (and any undelivered or dead-lettered events in them), function, ` +
        'secret, scheduler job and alerts are destroyed; its Firestore database is abandoned when delete protection is on',
    );
  }
  return { changes, status };
}

/** The connectors' table (with their change when there is a base) and their warnings. */
function connectorTable(env: Environment, base: boolean, status: ReadonlyMap<string, string>): string[] {
  return [
    '| connector | region | credential | events | grace | anonymous | contact |' + (base ? ' change |' : ''),
    '|---|---|---|---|---|---|---|' + (base ? '---|' : ''),
    ...env.connectors.map(
      (c) =>
        `| \`${c.name}\` | ${c.segment.region} | ${c.segment.credential.kind} | ${describeEvents(c)} | ${c.credentialGracePeriod} | ` +
        `${c.includeAnonymousUsers ? 'yes' : 'no'} | ${c.contactEmail} |` +
        (base ? ` ${status.get(c.name) ?? ''} |` : ''),
    ),
    '',
    ...env.connectors.flatMap(connectorWarnings).map((w) => `- ⚠️ \`${w.connector}\`: ${w.message}`),
    ...env.connectors.flatMap(newGroupTypesNote),
    '',
  ];
}

/** The resources each connector becomes, folded away. */
function resourceLines(env: Environment): string[] {
  const body = ['<details><summary>Resources per connector</summary>', ''];
  for (const c of env.connectors) {
    const list = connectorResourceList(c, env);
    const total = list.reduce((n, r) => n + r.count, 0);
    body.push(
      `**\`${c.name}\`** (${total} resources): ` +
        list
          .map(
            (r) =>
              `${r.type}${r.count > 1 ? ` ×${r.count}` : ''}${r.names.length ? ` (${r.names.map((n) => `\`${n}\``).join(', ')})` : ''}`,
          )
          .join('; '),
      '',
    );
  }
  body.push('</details>', '');
  return body;
}

/** One environment's section. */
/** Where each connector runs (its function, its workspace's door, database and probe): its `location` or the environment's region. */
function locationLines(env: Environment): string[] {
  if (!env.connectors.length) return [];
  const where = env.connectors.map((c) => {
    const at = connectorLocation(c, env);
    const notes = [
      ...(at === env.region ? [] : ['its own location']),
      ...(EU_LOCATIONS.includes(at) ? ['EU'] : c.segment.region === 'eu' ? ['outside the EU: allowOutsideEu'] : []),
    ];
    return `\`${c.name}\` in ${at}${notes.length ? ` (${notes.join(', ')})` : ''}`;
  });
  return [`Where each connector runs: ${where.join('; ')}.`, ''];
}

function environmentSection(
  env: Environment,
  before: BaseEnvironment | undefined,
  options: SummaryOptions,
  counts: Counts,
): string[] {
  const base = options.base;
  const state = env.backend ? `GCS \`${env.backend.bucket}/${stateBackendPrefix(env)}\`` : 'local';
  const body = [
    `### Environment \`${env.name}\`${base && !before ? ' (new)' : ''}`,
    '',
    `Project \`${env.project}\`, region \`${env.region}\`, state ${state}, ${env.connectors.length} connector(s), ` +
      `Firestore delete protection **${env.deleteProtection ? 'on' : 'off'}**.`,
    '',
    ...locationLines(env),
  ];
  if (before) body.push(...environmentChanges(env, before));
  const { changes, status } = base ? connectorChanges(env, before, counts) : { changes: [], status: new Map() };
  body.push(...connectorTable(env, Boolean(base), status));
  if (env.connectors.length) body.push(...capacityLines(env.connectors, options.eventsPerMonth ?? 10_000_000));
  body.push(...doorLines(env));
  if (base) {
    body.push(
      changes.length ? '**Changes**' : '_No connector changes._',
      '',
      ...changes,
      ...(changes.length ? [''] : []),
    );
  }
  if (options.resources !== false && env.connectors.length) body.push(...resourceLines(env));
  return body;
}

/** The Markdown summary. */
export function planSummary(current: readonly Environment[], options: SummaryOptions = {}): string {
  const lines: string[] = ['## Currents → Segment connectors: plan summary', ''];
  const base = options.base;
  const baseEnvs = new Map(base?.environments.map((e) => [e.name, e]) ?? []);
  const counts: Counts = { added: 0, removed: 0, changed: 0, unchanged: 0 };
  const body = current.flatMap((env) => environmentSection(env, baseEnvs.get(env.name), options, counts));
  for (const old of base?.environments ?? []) {
    if (current.some((e) => e.name === old.name)) continue;
    counts.removed += old.connectors.length;
    body.push(
      `### Environment \`${old.name}\` (removed)`,
      '',
      `Its ${old.connectors.length} connector(s) are no longer defined: ${old.connectors.map((c) => `\`${nameOf(c)}\``).join(', ') || 'none'}. ` +
        `Its stack is not synthesized any more; destroy it with \`cdktf destroy ${old.name}\` before merging if that is the intent.`,
      '',
    );
  }
  if (base) {
    const { added, changed, removed, unchanged } = counts;
    lines.push(
      `Against ${base.label}: **${added} added, ${changed} changed, ${removed} removed**, ${unchanged} unchanged.`,
      '',
      ...base.notes.map((n) => `> ${n}`),
      ...(base.notes.length ? [''] : []),
    );
  }
  return (
    [...lines, ...body]
      .join('\n')
      .replace(/\n{3,}/g, '\n\n')
      .trimEnd() + '\n'
  );
}
