/**
 * The pull-request summary of the connector definitions: per environment, each connector's region, credential kind,
 * events, grace period, anonymous flag and contact; each connector's receiver URL (what to paste into Braze); the resources each connector becomes (from a real synth of the
 * construct, so the list cannot drift from the infrastructure); and, against a base, which connectors were added,
 * removed or changed, field by field.
 *
 * A base is a git ref (its connector definitions are read with `git archive`, so the working tree is never touched) or an
 * earlier synth output directory (connectors are read back from each function's environment, the same round trip the
 * runtime makes).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { App, TerraformStack } from 'cdktf';
import { isSelector, typesOfSelector } from '../shared/catalog';
import {
  type Connector,
  connectorWarnings,
  type Environment,
  parseConnector,
  selectedTypes,
} from '../shared/connector';
import { FUNCTION_TARGET, receiverUrl, receiverUrlOutput } from '../shared/names';
import { ENV_VARS } from '../shared/runtime-config';
import { CurrentsConnector } from './connector-construct';

/** An environment as far as the summary is concerned: connectors may be raw when the base no longer validates. */
export interface SummaryEnvironment {
  readonly name: string;
  readonly project?: string;
  readonly region?: string;
  readonly backend?: unknown;
  /** Delete protection of the Firestore databases (absent when the base's databases do not say). */
  readonly deleteProtection?: boolean;
  readonly connectors: readonly (Connector | Record<string, unknown>)[];
}

export interface Base {
  /** How the base is described in the summary, e.g. "git ref `origin/main`". */
  readonly label: string;
  readonly environments: readonly SummaryEnvironment[];
  /** Notes about reading the base (e.g. definitions that no longer validate). */
  readonly notes: readonly string[];
}

// ---------------------------------------------------------------------------------------------------------------- base

/** Normalizes raw environment definitions with the current schema (connector by connector, raw when invalid). */
export function normalizeInputs(inputs: readonly unknown[]): { environments: SummaryEnvironment[]; notes: string[] } {
  const notes: string[] = [];
  const environments = inputs.map((raw, i) => {
    const e = (raw ?? {}) as Record<string, unknown>;
    const name = typeof e.name === 'string' ? e.name : `#${i}`;
    const connectors = (Array.isArray(e.connectors) ? e.connectors : []).map((c) => {
      const { connector } = parseConnector(c, { environment: name });
      if (!connector) {
        notes.push(
          `base connector '${(c as { name?: string })?.name ?? '?'}' in '${name}' does not validate under the current schema; compared as written`,
        );
      }
      return connector ?? (c as Record<string, unknown>);
    });
    return {
      name,
      project: e.project as string | undefined,
      region: e.region as string | undefined,
      backend: e.backend,
      // The schema's default when the definition leaves it out (on).
      deleteProtection: typeof e.deleteProtection === 'boolean' ? e.deleteProtection : true,
      connectors,
    };
  });
  return { environments, notes };
}

function git(cwd: string, args: string[]): string {
  const r = spawnSync('git', args, { cwd, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`git ${args.join(' ')} failed: ${(r.stderr || r.error?.message || '').trim()}`);
  return r.stdout;
}

/**
 * Reads the definitions file at a git ref: `git archive` of the ref into a temporary directory (which gets a link to
 * the repository's node_modules so the definitions and the schema they import load), then `load(path)`.
 */
export function baseFromGitRef(ref: string, definitionsFile: string, load: (file: string) => unknown[]): Base {
  const root = git(dirname(definitionsFile), ['rev-parse', '--show-toplevel']).trim();
  try {
    git(root, ['rev-parse', '--verify', '--quiet', `${ref}^{commit}`]);
  } catch {
    throw new Error(
      `unknown git ref '${ref}' in ${root} (in CI, fetch the base branch: actions/checkout with fetch-depth: 0)`,
    );
  }
  const rel = relative(root, definitionsFile);
  const dir = mkdtempSync(join(tmpdir(), 'currents-base-'));
  try {
    const tar = join(dir, 'base.tar');
    git(root, ['archive', '--format=tar', '-o', tar, ref]);
    const untar = spawnSync('tar', ['-xf', tar, '-C', dir], { encoding: 'utf8' });
    if (untar.status !== 0) throw new Error(`tar failed: ${untar.stderr}`);
    if (existsSync(join(root, 'node_modules'))) symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'));
    const file = join(dir, rel);
    if (!existsSync(file)) {
      return { label: `git ref \`${ref}\``, environments: [], notes: [`${rel} does not exist at ${ref}`] };
    }
    const { environments, notes } = normalizeInputs(load(file));
    return { label: `git ref \`${ref}\``, environments, notes };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

interface StackJson {
  provider?: { google?: { project?: string; region?: string }[] };
  terraform?: { backend?: Record<string, unknown> };
  resource?: Record<string, Record<string, Record<string, unknown>>>;
}

/** Reads the connectors back from an earlier synth output (`cdktf.out` or its `stacks/` directory). */
export function baseFromSynthDir(dir: string): Base {
  const stacksDir = existsSync(join(dir, 'stacks')) ? join(dir, 'stacks') : dir;
  const names = readdirSync(stacksDir).filter((n) => existsSync(join(stacksDir, n, 'cdk.tf.json')));
  if (!names.length) throw new Error(`${dir} holds no synthesized stacks (expected stacks/<env>/cdk.tf.json)`);
  const notes: string[] = [];
  const environments = names.sort().map((name) => {
    const json = JSON.parse(readFileSync(join(stacksDir, name, 'cdk.tf.json'), 'utf8')) as StackJson;
    const provider = json.provider?.google?.[0] ?? {};
    // One function per connector: the receivers carry the same environment, so only the `currents` entry point counts.
    const functions = Object.values(json.resource?.google_cloudfunctions2_function ?? {}).filter(
      (f) => (f.build_config as { entry_point?: string } | undefined)?.entry_point === FUNCTION_TARGET,
    );
    const connectors = functions.flatMap((f) => {
      const vars = (f.service_config as { environment_variables?: Record<string, string> } | undefined)
        ?.environment_variables;
      const raw = vars?.[ENV_VARS.connector];
      if (!raw) return [];
      const { connector } = parseConnector(JSON.parse(raw), { environment: name });
      if (!connector) notes.push(`a connector of '${name}' in the base does not validate under the current schema`);
      return [connector ?? (JSON.parse(raw) as Record<string, unknown>)];
    });
    const gcs = json.terraform?.backend?.gcs;
    const databases = Object.values(json.resource?.google_firestore_database ?? {});
    const deleteProtection = databases.length
      ? databases.every((d) => d.delete_protection_state === 'DELETE_PROTECTION_ENABLED')
      : undefined;
    return { name, project: provider.project, region: provider.region, backend: gcs, deleteProtection, connectors };
  });
  return { label: `synth output \`${dir}\``, environments, notes };
}

/** A directory is read as a synth output; anything else as a git ref. */
export function loadBase(base: string, definitionsFile: string, load: (file: string) => unknown[]): Base {
  if (existsSync(base) && statSync(base).isDirectory()) return baseFromSynthDir(base);
  return baseFromGitRef(base, definitionsFile, load);
}

// ---------------------------------------------------------------------------------------------------------------- diff

export interface FieldChange {
  readonly field: string;
  readonly before: unknown;
  readonly after: unknown;
}

function flatten(value: unknown, prefix: string, out: Map<string, unknown>): Map<string, unknown> {
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    const entries = Object.entries(value as Record<string, unknown>);
    if (!entries.length && prefix) out.set(prefix, value);
    for (const [k, v] of entries) flatten(v, prefix ? `${prefix}.${k}` : k, out);
  } else if (prefix) {
    out.set(prefix, value);
  }
  return out;
}

/** Field-level differences between two definitions (nested objects by path, arrays as a whole). */
export function diffFields(before: unknown, after: unknown): FieldChange[] {
  const a = flatten(before, '', new Map());
  const b = flatten(after, '', new Map());
  const fields = [...new Set([...a.keys(), ...b.keys()])].sort();
  return fields
    .filter((f) => JSON.stringify(a.get(f)) !== JSON.stringify(b.get(f)))
    .map((field) => ({ field, before: a.get(field), after: b.get(field) }));
}

const nameOf = (c: Connector | Record<string, unknown>): string => String((c as { name?: unknown }).name ?? '?');
const isConnector = (c: Connector | Record<string, unknown>): c is Connector =>
  Array.isArray((c as Connector).events) && typeof (c as Connector).segment === 'object';

// ------------------------------------------------------------------------------------------------------------ markdown

const code = (v: unknown): string => {
  if (v === undefined) return '_(unset)_';
  const text = typeof v === 'string' ? v : JSON.stringify(v);
  return `\`${text.replace(/`/g, "'").replace(/\|/g, '\\|')}\``;
};

/** "email (9), sms (6) = 15 types". */
export function describeEvents(c: Pick<Connector, 'events'>): string {
  const parts = c.events.map((e) => (isSelector(e) ? `${e} (${typesOfSelector(e).length})` : e));
  return `${parts.join(', ')} = ${selectedTypes(c).length} types`;
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
    receiverSource: { bucket: 'source-bucket', object: 'receiver.zip' },
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
}

/** The Markdown summary. */
export function planSummary(current: readonly Environment[], options: SummaryOptions = {}): string {
  const lines: string[] = ['## Currents → Segment connectors: plan summary', ''];
  const base = options.base;
  const baseEnvs = new Map(base?.environments.map((e) => [e.name, e]) ?? []);
  let added = 0;
  let removed = 0;
  let changed = 0;
  let unchanged = 0;
  const body: string[] = [];

  for (const env of current) {
    const before = baseEnvs.get(env.name);
    const state = env.backend
      ? `GCS \`${env.backend.bucket}/${env.backend.prefix ?? `currents-segment/${env.name}`}\``
      : 'local';
    body.push(
      `### Environment \`${env.name}\`${base && !before ? ' (new)' : ''}`,
      '',
      `Project \`${env.project}\`, region \`${env.region}\`, state ${state}, ${env.connectors.length} connector(s), ` +
        `Firestore delete protection **${env.deleteProtection ? 'on' : 'off'}**.`,
      '',
    );
    if (before) {
      for (const ch of diffFields(
        {
          project: before.project,
          region: before.region,
          backend: before.backend,
          deleteProtection: before.deleteProtection,
        },
        { project: env.project, region: env.region, backend: env.backend, deleteProtection: env.deleteProtection },
      )) {
        body.push(`- ⚠️ environment ${describeChange(ch)}`);
      }
    }
    const beforeByName = new Map(before?.connectors.map((c) => [nameOf(c), c]) ?? []);
    const changes: string[] = [];
    const status = new Map<string, string>();
    for (const c of env.connectors) {
      const old = beforeByName.get(c.name);
      if (!base) continue;
      if (!old) {
        added++;
        status.set(c.name, 'added');
        changes.push(`- ➕ **added** \`${c.name}\` (${c.displayName}): ${c.segment.region}, ${describeEvents(c)}`);
        continue;
      }
      const diff = diffFields(old, c);
      if (!diff.length) {
        unchanged++;
        status.set(c.name, 'unchanged');
        continue;
      }
      changed++;
      status.set(c.name, 'changed');
      changes.push(`- ✏️ **changed** \`${c.name}\`:`, ...diff.map((d) => `  - ${describeChange(d, old, c)}`));
      if (diff.some((d) => d.field === 'segment.region')) {
        changes.push('  - ⚠️ region changed: check that the secret holds the credential of the new region’s workspace');
      }
    }
    for (const old of before?.connectors ?? []) {
      if (env.connectors.some((c) => c.name === nameOf(old))) continue;
      removed++;
      changes.push(
        `- ➖ **removed** \`${nameOf(old)}\`: its topics (and any undelivered or dead-lettered events in them), function, ` +
          'secret, scheduler job and alerts are destroyed; its Firestore database is abandoned when delete protection is on',
      );
    }
    body.push(
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
      '',
    );
    if (env.connectors.length) {
      body.push(
        `**Receiver URLs** (Braze's Custom Currents Export posts here; known after deploy as the stack output ` +
          `\`<connector>-receiver-url\`, which has this form):`,
        '',
        ...env.connectors.map(
          (c) => `- \`${c.name}\`: ${receiverUrl(env, c.name)} (output \`${receiverUrlOutput(c.name)}\`)`,
        ),
        '',
      );
    }
    if (base)
      body.push(
        changes.length ? '**Changes**' : '_No connector changes._',
        '',
        ...changes,
        ...(changes.length ? [''] : []),
      );
    if (options.resources !== false && env.connectors.length) {
      body.push('<details><summary>Resources per connector</summary>', '');
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
    }
  }
  for (const old of base?.environments ?? []) {
    if (current.some((e) => e.name === old.name)) continue;
    removed += old.connectors.length;
    body.push(
      `### Environment \`${old.name}\` (removed)`,
      '',
      `Its ${old.connectors.length} connector(s) are no longer defined: ${old.connectors.map((c) => `\`${nameOf(c)}\``).join(', ') || 'none'}. ` +
        `Its stack is not synthesized any more; destroy it with \`cdktf destroy ${old.name}\` before merging if that is the intent.`,
      '',
    );
  }
  if (base) {
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
