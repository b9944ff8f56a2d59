/**
 * The deployed code's dependency tree, taken from the repository's package-lock.json: the versions the tests ran are
 * the versions Cloud Build installs. PURE (the lockfile is given as parsed JSON).
 *
 * `runtimeManifest` returns the archive's package.json (exact versions, no ranges) and its package-lock.json: the
 * entries of the root lockfile that the runtime's dependencies reach, at the same paths (so nested copies stay nested),
 * found with Node's own lookup (the package's node_modules, then each parent's). Cloud Build's `npm ci` then installs
 * exactly that tree, or fails, rather than whatever is newest on deploy day.
 */

/** One entry of a lockfile v2/v3 `packages` map. */
export interface LockEntry {
  version?: string;
  resolved?: string;
  integrity?: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
  dev?: boolean;
  optional?: boolean;
  devOptional?: boolean;
  peer?: boolean;
  link?: boolean;
  [key: string]: unknown;
}

export interface Lockfile {
  name?: string;
  version?: string;
  lockfileVersion: number;
  requires?: boolean;
  packages: Record<string, LockEntry>;
}

export class LockfileError extends Error {
  constructor(message: string) {
    super(`package-lock.json: ${message}`);
    this.name = 'LockfileError';
  }
}

/** Where Node resolves `name` required from the package at `from` ('' for the root), or undefined. */
export function resolveInLock(packages: Lockfile['packages'], from: string, name: string): string | undefined {
  let base = from;
  for (;;) {
    const candidate = `${base ? `${base}/` : ''}node_modules/${name}`;
    if (packages[candidate]) return candidate;
    if (!base) return undefined;
    base = base.slice(0, base.lastIndexOf('node_modules/')).replace(/\/$/, '');
  }
}

/** The runtime's package.json and package-lock.json (as objects) for `dependencies`, from the repository's lockfile. */
export function runtimeManifest(
  lock: Lockfile,
  dependencies: readonly string[],
  meta: { name: string; engines?: Record<string, string> },
): { packageJson: Record<string, unknown>; packageLock: Lockfile } {
  if (lock.lockfileVersion < 2) throw new LockfileError(`lockfileVersion ${lock.lockfileVersion} has no packages map`);
  const exact: Record<string, string> = {};
  const picked: Record<string, LockEntry> = {};
  const queue: string[] = [];
  for (const name of [...dependencies].sort()) {
    const path = resolveInLock(lock.packages, '', name);
    const version = path && lock.packages[path]!.version;
    if (!path || !version) throw new LockfileError(`no installed '${name}', which the runtime needs`);
    exact[name] = version;
    queue.push(path);
  }
  while (queue.length) {
    const path = queue.shift()!;
    if (picked[path]) continue;
    const entry = lock.packages[path]!;
    if (entry.link) throw new LockfileError(`'${path}' is a link (a workspace package), which an archive cannot ship`);
    picked[path] = entry;
    const optional = new Set([
      ...Object.keys(entry.optionalDependencies ?? {}),
      ...Object.entries(entry.peerDependenciesMeta ?? {})
        .filter(([, m]) => m.optional)
        .map(([n]) => n),
    ]);
    const wanted = new Set([
      ...Object.keys(entry.dependencies ?? {}),
      ...Object.keys(entry.optionalDependencies ?? {}),
      ...Object.keys(entry.peerDependencies ?? {}),
    ]);
    for (const dep of wanted) {
      const found = resolveInLock(lock.packages, path, dep);
      if (found) queue.push(found);
      else if (!optional.has(dep)) throw new LockfileError(`'${path}' needs '${dep}', which is not in the lockfile`);
    }
  }
  const packages: Record<string, LockEntry> = {
    '': { name: meta.name, version: '0.0.0', dependencies: exact, ...(meta.engines ? { engines: meta.engines } : {}) },
  };
  for (const path of Object.keys(picked).sort()) {
    // Flags describe the repository's tree (where test tools make some packages dev-only); in the runtime's tree every
    // picked package is a production dependency, optional only if it was optional for production too.
    const { dev: _dev, devOptional, peer: _peer, ...rest } = picked[path]!;
    packages[path] = devOptional ? { ...rest, optional: true } : rest;
  }
  const packageJson = {
    name: meta.name,
    version: '0.0.0',
    private: true,
    main: 'index.js',
    ...(meta.engines ? { engines: meta.engines } : {}),
    dependencies: exact,
  };
  return {
    packageJson,
    packageLock: { name: meta.name, version: '0.0.0', lockfileVersion: 3, requires: true, packages },
  };
}
