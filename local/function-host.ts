/**
 * Serves the Cloud Function locally exactly as Cloud Functions does: the real `@google-cloud/functions-framework`
 * loading runtime/function.ts (target `currents`) in its own process, configured by the same environment variables the
 * infrastructure sets (shared/runtime-config.ts) plus the local-only overrides (local Segment server, secret source).
 * Used by the tests, `npm start`, the soak (which kills and restarts it) and the benchmarks. The process never outlives
 * its parent: `stop()`, an exit hook, and the reaper's watcher (local/reaper.ts) should the parent be killed outright.
 */
import { receiverAuthHeaders } from '../shared/receiver-auth';
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { FUNCTION_TARGET, IMPORTER_TARGET, RECEIVER_TARGET } from '../shared/names';
import { ENV_VARS } from '../shared/runtime-config';
import { freePort } from './emulators';
import { guardProcess, release } from './reaper';

const ROOT = join(__dirname, '..');
/** The framework's own command (its package exports do not expose the path, so it is found beside the main module). */
const FRAMEWORK_MAIN = join(dirname(require.resolve('@google-cloud/functions-framework')), 'main.js');
export const FUNCTION_SOURCE = join(ROOT, 'runtime', 'function.ts');
export const RECEIVER_SOURCE = join(ROOT, 'runtime', 'receiver', 'function.ts');
export const IMPORTER_SOURCE = join(ROOT, 'runtime', 'storage', 'function.ts');
/** Preloaded into every host: functions-framework listens on every interface; a local one listens on 127.0.0.1. */
const LOOPBACK_ONLY = join(ROOT, 'local', 'loopback-only.js');

/** What a host serves: the connector's function (default), its receiver, or its storage importer. */
export const SERVED = {
  function: { source: FUNCTION_SOURCE, target: FUNCTION_TARGET },
  receiver: { source: RECEIVER_SOURCE, target: RECEIVER_TARGET },
  importer: { source: IMPORTER_SOURCE, target: IMPORTER_TARGET },
} as const;

export interface FunctionHostOptions {
  /** Environment variables for the function (functionEnvironment() plus local overrides and emulator hosts). */
  env: Record<string, string>;
  port?: number;
  /** Which module and target to serve (default: the connector's function). */
  serve?: keyof typeof SERVED;
  /**
   * Serve a built archive instead of the source: the directory it was unpacked and installed in (`npm ci`). It is
   * served as Cloud Run serves it: the functions-framework installed in it, loading its index.js, with that directory
   * as the working directory and no TypeScript loader.
   */
  artifact?: string;
  /** The Node.js binary to serve with (e.g. the deployed runtime's major); default: the one running this process. */
  node?: string;
  /** Receives every stdout/stderr line of the function (its structured logs). */
  onLine?: (line: string, stream: 'stdout' | 'stderr') => void;
  readyTimeoutMs?: number;
}

export interface FunctionHost {
  readonly url: string;
  /**
   * What a caller of the function sends to be let in: `Authorization: Bearer` with the local invoker token when the
   * host's environment sets one (ENV_VARS.invokerToken), nothing otherwise.
   */
  readonly headers: Readonly<Record<string, string>>;
  /** The push endpoint: `url` + `/`, with `?token=` when an invoker token is set (Pub/Sub's push sends no header). */
  readonly pushEndpoint: string;
  readonly port: number;
  readonly pid: number;
  /** Stops the process (SIGTERM, then SIGKILL). */
  stop(): Promise<void>;
  /** Kills the process at once (SIGKILL), as a crash would. */
  kill(): Promise<void>;
  /** Starts it again on the same port with the same environment. */
  restart(): Promise<void>;
  readonly exited: boolean;
}

async function waitReady(url: string, child: ChildProcess, timeoutMs: number, output: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(
        `the function process exited before it was ready (${child.exitCode ?? child.signalCode}):\n${output()}`,
      );
    }
    try {
      const res = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(1000) });
      if (res.status < 500) return;
    } catch {
      /* not yet listening */
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`the function did not answer on ${url} within ${timeoutMs} ms:\n${output()}`);
}

export async function startFunctionHost(options: FunctionHostOptions): Promise<FunctionHost> {
  const port = options.port ?? (await freePort());
  const url = `http://127.0.0.1:${port}`;
  const served = SERVED[options.serve ?? 'function'];
  let child: ChildProcess;
  let tail = '';

  const artifact = options.artifact;
  // Either way, it listens on 127.0.0.1 only (local/loopback-only.js).
  const command = artifact
    ? [
        '--require',
        LOOPBACK_ONLY,
        join(artifact, 'node_modules', '@google-cloud', 'functions-framework', 'build', 'src', 'main.js'),
      ]
    : ['--require', LOOPBACK_ONLY, '--require', require.resolve('tsx/cjs'), FRAMEWORK_MAIN];
  const launch = async () => {
    tail = '';
    child = spawn(
      options.node ?? process.execPath,
      [
        ...command,
        `--target=${served.target}`,
        `--source=${artifact ?? served.source}`,
        `--port=${port}`,
        '--signature-type=http',
      ],
      {
        cwd: artifact ?? ROOT,
        env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', NODE_ENV: 'production', ...options.env },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const launched = child;
    if (launched.pid !== undefined) {
      guardProcess(launched.pid);
      launched.once('exit', () => release('pid', launched.pid!));
    }
    for (const stream of ['stdout', 'stderr'] as const) {
      let buf = '';
      child[stream]?.on('data', (chunk: Buffer) => {
        buf += chunk.toString();
        let nl: number;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, nl);
          buf = buf.slice(nl + 1);
          tail = (tail + line + '\n').slice(-6000);
          options.onLine?.(line, stream);
        }
      });
    }
    try {
      await waitReady(url, child, options.readyTimeoutMs ?? 30_000, () => tail);
    } catch (err) {
      child.kill('SIGKILL');
      throw err;
    }
  };

  const waitExit = (signal: NodeJS.Signals, graceMs: number) =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      child.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      child.kill(signal);
    });

  // Should this process end without stopping the function (a crash, process.exit), the child must not outlive it.
  const onExit = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  process.on('exit', onExit);
  await launch();
  const token = options.env[ENV_VARS.invokerToken];
  return {
    url,
    headers: receiverAuthHeaders(token),
    pushEndpoint: `${url}/${token ? `?token=${encodeURIComponent(token)}` : ''}`,
    port,
    get pid() {
      return child.pid ?? -1;
    },
    get exited() {
      return child.exitCode !== null || child.signalCode !== null;
    },
    stop: async () => {
      await waitExit('SIGTERM', 3000);
      process.removeListener('exit', onExit);
    },
    kill: () => waitExit('SIGKILL', 0),
    restart: async () => {
      await waitExit('SIGKILL', 0);
      await launch();
    },
  };
}
