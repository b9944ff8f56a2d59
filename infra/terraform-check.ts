/**
 * Terraform's own check of what synth writes, offline. The Google provider plugin cannot be downloaded here, but the
 * terraform CLI can parse and validate a configuration without it once every provider resource is something Terraform
 * has built in. So each `google_*` (and `time_*`) resource and data source becomes a `terraform_data` whose `input` is
 * its arguments, every reference to it inside an interpolation (`${google_x.name.attr}`) becomes
 * `${terraform_data.google_x__name.output.attr}`, and the meta-arguments keep their meaning (`depends_on`, `count`,
 * `for_each`, `lifecycle`; `provider` is checked against the declared provider configurations: the rewriting is
 * ./terraform-offline.ts). Then
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
import {
  missingArguments,
  standInAddresses,
  type TerraformJson,
  type TerraformProblem,
  toOfflineConfig,
} from './terraform-offline';

export {
  missingArguments,
  REQUIRED_ARGUMENTS,
  REWRITTEN_PROVIDERS,
  standInName,
  type TerraformJson,
  type TerraformProblem,
  toOfflineConfig,
} from './terraform-offline';

type Json = Record<string, unknown>;

export interface TerraformCheckResult {
  readonly valid: boolean;
  readonly problems: TerraformProblem[];
}

export class TerraformMissingError extends Error {}

/** The lowest Terraform that has the builtin `terraform_data` (1.4). */
const MIN_VERSION: readonly [number, number] = [1, 4];

/** The terraform CLI on PATH and its version; throws TerraformMissingError naming what to install. */
export function findTerraform(env: NodeJS.ProcessEnv = process.env): { version: string } {
  const run = spawnSync('terraform', ['version', '-json'], {
    encoding: 'utf8',
    env: { ...env, CHECKPOINT_DISABLE: '1' },
  });
  const install =
    'install Terraform 1.4 or newer (HashiCorp’s Debian package `terraform`, from apt.releases.hashicorp.com); ' +
    'the offline Terraform check of the synthesized stacks (test/unit/infra/terraform.test.ts) needs it';
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
  range?: { filename: string };
}

/**
 * The synthesized address a diagnostic is about: each stand-in is written to its own file (`<stand-in>.tf.json`), so
 * its file names it; else its context (`resource.terraform_data.<stand-in>.input`).
 */
function originalAddress(d: Diagnostic, standIns: Map<string, string>): string | undefined {
  const file = /^(.+)\.tf\.json$/.exec(d.range?.filename ?? '')?.[1];
  const name =
    file && standIns.has(file) ? file : /^resource\.terraform_data\.([^.]+)/.exec(d.snippet?.context ?? '')?.[1];
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

/**
 * Runs `work` in a fresh directory holding `config` and a private, empty CLI configuration. Each stand-in goes to its
 * own file, the rest to main.tf.json: Terraform's cost per diagnostic grows with the size of the file it is in (20 ms
 * each in one file the size of a stack, well under 1 ms in a file of its own), and a file names its resource.
 */
function inScratchDirectory<T>(config: TerraformJson, work: (dir: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'currents-terraform-check-'));
  try {
    writeFileSync(join(dir, 'terraformrc'), '');
    const { terraform_data: standIns = {}, ...resources } = (config.resource ?? {}) as Record<string, Json>;
    const main: Json = { ...config, resource: resources };
    if (!Object.keys(resources).length) delete main.resource;
    writeFileSync(join(dir, 'main.tf.json'), JSON.stringify(main, null, 2));
    for (const [name, body] of Object.entries(standIns as Record<string, Json>)) {
      writeFileSync(
        join(dir, `${name}.tf.json`),
        JSON.stringify({ resource: { terraform_data: { [name]: body } } }, null, 2),
      );
    }
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
  return inScratchDirectory(config, (dir) => {
    const failed = init(dir, env);
    if (failed) return { valid: false, problems: [...problems, failed] };
    const validate = terraform(dir, ['validate', '-json', '-no-color'], env);
    const report = JSON.parse(validate.stdout || '{}') as { diagnostics?: Diagnostic[] };
    for (const d of report.diagnostics ?? []) {
      if (d.severity !== 'error') continue;
      const address = originalAddress(d, standIns);
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
