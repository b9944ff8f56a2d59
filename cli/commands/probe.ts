/**
 * `currents probe`: runs a connector's credential probe now (what its Cloud Scheduler job does every few minutes):
 * checks the credential, drains parked events when it works, drops them when past the grace period, and prints the
 * result. The function's URL is the push subscription's endpoint, the same URL the infrastructure set (in a local run,
 * the locally served function). Against a real project the call carries an OIDC identity token minted from
 * Application Default Credentials; when that is impossible (user credentials cannot mint one, or the function only
 * admits internal traffic and its invoker accounts), the message says so and gives the scheduler command instead.
 */
import { receiverAuthorization } from '../../shared/receiver-auth';
import { keyValues } from '../../common/table';
import { MAX_FUNCTION_TIMEOUT_SECONDS } from '../../shared/policy';
import { parse } from '../../common/args';
import * as specs from '../specs';
import {
  checkAccess,
  guarded,
  OpsError,
  type OpsTarget,
  resolveTargets,
  subscriptionPath,
  usingEmulators,
} from '../ops/context';
import { createClients } from '../ops/dead-letter-queue';

type Clients = Awaited<ReturnType<typeof createClients>>;

/** The probe route's answer (runtime/probe-handler.ts handleProbe). */
export interface ProbeResult {
  readonly state: 'active' | 'failing' | 'expired';
  readonly failingSince?: string;
  readonly credential: 'ok' | 'failing' | 'unknown';
  readonly detail?: string;
  readonly drainedGroups: number;
  readonly drainedEvents: number;
  readonly droppedEvents: number;
  readonly droppedByType: Record<string, number>;
  readonly parkedEvents: number;
  readonly stoppedBy?: string;
  readonly tookMs: number;
}

function schedulerHint(t: OpsTarget): string {
  return (
    `run the probe through its scheduler job instead: gcloud scheduler jobs run ${t.names.schedulerJob} ` +
    `--location ${t.environment.region} --project ${t.project}, then see the outcome with ` +
    `\`npx currents status --env ${t.environment.name} --connector ${t.connector.name}\``
  );
}

async function identityToken(t: OpsTarget, audience: string): Promise<string> {
  try {
    const { GoogleAuth } = await import('google-auth-library');
    const client = await new GoogleAuth().getIdTokenClient(audience);
    return await client.idTokenProvider.fetchIdToken(audience);
  } catch (err) {
    throw new OpsError(
      `connector '${t.connector.name}': cannot mint an identity token for ${audience} from your Application Default ` +
        `Credentials (${(err as Error).message.split('\n')[0]}); user credentials cannot mint one. ${schedulerHint(t)}`,
    );
  }
}

async function probeOne(t: OpsTarget, clients: Clients): Promise<ProbeResult> {
  const push = t.names.pushSubscription;
  const [sub] = await guarded(t, `push subscription ${push}`, () =>
    clients.subscriber.getSubscription({ subscription: subscriptionPath(t, push) }, { timeout: 15_000 }),
  );
  const endpoint = sub.pushConfig?.pushEndpoint;
  if (!endpoint) {
    throw new OpsError(
      `connector '${t.connector.name}': push subscription ${push} has no push endpoint (no function URL)`,
    );
  }
  // A local run's endpoint carries its invoker token (`?token=`, local/function-host.ts): sent as the bearer token.
  const parsed = new URL(endpoint);
  const localToken = usingEmulators() ? parsed.searchParams.get('token') : null;
  const base = `${parsed.origin}${parsed.pathname}`.replace(/\/+$/, '');
  const url = `${base}/probe`;
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (localToken) headers.authorization = receiverAuthorization(localToken);
  const oidc = sub.pushConfig?.oidcToken;
  if (oidc?.serviceAccountEmail || (!usingEmulators() && base.startsWith('https://'))) {
    headers.authorization = `Bearer ${await identityToken(t, oidc?.audience || base)}`;
  }
  // The function answers within its deployed timeout (Cloud Run cuts it there); wait for the longest one allowed.
  const timeoutMs = (MAX_FUNCTION_TIMEOUT_SECONDS + 30) * 1000;
  let res: Response;
  try {
    res = await fetch(url, { method: 'POST', headers, body: '{}', signal: AbortSignal.timeout(timeoutMs) });
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
    throw new OpsError(
      `connector '${t.connector.name}': the function at ${base} did not answer the probe (${cause})` +
        (usingEmulators() ? '; is the local run of this environment started?' : `; ${schedulerHint(t)}`),
    );
  }
  const text = await res.text();
  if (res.status === 401 || res.status === 403 || (res.status === 404 && !usingEmulators())) {
    throw new OpsError(
      `connector '${t.connector.name}': the function refused the probe (HTTP ${res.status}): only its scheduler and ` +
        `push accounts may invoke it, from Google's network (internal ingress). ${schedulerHint(t)}`,
    );
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  if (!res.ok || !body || typeof body !== 'object' || !('state' in body)) {
    const why = (body as { error?: unknown } | undefined)?.error ?? text.slice(0, 200);
    throw new OpsError(`connector '${t.connector.name}': the probe failed (HTTP ${res.status}): ${String(why)}`);
  }
  return body as ProbeResult;
}

function render(t: OpsTarget, r: ProbeResult): string {
  const lines: [string, string][] = [
    ['state', r.state + (r.failingSince ? ` (failing since ${r.failingSince})` : '')],
    ['credential', r.credential + (r.detail ? `: ${r.detail}` : '')],
    // Groups (one per parked Pub/Sub message): the function's drainedEvents leaves out the first group, which the
    // probe delivers as its credential check.
    ['drained', `${r.drainedGroups} parked message(s) delivered${r.stoppedBy ? ` (stopped: ${r.stoppedBy})` : ''}`],
  ];
  if (r.droppedEvents) {
    const byType = Object.entries(r.droppedByType)
      .map(([k, n]) => `${k} ${n}`)
      .join(', ');
    lines.push(['dropped', `${r.droppedEvents} parked event(s), past the grace period: ${byType}`]);
  }
  lines.push(['still parked', String(r.parkedEvents)]);
  return keyValues(`${t.connector.name}: probe ran in ${(r.tookMs / 1000).toFixed(1)} s`, lines);
}

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse(specs.probe, argv);
  const targets = resolveTargets(values, positionals[0]);
  await checkAccess(targets);
  const clients = await createClients(targets[0]?.project);
  try {
    const results = await Promise.allSettled(targets.map((t) => probeOne(t, clients)));
    const json: unknown[] = [];
    let code = 0;
    results.forEach((r, i) => {
      const t = targets[i]!;
      if (r.status === 'rejected') {
        code = 1;
        console.error((r.reason as Error).message);
        json.push({ connector: t.connector.name, error: (r.reason as Error).message });
        return;
      }
      if (r.value.state !== 'active') code = 1;
      json.push({ connector: t.connector.name, ...r.value });
      if (!values.json) console.log(render(t, r.value));
    });
    if (values.json) console.log(JSON.stringify(json, null, 2));
    return code;
  } finally {
    await Promise.allSettled([clients.subscriber.close(), clients.publisher.close()]);
  }
}
