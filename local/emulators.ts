/**
 * Starts and stops the real Google Pub/Sub and Firestore emulators (from the installed `gcloud`) on free loopback ports.
 * Used by the jest global setup, `npm start`, the soak and the benchmarks.
 *
 * `gcloud` is a Python wrapper that starts a Java child (the Firestore one through a shell script); each emulator is
 * started in its own process group (detached) and stopped by signalling the whole group, so that no Java process
 * outlives the run: `stop()` (SIGTERM, then SIGKILL after 5 s), an exit hook (SIGKILL) when the process exits without
 * stopping them, and the reaper's watcher (local/reaper.ts) when the process is killed outright.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { guardGroup, release } from './reaper';

export interface EmulatorHandle {
  readonly name: 'pubsub' | 'firestore';
  /** `127.0.0.1:PORT`, the value of PUBSUB_EMULATOR_HOST / FIRESTORE_EMULATOR_HOST. */
  readonly host: string;
  readonly pid: number;
  stop(): Promise<void>;
}

export interface Emulators {
  readonly projectId: string;
  readonly pubsub: EmulatorHandle;
  readonly firestore: EmulatorHandle;
  /** Environment variables that point Google client libraries at the emulators. */
  readonly env: Record<string, string>;
  stop(): Promise<void>;
}

export class PrerequisiteError extends Error {}

/** A free TCP port on loopback (asks the kernel for one). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** Fails at once, naming the package to install, when gcloud, Java or an emulator component is missing. */
export function checkPrerequisites(env: NodeJS.ProcessEnv = process.env): void {
  const problems: string[] = [];
  if (spawnSync('gcloud', ['--version'], { stdio: 'ignore', env }).error) {
    problems.push(
      '`gcloud` was not found on PATH: install the Debian package `google-cloud-cli` (Google Cloud SDK) from Google’s apt repository.',
    );
  }
  const java = spawnSync('java', ['-version'], { encoding: 'utf8', env });
  if (java.error) {
    problems.push('`java` was not found on PATH: install Java 17 or newer (Debian package `openjdk-17-jre-headless`).');
  } else {
    const m = /version "(\d+)/.exec(`${java.stderr}${java.stdout}`);
    if (m && Number(m[1]) < 11)
      problems.push(`Java ${m[1]} is too old for the emulators: install openjdk-17-jre-headless.`);
  }
  if (problems.length === 0) {
    const comps = spawnSync('gcloud', ['info', '--format=value(installation.sdk_root)'], { encoding: 'utf8', env });
    const root = comps.stdout.trim();
    if (root) {
      if (!existsSync(`${root}/platform/pubsub-emulator`)) {
        problems.push(
          'the Pub/Sub emulator is not installed: install the Debian package `google-cloud-cli-pubsub-emulator`.',
        );
      }
      if (!existsSync(`${root}/platform/cloud-firestore-emulator`)) {
        problems.push(
          'the Firestore emulator is not installed: install the Debian package `google-cloud-cli-firestore-emulator`.',
        );
      }
    }
  }
  if (problems.length) throw new PrerequisiteError(`Cannot start the Google emulators:\n- ${problems.join('\n- ')}`);
}

async function waitUntilReady(host: string, child: ChildProcess, name: string, log: () => string, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`the ${name} emulator exited early (code ${child.exitCode ?? child.signalCode}):\n${log()}`);
    }
    try {
      const res = await fetch(`http://${host}/`, { signal: AbortSignal.timeout(1000) });
      if (res.ok) return;
    } catch {
      /* not listening yet */
    }
    await new Promise((r) => setTimeout(r, 150));
  }
  throw new Error(`the ${name} emulator did not answer on ${host} within ${timeoutMs} ms:\n${log()}`);
}

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    /* already gone */
  }
}

function groupAlive(pid: number): boolean {
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function startOne(name: 'pubsub' | 'firestore', projectId: string, timeoutMs: number): Promise<EmulatorHandle> {
  const port = await freePort();
  const host = `127.0.0.1:${port}`;
  const args =
    name === 'pubsub'
      ? ['beta', 'emulators', 'pubsub', 'start', `--host-port=${host}`, `--project=${projectId}`, '--quiet']
      : ['emulators', 'firestore', 'start', `--host-port=${host}`, '--quiet'];
  const child = spawn('gcloud', args, {
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, CLOUDSDK_CORE_DISABLE_PROMPTS: '1', CLOUDSDK_CORE_PROJECT: projectId },
  });
  let output = '';
  const keep = (b: Buffer) => {
    output = (output + b.toString()).slice(-8000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const pid = child.pid;
  if (pid === undefined) throw new Error(`could not start the ${name} emulator (gcloud did not spawn)`);
  // Should this process end without calling stop() (a crash, process.exit), the Java child must not outlive it; should
  // it be killed outright (SIGKILL, which no hook sees), the reaper's watcher kills the group.
  const onExit = () => killGroup(pid, 'SIGKILL');
  process.once('exit', onExit);
  guardGroup(pid);
  let stopping: Promise<void> | undefined;
  const stop = () => (stopping ??= stopGroup(pid, onExit));
  try {
    await waitUntilReady(host, child, name, () => output, timeoutMs);
  } catch (err) {
    await stop();
    throw err;
  }
  child.stdout?.removeAllListeners('data');
  child.stderr?.removeAllListeners('data');
  child.stdout?.resume();
  child.stderr?.resume();
  child.unref();
  (child.stdout as { unref?: () => void } | null)?.unref?.();
  (child.stderr as { unref?: () => void } | null)?.unref?.();
  return { name, host, pid, stop };
}

/**
 * Stops an emulator's process group: SIGTERM to the whole group (gcloud's wrapper, the shell script and the Java
 * child), up to 5 s for every member to exit, then SIGKILL, and waits until the group is gone. The exit hook (`onExit`)
 * stays until then, so that a process.exit() in the middle still kills the group.
 */
async function stopGroup(pid: number, onExit: () => void): Promise<void> {
  /** Up to 5 s for every member of the group to exit. */
  const waitGone = async () => {
    for (let i = 0; i < 50 && groupAlive(pid); i++) await new Promise((r) => setTimeout(r, 100));
  };
  killGroup(pid, 'SIGTERM');
  await waitGone();
  if (groupAlive(pid)) killGroup(pid, 'SIGKILL');
  await waitGone();
  process.removeListener('exit', onExit);
  release('group', pid);
}

/** Synchronous last-resort kill, for `process.on('exit')`. */
export function killEmulatorGroupsSync(pids: number[]): void {
  for (const pid of pids) killGroup(pid, 'SIGKILL');
}

export async function startEmulators(opts: { projectId?: string; timeoutMs?: number } = {}): Promise<Emulators> {
  checkPrerequisites();
  const projectId = opts.projectId ?? 'currents-local';
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const results = await Promise.allSettled([
    startOne('pubsub', projectId, timeoutMs),
    startOne('firestore', projectId, timeoutMs),
  ]);
  const started = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) {
    await Promise.all(started.map((h) => h.stop()));
    throw failed.reason;
  }
  const [pubsub, firestore] = started as [EmulatorHandle, EmulatorHandle];
  return {
    projectId,
    pubsub,
    firestore,
    env: {
      PUBSUB_EMULATOR_HOST: pubsub.host,
      FIRESTORE_EMULATOR_HOST: firestore.host,
      GOOGLE_CLOUD_PROJECT: projectId,
      GCLOUD_PROJECT: projectId,
      // No metadata-server probing (there is no GCE metadata server here, and nothing may reach the network).
      METADATA_SERVER_DETECTION: 'none',
    },
    stop: async () => {
      await Promise.all([pubsub.stop(), firestore.stop()]);
    },
  };
}

/**
 * The emulators a caller already runs (PUBSUB_EMULATOR_HOST and FIRESTORE_EMULATOR_HOST set, as in tests and local
 * runs), as an Emulators handle whose stop() leaves them running. Undefined when either variable is missing.
 */
export function emulatorsFromEnv(env: Record<string, string | undefined> = process.env): Emulators | undefined {
  const pubsubHost = env.PUBSUB_EMULATOR_HOST;
  const firestoreHost = env.FIRESTORE_EMULATOR_HOST;
  if (!pubsubHost || !firestoreHost) return undefined;
  const projectId = env.GOOGLE_CLOUD_PROJECT ?? 'currents-local';
  const handle = (name: 'pubsub' | 'firestore', host: string): EmulatorHandle => ({
    name,
    host,
    pid: -1,
    stop: async () => undefined,
  });
  return {
    projectId,
    pubsub: handle('pubsub', pubsubHost),
    firestore: handle('firestore', firestoreHost),
    env: {
      PUBSUB_EMULATOR_HOST: pubsubHost,
      FIRESTORE_EMULATOR_HOST: firestoreHost,
      GOOGLE_CLOUD_PROJECT: projectId,
      GCLOUD_PROJECT: projectId,
      METADATA_SERVER_DETECTION: 'none',
    },
    stop: async () => undefined,
  };
}
