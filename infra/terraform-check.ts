/**
 * Terraform's own check of what synth writes, offline. The Google provider plugin cannot be downloaded here, but the
 * terraform CLI can parse and validate a configuration without it once every provider resource is something Terraform
 * has built in. So each `google_*` (and `time_*`) resource and data source becomes a `terraform_data` whose `input` is
 * its arguments, every reference to it inside an interpolation (`${google_x.name.attr}`) becomes
 * `${terraform_data.google_x__name.output.attr}`, and the meta-arguments keep their meaning (`depends_on`, `count`,
 * `for_each`, `lifecycle`; `provider` is checked against the declared provider configurations). Then
 * `terraform init -backend=false` and `terraform validate` judge every template, reference, function call and
 * `depends_on` with Terraform's own parser: a literal `${` that is not written `$${` fails, as it would in a plan.
 *
 * What needs the provider's schema (attribute names and types) is not checked by Terraform here; the few arguments a
 * first deploy needs and the schema would not require (`REQUIRED_ARGUMENTS`) are checked on the JSON beside it.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

type Json = Record<string, unknown>;
/** A Terraform JSON configuration (`cdk.tf.json`). */
export type TerraformJson = Json;

/** The providers whose resources are rewritten onto `terraform_data` (by resource type prefix). */
export const REWRITTEN_PROVIDERS = ['google', 'google-beta', 'time'] as const;
const REWRITTEN_TYPE = /^(google|time)_[a-z0-9_]+$/;

/**
 * Arguments a first deploy needs that the provider does not require: per resource type, dotted paths into the
 * resource's arguments (nested blocks are objects in Terraform JSON).
 */
export const REQUIRED_ARGUMENTS: Record<string, readonly string[]> = {
  // New projects build functions with a default build account that lacks the roles a build needs.
  google_cloudfunctions2_function: ['build_config.service_account'],
};

export interface TerraformProblem {
  /** The address in the synthesized configuration (`google_pubsub_topic.x`), when the problem has one. */
  readonly address?: string;
  readonly summary: string;
  readonly detail?: string;
}

export interface TerraformCheckResult {
  readonly valid: boolean;
  readonly problems: TerraformProblem[];
}

export class TerraformMissingError extends Error {}

/** The lowest Terraform that has the builtin `terraform_data` (1.4). */
const MIN_VERSION: readonly [number, number] = [1, 4];

/** The `terraform_data` name standing for a rewritten resource or data source. */
export const standInName = (type: string, name: string, data = false): string =>
  `${data ? 'data__' : ''}${type}__${name}`;

/** Splits a template into literal and interpolation/directive parts; `$${` and `%%{` stay literal. */
function rewriteTemplate(template: string, rewrite: (expr: string) => string): string {
  let out = '';
  let i = 0;
  while (i < template.length) {
    const two = template.slice(i, i + 2);
    const three = template.slice(i, i + 3);
    if (three === '$${' || three === '%%{') {
      out += three;
      i += 3;
    } else if (two === '${' || two === '%{') {
      const end = closingBrace(template, i + 2);
      if (end < 0) return out + template.slice(i); // unterminated: left for Terraform to report
      out += `${two}${rewrite(template.slice(i + 2, end))}}`;
      i = end + 1;
    } else {
      out += template[i];
      i += 1;
    }
  }
  return out;
}

/** The index of the `}` closing an interpolation opened before `from`, skipping nested braces and quoted strings. */
function closingBrace(s: string, from: number): number {
  let depth = 0;
  for (let i = from; i < s.length; i++) {
    const c = s[i];
    if (c === '"') {
      for (i++; i < s.length && s[i] !== '"'; i++) if (s[i] === '\\') i++;
    } else if (c === '{') depth++;
    else if (c === '}') {
      if (depth === 0) return i;
      depth--;
    }
  }
  return -1;
}

const REFERENCE =
  /(?<![\w.$-])(data\.)?((?:google|time)_[a-z0-9_]+)\.([A-Za-z_][\w-]*)(\[[^\]]*\])?((?:\.[A-Za-z_][\w-]*|\[[^\]]*\])*)/g;

/**
 * How references are rewritten: onto the stand-in's `output` (validate: any attribute path is accepted), or onto its
 * `id` (plan: a value unknown until apply, as a provider's computed attribute is).
 */
type ReferenceMode = 'output' | 'unknown';

/**
 * A reference inside an expression, rewritten onto its stand-in; inside a stand-in's own meta-arguments (lifecycle
 * conditions, provisioners) `self.x` becomes `self.output.x` too.
 */
function rewriteExpression(expr: string, mode: ReferenceMode, inStandIn: boolean): string {
  const rewritten = expr.replace(
    REFERENCE,
    (_m, data: string | undefined, type: string, name: string, key = '', rest: string) => {
      const standIn = `terraform_data.${standInName(type, name, !!data)}${key}`;
      return mode === 'output' ? `${standIn}.output${rest}` : `${standIn}.id`;
    },
  );
  return inStandIn ? rewritten.replace(/(?<![\w.$-])self\.(?!output\b)/g, 'self.output.') : rewritten;
}

/** A bare reference (`depends_on`, `replace_triggered_by`): the stand-in itself. */
function rewriteBareReference(ref: string): string {
  const m = /^(data\.)?((?:google|time)_[a-z0-9_]+)\.([A-Za-z_][\w-]*)(.*)$/.exec(ref);
  return m ? `terraform_data.${standInName(m[2]!, m[3]!, !!m[1])}${m[4]}` : ref;
}

/** Every string of a value, rewritten as a template. */
function rewriteValue(value: unknown, mode: ReferenceMode = 'output', inStandIn = false): unknown {
  if (typeof value === 'string') return rewriteTemplate(value, (expr) => rewriteExpression(expr, mode, inStandIn));
  if (Array.isArray(value)) return value.map((v) => rewriteValue(v, mode, inStandIn));
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value as Json)
        .filter(([k]) => k !== '//')
        .map(([k, v]) => [k, rewriteValue(v, mode, inStandIn)]),
    );
  }
  return value;
}

/** The provider configurations declared (`google`, `google.alias`). */
function declaredProviders(json: TerraformJson): Set<string> {
  const out = new Set<string>();
  for (const [name, configs] of Object.entries((json.provider ?? {}) as Record<string, unknown>)) {
    for (const config of [configs].flat() as Json[]) out.add(config.alias ? `${name}.${String(config.alias)}` : name);
  }
  return out;
}

/** One resource or data source as its `terraform_data` stand-in (meta-arguments kept, `provider` checked). */
function standIn(
  address: string,
  body: Json,
  providers: Set<string>,
  problems: TerraformProblem[],
  mode: ReferenceMode,
): Json {
  const { count, for_each, depends_on, lifecycle, provider, provisioner, connection, ...args } = body;
  delete args['//'];
  const out: Json = { input: rewriteValue(args, mode) };
  if (count !== undefined) out.count = rewriteValue(count, mode);
  if (for_each !== undefined) out.for_each = rewriteValue(for_each, mode);
  if (depends_on !== undefined) out.depends_on = (depends_on as string[]).map(rewriteBareReference);
  if (provisioner !== undefined) out.provisioner = rewriteValue(provisioner, mode, true);
  if (connection !== undefined) out.connection = rewriteValue(connection, mode, true);
  if (lifecycle !== undefined) {
    const { ignore_changes, replace_triggered_by, ...rest } = lifecycle as Json;
    const life: Json = rewriteValue(rest, mode, true) as Json;
    // The provider's attribute paths are unknown to terraform_data: each stands for part of `input`.
    if (ignore_changes !== undefined) life.ignore_changes = ignore_changes === 'all' ? 'all' : ['input'];
    if (replace_triggered_by !== undefined) {
      life.replace_triggered_by = (replace_triggered_by as string[]).map(rewriteBareReference);
    }
    out.lifecycle = life;
  }
  if (provider !== undefined && !providers.has(String(provider))) {
    problems.push({
      address,
      summary: `Provider configuration not present`,
      detail: `${address} names provider "${String(provider)}", which no provider block declares`,
    });
  }
  return out;
}

/**
 * The configuration with every rewritten-provider resource and data source as a `terraform_data` stand-in, and the
 * problems found on the way (a `provider` meta-argument naming an undeclared configuration).
 */
export function toOfflineConfig(
  json: TerraformJson,
  mode: ReferenceMode = 'output',
): { config: TerraformJson; problems: TerraformProblem[] } {
  const problems: TerraformProblem[] = [];
  const providers = declaredProviders(json);
  const standIns: Record<string, Json> = {};
  const config: Json = {};
  for (const [block, value] of Object.entries(json)) {
    if (block === '//') continue;
    if (block === 'resource' || block === 'data') {
      const kept: Record<string, unknown> = {};
      for (const [type, byName] of Object.entries(value as Record<string, Record<string, Json>>)) {
        if (!REWRITTEN_TYPE.test(type)) {
          kept[type] = rewriteValue(byName, mode);
          continue;
        }
        for (const [name, body] of Object.entries(byName)) {
          const address = `${block === 'data' ? 'data.' : ''}${type}.${name}`;
          standIns[standInName(type, name, block === 'data')] = standIn(address, body, providers, problems, mode);
        }
      }
      if (Object.keys(kept).length) {
        config[block] = { ...(config[block] as Json | undefined), ...kept };
      }
    } else if (block === 'provider') {
      // The provider configurations' own expressions are checked as stand-ins too.
      for (const [name, configs] of Object.entries(value as Record<string, unknown>)) {
        if (!(REWRITTEN_PROVIDERS as readonly string[]).includes(name)) {
          config.provider = { ...(config.provider as Json | undefined), [name]: rewriteValue(configs, mode) };
          continue;
        }
        ([configs].flat() as Json[]).forEach((c, i) => {
          standIns[`provider__${name}__${i}`] = { input: rewriteValue(c, mode) };
        });
      }
    } else if (block === 'terraform') {
      const { required_providers, ...rest } = value as Json;
      const others = Object.entries((required_providers ?? {}) as Json).filter(
        ([name]) => !(REWRITTEN_PROVIDERS as readonly string[]).includes(name),
      );
      config.terraform = { ...rest, ...(others.length ? { required_providers: Object.fromEntries(others) } : {}) };
    } else {
      config[block] = rewriteValue(value, mode);
    }
  }
  if (Object.keys(standIns).length) {
    config.resource = { ...(config.resource as Json | undefined), terraform_data: standIns };
  }
  return { config, problems };
}

/** The value at a dotted path of a resource's arguments (a block written as a one-element list counts as its object). */
function argumentAt(body: unknown, path: string): unknown {
  let at: unknown = body;
  for (const key of path.split('.')) {
    if (Array.isArray(at)) at = at[0];
    at = at && typeof at === 'object' ? (at as Json)[key] : undefined;
  }
  return at;
}

/** `REQUIRED_ARGUMENTS` missing (or empty) from the configuration's resources. */
export function missingArguments(
  json: TerraformJson,
  required: Record<string, readonly string[]> = REQUIRED_ARGUMENTS,
): TerraformProblem[] {
  const resources = (json.resource ?? {}) as Record<string, Record<string, Json>>;
  const problems: TerraformProblem[] = [];
  for (const [type, paths] of Object.entries(required)) {
    for (const [name, body] of Object.entries(resources[type] ?? {})) {
      for (const path of paths) {
        const value = argumentAt(body, path);
        if (value === undefined || value === null || value === '') {
          problems.push({
            address: `${type}.${name}`,
            summary: `Missing ${path}`,
            detail: 'a first deploy needs it',
          });
        }
      }
    }
  }
  return problems;
}

/** The terraform CLI on PATH and its version; throws TerraformMissingError naming what to install. */
export function findTerraform(env: NodeJS.ProcessEnv = process.env): { version: string } {
  const run = spawnSync('terraform', ['version', '-json'], {
    encoding: 'utf8',
    env: { ...env, CHECKPOINT_DISABLE: '1' },
  });
  const install =
    'install Terraform 1.4 or newer (HashiCorp’s Debian package `terraform`, from apt.releases.hashicorp.com); ' +
    'the offline Terraform check of the synthesized stacks (test/infra/terraform.test.ts) needs it';
  if (run.error || run.status !== 0)
    throw new TerraformMissingError(`\`terraform\` was not found on PATH: ${install}.`);
  let version = '';
  try {
    version = String((JSON.parse(run.stdout) as Json).terraform_version ?? '');
  } catch {
    version = /Terraform v(\d+\.\d+\.\d+)/.exec(run.stdout)?.[1] ?? '';
  }
  const [major = 0, minor = 0] = version.split('.').map(Number);
  if (major < MIN_VERSION[0] || (major === MIN_VERSION[0] && minor < MIN_VERSION[1])) {
    throw new TerraformMissingError(`Terraform ${version || '(unknown version)'} is too old: ${install}.`);
  }
  return { version };
}

interface Diagnostic {
  severity: string;
  summary: string;
  detail?: string;
  snippet?: { context?: string | null };
  range?: { start: { line: number } };
}

/**
 * The synthesized address a diagnostic is about: from its context (`resource.terraform_data.<stand-in>.input`), or,
 * for a parse error, which has none, from its line in main.tf.json (written with two-space indents, so a stand-in's
 * key is the nearest line above at six spaces).
 */
function originalAddress(d: Diagnostic, lines: readonly string[], standIns: Map<string, string>): string | undefined {
  let name = /^resource\.terraform_data\.([^.]+)/.exec(d.snippet?.context ?? '')?.[1];
  for (let line = (d.range?.start.line ?? 0) - 1; !name && line >= 0; line--) {
    name = /^ {6}"([^"]+)": \{$/.exec(lines[line] ?? '')?.[1];
  }
  return name ? (standIns.get(name) ?? name) : undefined;
}

/** A stand-in named in a diagnostic's text (`"terraform_data" "google_x__name"`), to write back as the original. */
const STAND_IN_IN_TEXT = /(A managed resource )?"terraform_data" "(data__)?((?:google|time)_[a-z0-9_]+?)__([^"]+)"/g;

/** Runs `terraform` in `dir` with a private CLI configuration (no ~/.terraformrc, no checkpoint call). */
function terraform(dir: string, args: string[], env: NodeJS.ProcessEnv) {
  return spawnSync('terraform', args, {
    cwd: dir,
    encoding: 'utf8',
    env: {
      PATH: env.PATH ?? '',
      HOME: dir,
      TF_CLI_CONFIG_FILE: join(dir, 'terraformrc'),
      TF_DATA_DIR: join(dir, '.terraform'),
      TF_IN_AUTOMATION: '1',
      CHECKPOINT_DISABLE: '1',
    },
  });
}

/** The stand-ins' names, back to the synthesized addresses. */
function standInAddresses(json: TerraformJson): Map<string, string> {
  const out = new Map<string, string>();
  for (const block of ['resource', 'data'] as const) {
    for (const [type, byName] of Object.entries((json[block] ?? {}) as Record<string, Json>)) {
      for (const name of Object.keys(byName)) {
        out.set(standInName(type, name, block === 'data'), `${block === 'data' ? 'data.' : ''}${type}.${name}`);
      }
    }
  }
  return out;
}

/** Runs `work` in a fresh directory holding `config` as main.tf.json and a private, empty CLI configuration. */
function inScratchDirectory<T>(config: TerraformJson, work: (dir: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'currents-terraform-check-'));
  try {
    writeFileSync(join(dir, 'terraformrc'), '');
    writeFileSync(join(dir, 'main.tf.json'), JSON.stringify(config, null, 2));
    return work(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `terraform init` without backend or plugins; a problem when it fails. */
function init(dir: string, env: NodeJS.ProcessEnv): TerraformProblem | undefined {
  const run = terraform(dir, ['init', '-backend=false', '-input=false', '-no-color'], env);
  return run.status === 0
    ? undefined
    : { summary: 'terraform init failed', detail: `${run.stdout}${run.stderr}`.trim() };
}

/**
 * Terraform's check of a synthesized configuration: the offline stand-in configuration through
 * `terraform init -backend=false` and `terraform validate`, plus `missingArguments`. Throws TerraformMissingError
 * when the CLI is not there.
 */
export function checkTerraformJson(
  json: TerraformJson,
  options: { env?: NodeJS.ProcessEnv; required?: Record<string, readonly string[]> } = {},
): TerraformCheckResult {
  const env = options.env ?? process.env;
  findTerraform(env);
  const { config, problems } = toOfflineConfig(json);
  problems.push(...missingArguments(json, options.required));
  const standIns = standInAddresses(json);
  const lines = JSON.stringify(config, null, 2).split('\n');
  return inScratchDirectory(config, (dir) => {
    const failed = init(dir, env);
    if (failed) return { valid: false, problems: [...problems, failed] };
    const validate = terraform(dir, ['validate', '-json', '-no-color'], env);
    const report = JSON.parse(validate.stdout || '{}') as { diagnostics?: Diagnostic[] };
    for (const d of report.diagnostics ?? []) {
      if (d.severity !== 'error') continue;
      const address = originalAddress(d, lines, standIns);
      const detail = d.detail?.replace(
        STAND_IN_IN_TEXT,
        (_m, managed: string | undefined, data: string | undefined, type: string, name: string) =>
          `${managed ? (data ? 'A data source ' : managed) : ''}"${type}" "${name}"`,
      );
      problems.push({ ...(address ? { address } : {}), summary: d.summary, ...(detail ? { detail } : {}) });
    }
    if (!report.diagnostics && validate.status !== 0) {
      problems.push({ summary: 'terraform validate failed', detail: `${validate.stdout}${validate.stderr}`.trim() });
    }
    return { valid: problems.length === 0, problems };
  });
}

/**
 * The arguments of every resource and data source as Terraform itself evaluates them (`terraform plan` of the
 * stand-ins, offline, no state): by synthesized address, the values known before apply (references to other
 * resources' attributes are unknown and left out). Shows what Terraform makes of each template, e.g. that a
 * display name is read as written.
 */
export function plannedArguments(json: TerraformJson, env: NodeJS.ProcessEnv = process.env): Map<string, Json> {
  findTerraform(env);
  const { config } = toOfflineConfig(json, 'unknown');
  delete (config.terraform as Json | undefined)?.backend;
  const standIns = standInAddresses(json);
  return inScratchDirectory(config, (dir) => {
    const failed = init(dir, env);
    if (failed) throw new Error(formatProblems([failed]));
    const plan = terraform(
      dir,
      ['plan', '-out=plan', '-input=false', '-refresh=false', '-lock=false', '-no-color'],
      env,
    );
    if (plan.status !== 0) throw new Error(`terraform plan failed: ${plan.stdout}${plan.stderr}`);
    const show = terraform(dir, ['show', '-json', 'plan'], env);
    const planned = JSON.parse(show.stdout) as {
      planned_values: { root_module: { resources?: { name: string; values: { input?: Json } }[] } };
    };
    const out = new Map<string, Json>();
    for (const r of planned.planned_values.root_module.resources ?? []) {
      out.set(standIns.get(r.name) ?? r.name, r.values.input ?? {});
    }
    return out;
  });
}

/** The problems as lines, one a problem (for test failures and CI logs). */
export const formatProblems = (problems: readonly TerraformProblem[]): string =>
  problems.map((p) => `${p.address ? `${p.address}: ` : ''}${p.summary}${p.detail ? ` (${p.detail})` : ''}`).join('\n');
