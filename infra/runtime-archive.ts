/**
 * Builds the function's source archive at synth time: esbuild bundles the runtime's entry point (and the shared/ code it
 * imports) into one CommonJS file with every npm package left external, next to a generated package.json that lists
 * only the runtime's dependencies (versions from the root package.json). The archive is a deterministic ZIP named by
 * the SHA-256 of its bytes, so a code change gives a new object name (the function redeploys) and an unchanged build
 * gives the same name and the same bytes (no change in the plan).
 */
import { createHash } from 'node:crypto';
import { builtinModules } from 'node:module';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { buildSync } from 'esbuild';
import { FUNCTION_TARGET } from '../shared/names';
import { zip } from './zip';

export { FUNCTION_TARGET };

export const REPO_ROOT = resolve(__dirname, '..');
/** The runtime's entry point: exports the HTTP function `currents` (functions-framework target). */
export const DEFAULT_RUNTIME_ENTRY = join(REPO_ROOT, 'runtime', 'function.ts');
/** The functions-framework target, i.e. the function's build entry point. */
/** What the function's runtime may `require` at run time; everything else is bundled. */
export const RUNTIME_DEPENDENCIES = [
  '@google-cloud/functions-framework',
  '@google-cloud/firestore',
  '@google-cloud/pubsub',
  '@google-cloud/secret-manager',
  'undici',
  'jose',
  'zod',
] as const;

export interface RuntimeArchive {
  /** Absolute path of the ZIP file. */
  readonly path: string;
  /** SHA-256 (hex) of the ZIP's bytes. */
  readonly sha256: string;
  /** Object name in the source bucket; changes exactly when the content does. */
  readonly objectName: string;
  readonly bytes: number;
}

export interface BuildRuntimeArchiveOptions {
  /** Entry point to bundle. Default: runtime/function.ts (or $CURRENTS_RUNTIME_ENTRY). */
  readonly entry?: string;
  /** Directory the ZIP is written to. Default: cdktf.out/.runtime under the repository root. */
  readonly outDir?: string;
  /** package.json whose dependency versions are used. Default: the repository's. */
  readonly packageJson?: string;
}

export class RuntimeEntryMissingError extends Error {
  constructor(readonly entry: string) {
    super(
      `the function's entry point ${relative(process.cwd(), entry) || entry} does not exist: the runtime must export the ` +
        `HTTP function '${FUNCTION_TARGET}' from it before an environment can be synthesized ` +
        '(set CURRENTS_RUNTIME_ENTRY to bundle another file)',
    );
    this.name = 'RuntimeEntryMissingError';
  }
}

/** The package.json shipped with the bundle: `main` plus only the runtime's dependencies. */
export function runtimePackageJson(rootPackageJson: string): string {
  const root = JSON.parse(readFileSync(rootPackageJson, 'utf8')) as {
    dependencies?: Record<string, string>;
    engines?: Record<string, string>;
  };
  const dependencies: Record<string, string> = {};
  for (const name of RUNTIME_DEPENDENCIES) {
    const version = root.dependencies?.[name];
    if (!version) throw new Error(`${rootPackageJson} has no dependency '${name}', which the runtime needs`);
    dependencies[name] = version;
  }
  const pkg = {
    name: 'currents-segment-function',
    version: '0.0.0',
    private: true,
    main: 'index.js',
    engines: { node: '>=22' },
    dependencies,
  };
  return `${JSON.stringify(pkg, null, 2)}\n`;
}

const cache = new Map<string, RuntimeArchive>();

/** Bundles and zips the runtime (once per entry and output directory in a process). */
export function buildRuntimeArchive(options: BuildRuntimeArchiveOptions = {}): RuntimeArchive {
  const entry = resolve(options.entry ?? process.env.CURRENTS_RUNTIME_ENTRY ?? DEFAULT_RUNTIME_ENTRY);
  const outDir = resolve(options.outDir ?? join(REPO_ROOT, 'cdktf.out', '.runtime'));
  const packageJson = resolve(options.packageJson ?? join(REPO_ROOT, 'package.json'));
  const key = `${entry}\0${outDir}\0${packageJson}`;
  const hit = cache.get(key);
  if (hit && existsSync(hit.path)) return hit;
  if (!existsSync(entry)) throw new RuntimeEntryMissingError(entry);

  const result = buildSync({
    entryPoints: [entry],
    bundle: true,
    packages: 'external',
    platform: 'node',
    target: 'node22',
    format: 'cjs',
    write: false,
    outfile: 'index.js',
    legalComments: 'none',
    logLevel: 'silent',
    metafile: true,
    // Paths in the bundle are relative to the repository, never to the machine that built it.
    absWorkingDir: REPO_ROOT,
  });
  // Every package the bundle leaves external must be one the generated package.json installs.
  const allowed = new Set<string>(RUNTIME_DEPENDENCIES);
  const unlisted = new Set<string>();
  for (const input of Object.values(result.metafile.inputs)) {
    for (const imp of input.imports) {
      if (!imp.external || imp.path.startsWith('node:')) continue;
      const pkg = imp.path.startsWith('@') ? imp.path.split('/').slice(0, 2).join('/') : imp.path.split('/')[0]!;
      if (!allowed.has(pkg) && !builtinModules.includes(pkg)) unlisted.add(pkg);
    }
  }
  if (unlisted.size) {
    throw new Error(
      `the runtime imports ${[...unlisted].map((p) => `'${p}'`).join(', ')}, which the function's package.json would not ` +
        'install: add it to RUNTIME_DEPENDENCIES in infra/runtime-archive.ts (and to package.json dependencies)',
    );
  }
  const bundle = result.outputFiles.find((f) => f.path.endsWith('index.js'));
  if (!bundle) throw new Error(`esbuild produced no index.js for ${entry}`);
  const bytes = zip([
    { name: 'index.js', data: Buffer.from(bundle.contents) },
    { name: 'package.json', data: Buffer.from(runtimePackageJson(packageJson)) },
  ]);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  mkdirSync(outDir, { recursive: true });
  const path = join(outDir, `function-${sha256.slice(0, 16)}.zip`);
  if (!existsSync(path)) writeFileSync(path, bytes);
  const archive = { path, sha256, objectName: `function-source/${sha256}.zip`, bytes: bytes.length };
  cache.set(key, archive);
  return archive;
}
