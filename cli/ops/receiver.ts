/**
 * The operating side of a Braze workspace's door (the receiver its Custom Currents Export posts to):
 *
 * - which **door**: the one of `--workspace`, or of `--connector`'s workspace, or the environment's only one;
 * - its **tokens**: every enabled version of the door's token secret is a bearer token the door accepts. A token is
 *   made here (32 random bytes, base64url: RFC 6750's token characters), added as a new version, and printed once by the
 *   caller; a rotation ends by disabling the other versions. Secret Manager has no emulator: the client is injected in
 *   tests and is the real `SecretManagerServiceClient` (Application Default Credentials) otherwise.
 * - its **answers by HTTP status**: the time series of the log-based metric on its `receiver_request` log lines, read
 *   from Cloud Monitoring's REST API (`projects.timeSeries.list`) with an access token of the same credentials. `fetch`
 *   and the token are injected in tests.
 *
 * Nothing here logs or returns a token: `addToken` takes one and returns the version's name only.
 */
import type { Environment } from '../../shared/connector';
import { doorNames, type WorkspaceDoor, workspaceDoors } from '../../shared/door';
import type { SecretManagerCalls, SecretVersionInfo } from '../../runtime/adapters/secret-manager';
import { RECEIVER_REQUESTS_METRIC } from '../../shared/names';
import { UsageError } from '../../common/args';
import { type OpsTarget, resolveTargets } from './context';

// -------------------------------------------------------------------------------------------------------------- doors

/** A door to act on, with a target for error messages (its first connector). */
export interface DoorTarget {
  readonly environment: Environment;
  readonly door: WorkspaceDoor;
  readonly target: OpsTarget;
}

/** The door `--workspace` names, or `--connector`'s workspace's, or the environment's only one. */
export function resolveDoor(
  values: { env?: string; connector?: string; workspace?: string; definitions?: string },
  pathPositional?: string,
): DoorTarget {
  const targets = resolveTargets(values, pathPositional);
  if (!targets.length) throw new UsageError(`environment '${values.env}' has no connector, so no Braze workspace door`);
  const environment = targets[0]!.environment;
  const doors = workspaceDoors(environment.connectors);
  const listed = doors.map((d) => d.workspace).join(', ') || 'none';
  const wanted = values.workspace ?? (values.connector ? targets[0]!.connector.workspace : undefined);
  if (wanted === undefined && doors.length !== 1) {
    throw new UsageError(
      `--workspace is required: environment '${environment.name}' has ${doors.length} Braze workspaces (${listed}), one door each`,
    );
  }
  const door = wanted === undefined ? doors[0]! : doors.find((d) => d.workspace === wanted);
  if (!door)
    throw new UsageError(
      `no connector of environment '${environment.name}' is in workspace '${wanted}' (workspaces: ${listed})`,
    );
  const target = targets.find((t) => t.connector.name === door.fallback) ?? {
    ...targets[0]!,
    connector: door.connectors[0]!,
  };
  return { environment, door, target };
}

// ------------------------------------------------------------------------------------------------------------- tokens

export type { SecretVersionInfo } from '../../runtime/adapters/secret-manager';

/** The Secret Manager calls made on a door's token secret (a subset of `SecretManagerServiceClient`). */
export type TokenSecretClient = Pick<
  SecretManagerCalls,
  'addSecretVersion' | 'listSecretVersions' | 'disableSecretVersion' | 'close'
>;

/** The real client (loaded on demand: only the commands that need it pay for it). */
export async function createTokenSecretClient(): Promise<TokenSecretClient> {
  const { SecretManagerServiceClient } = await import('@google-cloud/secret-manager');
  return new SecretManagerServiceClient() as unknown as TokenSecretClient;
}

/** `projects/P/secrets/currents-door-W-token`: the door's token secret. */
export const doorTokenSecretPath = (project: string, workspace: string): string =>
  `projects/${project}/secrets/${doorNames(workspace).tokenSecret}`;

/** The version number at the end of a version's resource name (`…/versions/3` → 3). */
export function versionNumber(name: string): number {
  const n = Number(/\/versions\/(\d+)$/.exec(name)?.[1]);
  if (!Number.isInteger(n)) throw new Error(`'${name}' is not a secret version name (…/versions/N)`);
  return n;
}

/** Secret Manager's `SecretVersion.State.ENABLED`, as the client may return it (name or number). */
const isEnabled = (v: SecretVersionInfo) => v.state === 'ENABLED' || v.state === 1;

/** The enabled versions of the secret, newest first (the filter is applied here too, whatever the server did). */
export async function enabledVersions(client: TokenSecretClient, secret: string): Promise<string[]> {
  const [versions] = await client.listSecretVersions({ parent: secret, filter: 'state:ENABLED' });
  return versions
    .filter(isEnabled)
    .map((v) => v.name ?? '')
    .filter((name) => name !== '')
    .sort((a, b) => versionNumber(b) - versionNumber(a));
}

/** Adds `token` as a new (enabled) version of the secret; returns the version's name, never the token. */
export async function addToken(client: TokenSecretClient, secret: string, token: string): Promise<string> {
  const [version] = await client.addSecretVersion({ parent: secret, payload: { data: Buffer.from(token, 'utf8') } });
  if (!version.name) throw new Error(`Secret Manager added a version to ${secret} but returned no name`);
  return version.name;
}

/** Disables every enabled version except `keep`; returns the names disabled (oldest first). */
export async function disableOthers(client: TokenSecretClient, secret: string, keep: string): Promise<string[]> {
  const others = (await enabledVersions(client, secret)).filter((v) => v !== keep).reverse();
  for (const name of others) await client.disableSecretVersion({ name });
  return others;
}

// ------------------------------------------------------------------------------------------------------------ answers

/** How far back `currents status` counts the receiver's answers. */
export const ANSWERS_WINDOW_MINUTES = 15;

/** The HTTP call used (a subset of `fetch`), so that tests can inject one. */
export type FetchLike = (
  url: string,
  init: { headers: Record<string, string> },
) => Promise<{ ok: boolean; status: number; json(): Promise<unknown>; text(): Promise<string> }>;

export interface MonitoringAccess {
  readonly fetch: FetchLike;
  /** An OAuth access token with a Monitoring read scope. */
  readonly accessToken: () => Promise<string>;
}

/** The real access: global fetch and an access token from Application Default Credentials. */
export async function createMonitoringAccess(): Promise<MonitoringAccess> {
  const { GoogleAuth } = await import('google-auth-library');
  const auth = new GoogleAuth({ scopes: ['https://www.googleapis.com/auth/monitoring.read'] });
  return {
    fetch: (url, init) => fetch(url, init),
    accessToken: async () => {
      const token = await auth.getAccessToken();
      if (!token) throw new Error('Application Default Credentials gave no access token');
      return token;
    },
  };
}

/**
 * The `timeSeries.list` URL counting one workspace door's answers over the `minutes` before `now`: one series per
 * status (summed over the window, all revisions and instances reduced together).
 */
export function answersQueryUrl(project: string, workspace: string, now: number, minutes: number): string {
  const label = `metric.label.${RECEIVER_REQUESTS_METRIC.label}`;
  const params = new URLSearchParams({
    filter: `metric.type="logging.googleapis.com/user/${doorNames(workspace).requestsMetric}"`,
    'interval.startTime': new Date(now - minutes * 60_000).toISOString(),
    'interval.endTime': new Date(now).toISOString(),
    'aggregation.alignmentPeriod': `${minutes * 60}s`,
    'aggregation.perSeriesAligner': 'ALIGN_SUM',
    'aggregation.crossSeriesReducer': 'REDUCE_SUM',
    'aggregation.groupByFields': label,
  });
  return `https://monitoring.googleapis.com/v3/projects/${encodeURIComponent(project)}/timeSeries?${params}`;
}

interface TimeSeriesPage {
  timeSeries?: {
    metric?: { labels?: Record<string, string> };
    points?: { value?: { int64Value?: string | number; doubleValue?: number } }[];
  }[];
  nextPageToken?: string;
}

/**
 * Answers by status from one page of `timeSeries.list`, added into `into`: every point's value summed per status label
 * (int64 values arrive as strings). A series without the label counts as status "unknown".
 */
export function parseAnswersByStatus(page: unknown, into: Record<string, number> = {}): Record<string, number> {
  const body = (page ?? {}) as TimeSeriesPage;
  if (body.timeSeries !== undefined && !Array.isArray(body.timeSeries)) {
    throw new Error('Cloud Monitoring answered a timeSeries that is not a list');
  }
  for (const series of body.timeSeries ?? []) {
    const status = series.metric?.labels?.[RECEIVER_REQUESTS_METRIC.label] ?? 'unknown';
    for (const point of series.points ?? []) {
      const raw = point.value?.int64Value ?? point.value?.doubleValue ?? 0;
      const n = Number(raw);
      if (!Number.isFinite(n)) throw new Error(`Cloud Monitoring answered a non-numeric value '${String(raw)}'`);
      into[status] = (into[status] ?? 0) + n;
    }
  }
  return into;
}

/** What Cloud Monitoring's error body says, in one line (`{"error":{"code","status","message"}}`). */
function monitoringError(status: number, text: string): string {
  let detail = text.trim().split('\n')[0]?.slice(0, 300) ?? '';
  try {
    const e = (JSON.parse(text) as { error?: { status?: string; message?: string } }).error;
    if (e) detail = [e.status, e.message].filter(Boolean).join(': ');
  } catch {
    /* not JSON: the first line as is */
  }
  const hint =
    status === 403
      ? '; your credentials need monitoring.timeSeries.list on the project (roles/monitoring.viewer)'
      : status === 401
        ? '; run `gcloud auth application-default login`'
        : status === 404
          ? '; is the connector deployed (its log-based metric exists after `cdktf deploy`)?'
          : '';
  return `Cloud Monitoring answered ${status}${detail ? ` (${detail})` : ''}${hint}`;
}

/** The receiver's answers by HTTP status over the `minutes` before `now`, all pages read. */
export async function answersByStatus(
  access: MonitoringAccess,
  project: string,
  connectorName: string,
  now: number,
  minutes = ANSWERS_WINDOW_MINUTES,
): Promise<Record<string, number>> {
  const token = await access.accessToken();
  const base = answersQueryUrl(project, connectorName, now, minutes);
  const counts: Record<string, number> = {};
  let pageToken: string | undefined;
  for (let page = 0; page < 100; page++) {
    const url = pageToken ? `${base}&pageToken=${encodeURIComponent(pageToken)}` : base;
    const res = await access.fetch(url, { headers: { authorization: `Bearer ${token}` } });
    if (!res.ok) throw new Error(monitoringError(res.status, await res.text().catch(() => '')));
    const body = (await res.json()) as TimeSeriesPage;
    parseAnswersByStatus(body, counts);
    pageToken = body.nextPageToken || undefined;
    if (!pageToken) return counts;
  }
  throw new Error('Cloud Monitoring kept returning pages (over 100); giving up');
}
