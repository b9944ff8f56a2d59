/**
 * The base a pull-request summary compares against: a git ref (its connector definitions are read with `git archive`, so
 * the working tree is never touched) or an earlier synth output directory (connectors are read back from each
 * function's environment, the same round trip the runtime makes). All the summary's git, tar and file I/O is here.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { type Connector, parseConnector } from '../../shared/connector';
import { FUNCTION_TARGET } from '../../shared/names';
import { ENV_VARS } from '../../shared/runtime-config';
import { unescapeTemplateLiterals } from '../terraform-literals';

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
      // A literal in Terraform JSON, written escaped (infra/terraform-literals.ts): read as Terraform reads it.
      const written = vars?.[ENV_VARS.connector];
      const raw = written === undefined ? undefined : unescapeTemplateLiterals(written);
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
