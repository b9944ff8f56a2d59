/**
 * Builds the source archives at synth time, one per deployed entry point (the function, and the receiver): esbuild
 * bundles the entry point (and the shared/ code it imports) into one CommonJS file with every npm package left
 * external, next to a generated package.json that lists only the runtime's dependencies at the EXACT versions of the
 * repository's package-lock.json, and a package-lock.json of their whole tree taken from it (infra/runtime-lockfile.ts):
 * Cloud Build's `npm ci` installs what the tests ran. The archive is a deterministic ZIP (fflate, fixed timestamps and
 * modes, entries sorted) named by the SHA-256 of its bytes, so a code or version change gives a new object name (the
 * function redeploys) and an unchanged build gives the same name and the same bytes (no change in the plan).
 */
import { createHash } from 'node:crypto';
import { builtinModules } from 'node:module';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { buildSync } from 'esbuild';
import { zipSync } from 'fflate';
import { FUNCTION_TARGET, IMPORTER_TARGET, RECEIVER_TARGET } from '../shared/names';
import { type Lockfile, runtimeManifest } from './runtime-lockfile';

export { FUNCTION_TARGET, RECEIVER_TARGET };

export const REPO_ROOT = resolve(__dirname, '..');
/** The runtime's entry point: exports the HTTP function `currents` (functions-framework target). */
export const DEFAULT_RUNTIME_ENTRY = join(REPO_ROOT, 'runtime', 'function.ts');
/** The receiver's entry point: exports the HTTP function `receiver` (functions-framework target). */
export const DEFAULT_RECEIVER_ENTRY = join(REPO_ROOT, 'runtime', 'receiver', 'function.ts');
/** The storage importer's entry point: exports the HTTP function `importer` (functions-framework target). */
export const DEFAULT_IMPORTER_ENTRY = join(REPO_ROOT, 'runtime', 'storage', 'function.ts');

/**
 * The deployed entry points: where each is bundled from by default (and the variable that overrides it), the
 * functions-framework target it must export, and the prefix of its archive's object name in the source bucket.
 */
export const ARCHIVE_KINDS = {
  function: {
    entry: DEFAULT_RUNTIME_ENTRY,
    variable: 'CURRENTS_RUNTIME_ENTRY',
    target: FUNCTION_TARGET,
    what: 'function',
  },
  receiver: {
    entry: DEFAULT_RECEIVER_ENTRY,
    variable: 'CURRENTS_RECEIVER_ENTRY',
    target: RECEIVER_TARGET,
    what: 'receiver',
  },
  importer: {
    entry: DEFAULT_IMPORTER_ENTRY,
    variable: 'CURRENTS_IMPORTER_ENTRY',
    target: IMPORTER_TARGET,
    what: 'storage importer',
  },
} as const;
export type ArchiveKind = keyof typeof ARCHIVE_KINDS;

/** What the deployed code (function and receiver) may `require` at run time; everything else is bundled. */
export const RUNTIME_DEPENDENCIES = [
  '@google-cloud/functions-framework',
  '@google-cloud/firestore',
  '@google-cloud/pubsub',
  '@google-cloud/secret-manager',
  '@google-cloud/storage',
  'avsc',
  'undici',
  'jose',
  'zod',
  'lru-cache',
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
  /**
   * Which entry point this archive deploys: its default entry, override variable, target and object name prefix.
   * @default 'function'
   */
  readonly kind?: ArchiveKind;
  /**
   * Entry point to bundle. Default: the kind's variable ($CURRENTS_RUNTIME_ENTRY / $CURRENTS_RECEIVER_ENTRY) when set,
   * else runtime/function.ts / runtime/receiver/function.ts.
   */
  readonly entry?: string;
  /** Directory the ZIP is written to. Default: cdktf.out/.runtime under the repository root. */
  readonly outDir?: string;
  /**
   * package.json that must declare the runtime's dependencies; their exact versions and tree come from the
   * package-lock.json beside it. Default: the repository's.
   */
  readonly packageJson?: string;
}

export class RuntimeEntryMissingError extends Error {
  constructor(
    readonly entry: string,
    readonly kind: ArchiveKind = 'function',
  ) {
    const k = ARCHIVE_KINDS[kind];
    super(
      `the ${k.what}'s entry point ${relative(process.cwd(), entry) || entry} does not exist: the runtime must export the ` +
        `HTTP function '${k.target}' from it before an environment can be synthesized ` +
        `(set ${k.variable} to bundle another file)`,
    );
    this.name = 'RuntimeEntryMissingError';
  }
}

/**
 * The package.json and package-lock.json shipped with the bundle: `main`, the runtime's dependencies at the exact
 * versions of the lockfile beside `rootPackageJson`, and their tree from that lockfile. Each dependency must also be
 * declared in `rootPackageJson` (what is installed only by hoisting is not a dependency).
 */
export function runtimeManifestFiles(rootPackageJson: string): { packageJson: string; packageLock: string } {
  const root = JSON.parse(readFileSync(rootPackageJson, 'utf8')) as { dependencies?: Record<string, string> };
  for (const name of RUNTIME_DEPENDENCIES) {
    if (!root.dependencies?.[name]) {
      throw new Error(`${rootPackageJson} has no dependency '${name}', which the runtime needs`);
    }
  }
  const lockPath = join(dirname(rootPackageJson), 'package-lock.json');
  if (!existsSync(lockPath)) throw new Error(`${lockPath} is missing: the runtime's versions are taken from it`);
  const lock = JSON.parse(readFileSync(lockPath, 'utf8')) as Lockfile;
  const { packageJson, packageLock } = runtimeManifest(lock, RUNTIME_DEPENDENCIES, {
    name: 'currents-segment-function',
    engines: { node: '>=22' },
  });
  return {
    packageJson: `${JSON.stringify(packageJson, null, 2)}\n`,
    packageLock: `${JSON.stringify(packageLock, null, 2)}\n`,
  };
}

/** 1980-01-01 00:00 in the builder's local time, which is how ZIP stores times: no build clock or zone leaks in. */
const ZIP_TIME = new Date(1980, 0, 1, 0, 0, 0);

/** A deterministic ZIP: entries sorted by name, fixed time, Unix -rw-r--r--, deflate level 9. */
export function deterministicZip(files: Record<string, Uint8Array>): Buffer {
  const entries: Record<string, [Uint8Array, { mtime: Date; level: 9; os: number; attrs: number }]> = {};
  for (const name of Object.keys(files).sort()) {
    entries[name] = [files[name]!, { mtime: ZIP_TIME, level: 9, os: 3, attrs: (0o100644 << 16) >>> 0 }];
  }
  return Buffer.from(zipSync(entries));
}

const cache = new Map<string, RuntimeArchive>();

/** Bundles and zips one entry point of the runtime (once per entry and output directory in a process). */
export function buildRuntimeArchive(options: BuildRuntimeArchiveOptions = {}): RuntimeArchive {
  const kind = options.kind ?? 'function';
  const k = ARCHIVE_KINDS[kind];
  const entry = resolve(options.entry ?? process.env[k.variable] ?? k.entry);
  const outDir = resolve(options.outDir ?? join(REPO_ROOT, 'cdktf.out', '.runtime'));
  const packageJson = resolve(options.packageJson ?? join(REPO_ROOT, 'package.json'));
  const key = `${kind}\0${entry}\0${outDir}\0${packageJson}`;
  const hit = cache.get(key);
  if (hit && existsSync(hit.path)) return hit;
  if (!existsSync(entry)) throw new RuntimeEntryMissingError(entry, kind);

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
  const manifest = runtimeManifestFiles(packageJson);
  const bytes = deterministicZip({
    'index.js': bundle.contents,
    'package.json': Buffer.from(manifest.packageJson),
    'package-lock.json': Buffer.from(manifest.packageLock),
  });
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  mkdirSync(outDir, { recursive: true });
  const path = join(outDir, `${kind}-${sha256.slice(0, 16)}.zip`);
  if (!existsSync(path)) writeFileSync(path, bytes);
  const archive = { path, sha256, objectName: `${kind}-source/${sha256}.zip`, bytes: bytes.length };
  cache.set(key, archive);
  return archive;
}
