/**
 * What the operating commands (status, dead-letters, probe, send-test) share: the common options (`--env`,
 * `--connector`, the definitions PATH), the targets they act on with their resource names (shared/names.ts, the same
 * names the infrastructure declares), a quick reachability check of the emulators, and error messages that name the
 * connector and say what is wrong.
 *
 * Every command works against the emulators when PUBSUB_EMULATOR_HOST / FIRESTORE_EMULATOR_HOST are set (a local run),
 * and against the environment's real project otherwise (Application Default Credentials). Either way the project id is
 * the environment's `project`.
 */
import { connect } from 'node:net';
import type { Connector, Environment } from '../../shared/connector';
import { resourceNames, type ConnectorResourceNames } from '../../shared/names';
import { UsageError } from '../../common/args';
import { loadEnvironmentsOrThrow, pick } from '../../common/definitions';

export interface OpsTarget {
  readonly environment: Environment;
  readonly connector: Connector;
  readonly names: ConnectorResourceNames;
  readonly project: string;
}

/**
 * The connectors a command acts on: `--connector` in `--env`, or every connector of the environment. The definitions
 * come from `--definitions PATH`, the PATH positional, or the repository's own (connectors/index.ts).
 */
export function resolveTargets(
  values: { env?: string; connector?: string; definitions?: string },
  pathPositional?: string,
  options: { requireConnector?: boolean } = {},
): OpsTarget[] {
  if (!values.env) throw new UsageError('--env is required (the environment whose connectors to act on)');
  const { environment, connectors } = pick(
    loadEnvironmentsOrThrow(values.definitions ?? pathPositional),
    values.env,
    values.connector,
  );
  if (options.requireConnector && !values.connector) {
    throw new UsageError(
      `--connector is required (one of ${environment.connectors.map((c) => c.name).join(', ')} in environment '${environment.name}')`,
    );
  }
  return connectors.map((connector) => ({
    environment,
    connector,
    names: resourceNames(connector.name),
    project: environment.project,
  }));
}

export function usingEmulators(): boolean {
  return Boolean(process.env.PUBSUB_EMULATOR_HOST || process.env.FIRESTORE_EMULATOR_HOST);
}

/** Where the commands act, for people: "the emulators (pubsub 127.0.0.1:8085, …)" or "project P". */
export function whereLabel(project: string): string {
  const e: string[] = [];
  if (process.env.PUBSUB_EMULATOR_HOST) e.push(`Pub/Sub emulator ${process.env.PUBSUB_EMULATOR_HOST}`);
  if (process.env.FIRESTORE_EMULATOR_HOST) e.push(`Firestore emulator ${process.env.FIRESTORE_EMULATOR_HOST}`);
  return e.length ? `project ${project} on the ${e.join(' and ')}` : `project ${project}`;
}

function reachable(host: string, timeoutMs: number): Promise<string | undefined> {
  const i = host.lastIndexOf(':');
  const hostname = (i > 0 ? host.slice(0, i) : host).replace(/^\[|\]$/g, '');
  const port = Number(i > 0 ? host.slice(i + 1) : NaN);
  if (!hostname || !Number.isInteger(port) || port <= 0 || port > 65535) {
    return Promise.resolve(`'${host}' is not a HOST:PORT`);
  }
  return new Promise((resolve) => {
    const socket = connect({ host: hostname, port });
    const done = (problem?: string) => {
      socket.destroy();
      resolve(problem);
    };
    socket.setTimeout(timeoutMs, () => done(`no answer within ${timeoutMs} ms`));
    socket.once('connect', () => done());
    socket.once('error', (err: NodeJS.ErrnoException) => done(err.code ?? err.message));
  });
}

/**
 * Fails fast, naming the emulator, its variable and the connectors concerned, when an emulator the environment points
 * at does not accept connections (the Google clients would otherwise retry for minutes).
 */
export async function checkEmulators(targets: readonly OpsTarget[], timeoutMs = 1500): Promise<void> {
  const which = `connector${targets.length === 1 ? '' : 's'} ${targets.map((t) => `'${t.connector.name}'`).join(', ')}`;
  const checks = (
    [
      ['Pub/Sub', 'PUBSUB_EMULATOR_HOST'],
      ['Firestore', 'FIRESTORE_EMULATOR_HOST'],
    ] as const
  ).flatMap(([what, variable]) => {
    const host = process.env[variable];
    return host ? [reachable(host, timeoutMs).then((problem) => ({ what, variable, host, problem }))] : [];
  });
  const problems = (await Promise.all(checks)).filter((c) => c.problem);
  if (problems.length) {
    throw new Error(
      problems
        .map(
          (p) =>
            `the ${p.what} emulator at ${p.host} (${p.variable}) is not reachable (${p.problem}) for ${which}: ` +
            `start the local run and keep it running (npm start -- --keep-running), or unset ${p.variable} to act on the real project`,
        )
        .join('\n'),
    );
  }
}

/**
 * Fails fast when the commands will talk to Google Cloud (an emulator variable is unset) without Application Default
 * Credentials: the clients would otherwise fail call by call (and reject in the background).
 */
export async function checkCredentials(
  targets: readonly OpsTarget[],
  options: { secretManager?: boolean } = {},
): Promise<void> {
  // Secret Manager has no emulator: a command that reads secrets needs credentials even in a local run.
  if (!options.secretManager && process.env.PUBSUB_EMULATOR_HOST && process.env.FIRESTORE_EMULATOR_HOST) return;
  try {
    const { GoogleAuth } = await import('google-auth-library');
    await new GoogleAuth({ scopes: ['https://www.googleapis.com/auth/cloud-platform'] }).getClient();
  } catch (err) {
    const which = targets.map((t) => `'${t.connector.name}'`).join(', ');
    throw new OpsError(
      `no Google credentials to reach project ${targets[0]?.project ?? '?'} for connector${targets.length === 1 ? '' : 's'} ${which}: ` +
        (options.secretManager
          ? 'Secret Manager has no emulator, so this reads the real project even in a local run: run ' +
            '`gcloud auth application-default login` '
          : `run \`gcloud auth application-default login\` (or set the emulator variables for a local run) `) +
        `(${(err as Error).message.split('\n')[0]})`,
    );
  }
}

/** Emulator reachability, or credentials for a real project: what every operating command checks first. */
export async function checkAccess(targets: readonly OpsTarget[]): Promise<void> {
  await checkEmulators(targets);
  await checkCredentials(targets);
}

/** gRPC status codes the Google clients report. */
const GRPC = { DEADLINE_EXCEEDED: 4, NOT_FOUND: 5, PERMISSION_DENIED: 7, UNAVAILABLE: 14, UNAUTHENTICATED: 16 };

/**
 * A message for a failed Google call that names the connector, what was being accessed and what to do. `what` is e.g.
 * "dead-letter subscription currents-x-dead-letter-hold".
 */
export function describeGoogleError(err: unknown, target: OpsTarget, what: string): string {
  const e = err as { code?: unknown; message?: unknown; details?: unknown };
  const raw = String(e?.details || e?.message || err);
  const where = `connector '${target.connector.name}' (environment '${target.environment.name}', ${whereLabel(target.project)})`;
  const code = typeof e?.code === 'number' ? e.code : undefined;
  if (code === GRPC.PERMISSION_DENIED || /permission denied|PERMISSION_DENIED/i.test(raw)) {
    return `${where}: permission denied on ${what}; your Application Default Credentials need access to project ${target.project} (${raw})`;
  }
  if (code === GRPC.UNAUTHENTICATED || /default credentials|invalid_grant|reauth/i.test(raw)) {
    return `${where}: not authenticated for ${what}; run \`gcloud auth application-default login\` (${raw})`;
  }
  if (code === GRPC.NOT_FOUND) {
    return (
      `${where}: ${what} does not exist; is the connector deployed (cdktf deploy ${target.environment.name})` +
      `${usingEmulators() ? ', or, in a local run, is the local run of this environment started' : ''}? (${raw})`
    );
  }
  if (code === GRPC.UNAVAILABLE || code === GRPC.DEADLINE_EXCEEDED) {
    return `${where}: ${what} did not answer (${raw})`;
  }
  return `${where}: ${what}: ${raw}`;
}

/** An error already worded for the operator (it names the connector). */
export class OpsError extends Error {}

/** Runs `fn`; a failure becomes an OpsError naming the connector and `what`. */
export async function guarded<T>(target: OpsTarget, what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof OpsError || err instanceof UsageError) throw err;
    throw new OpsError(describeGoogleError(err, target, what));
  }
}

/** Rejects when `promise` has not settled within `ms` (the Firestore client has no per-call deadline of its own). */
export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(Object.assign(new Error(`no answer within ${ms / 1000} s`), { code: GRPC.DEADLINE_EXCEEDED, what })),
      ms,
    );
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export const subscriptionPath = (t: OpsTarget, id: string) => `projects/${t.project}/subscriptions/${id}`;
export const topicPath = (t: OpsTarget, id: string) => `projects/${t.project}/topics/${id}`;

/** "3m ago" / "in 2h 5m" for a time relative to now. */
export function ago(ms: number, now = Date.now()): string {
  const d = now - ms;
  const short = (x: number) => {
    if (x < 60_000) return `${Math.round(x / 1000)}s`;
    const m = Math.floor(x / 60_000);
    const days = Math.floor(m / 1440);
    const h = Math.floor((m % 1440) / 60);
    const min = m % 60;
    return [days ? `${days}d` : '', h ? `${h}h` : '', min ? `${min}m` : ''].filter(Boolean).join(' ') || '0m';
  };
  return d >= 0 ? `${short(d)} ago` : `in ${short(-d)}`;
}

export const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());
