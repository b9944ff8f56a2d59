/**
 * `npm start -- --scenario backfill --remote [--hosts N]`: the backfill of the scenario runs as `currents import --remote`
 * does against Google Cloud (cli/ops/backfill-remote.ts, the same code): the period's files are handed to N backfill
 * importer hosts (local/backfill-hosts.ts) as notification-shaped messages, their events travel the backfill topic to
 * the backfill function, and progress is read from Firestore. Once the first file is finished, a host busy with a file
 * is killed (SIGKILL): its push fails, Pub/Sub redelivers it, and another host resumes the file once the dead host's
 * claim has lapsed. Meanwhile live events are published on the connector's ingest topic (as its receiver would) and
 * their latency to the Segment server is measured, before the backfill (baseline) and during it.
 */
import type { Connector } from '../shared/connector';
import { selectedTypes } from '../shared/connector';
import { cloudRemotePorts, runRemoteImport, type RemoteSummary } from '../cli/ops/backfill-remote';
import { planImport, runImport, type ImportPlan } from '../cli/commands/import';
import { ConnectorImporter } from '../runtime/storage/importer';
import { startBackfillHosts, type BackfillHosts } from './backfill-hosts';
import type { LocalConnector } from './connector-runner';
import type { FeedEvent } from './feed';
import type { LocalStack } from './stack';
import type { LocalStorageServer } from './storage-server';
import { eventsEnvelope, sampleFeed } from '../common/samples';

/** Live events sent at a steady pace, each id with the time it was published. */
export interface LiveProbe {
  readonly sent: ReadonlyMap<string, number>;
  stop(): Promise<void>;
}

export function startLiveProbe(
  local: Pick<LocalConnector, 'publish' | 'connector'>,
  opts: { tag: string; intervalMs?: number; perMessage?: number },
): LiveProbe {
  const sent = new Map<string, number>();
  const types = selectedTypes(local.connector);
  const perMessage = opts.perMessage ?? 20;
  let n = 0;
  let stopped = false;
  const pending = new Set<Promise<unknown>>();
  const tick = () => {
    if (stopped) return;
    const events = sampleFeed({ count: perMessage, types, seed: 7 + n }).map((e, i) => ({
      ...e,
      id: `live-${opts.tag}-${n}-${i}`,
    }));
    n++;
    const at = Date.now();
    for (const e of events) sent.set(e.id, at);
    const p = local.publish(eventsEnvelope(events)).catch(() => undefined);
    pending.add(p);
    void p.finally(() => pending.delete(p));
  };
  const timer = setInterval(tick, opts.intervalMs ?? 100);
  tick();
  return {
    sent,
    stop: async () => {
      stopped = true;
      clearInterval(timer);
      await Promise.allSettled([...pending]);
    },
  };
}

export interface Latency {
  readonly sent: number;
  readonly delivered: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

/** p50 / p99 of publish → first acceptance by the Segment server, over the probe's events accepted so far. */
export function liveLatency(
  sent: ReadonlyMap<string, number>,
  accepted: ReadonlyArray<{ messageId: string; receivedAt: number }>,
): Latency {
  const ms: number[] = [];
  for (const a of accepted) {
    const at = sent.get(a.messageId);
    if (at !== undefined) ms.push(a.receivedAt - at);
  }
  ms.sort((a, b) => a - b);
  const q = (p: number) => (ms.length ? ms[Math.min(ms.length - 1, Math.ceil(p * ms.length) - 1)]! : NaN);
  return { sent: sent.size, delivered: ms.length, p50Ms: q(0.5), p99Ms: q(0.99) };
}

/** Waits until every probe event was accepted (or the deadline), then reads the latency. */
export async function settleLatency(
  probe: LiveProbe,
  accepted: () => ReadonlyArray<{ messageId: string; receivedAt: number }>,
  timeoutMs: number,
): Promise<Latency> {
  await probe.stop();
  const until = Date.now() + timeoutMs;
  let l = liveLatency(probe.sent, accepted());
  while (l.delivered < l.sent && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 200));
    l = liveLatency(probe.sent, accepted());
  }
  return l;
}

export interface RemoteBackfillResult {
  readonly summary: RemoteSummary;
  /** The host killed mid-way and the file it was importing. */
  readonly killed?: { host: number; object: string };
  /** Pushes each importer host answered. */
  readonly handled: readonly number[];
  readonly seconds: number;
}

/**
 * Runs the plan through the backfill hosts as `currents import --remote` would; kills one busy host after the first
 * file is finished (`kill: true`). The caller owns `hosts` (and stops them).
 */
export async function runRemoteBackfill(
  plan: ImportPlan,
  o: {
    project: string;
    connector: Connector;
    hosts: BackfillHosts;
    reimport: boolean;
    kill: boolean;
    onProgress?: (s: { files: number; events: number; inFlight: number }) => void;
  },
): Promise<RemoteBackfillResult> {
  const ports = await cloudRemotePorts({ project: o.project, connector: o.connector.name });
  let killed: RemoteBackfillResult['killed'];
  const started = Date.now();
  try {
    const summary = await runRemoteImport(plan, ports, {
      reimport: o.reimport,
      window: 2 * o.hosts.importers.length,
      pollMs: 200,
      onProgress: (s) => {
        o.onProgress?.(s);
        if (!o.kill || killed || s.files < 1) return;
        const victim = o.hosts.busy()[0];
        if (!victim) return;
        killed = { host: o.hosts.importers.indexOf(victim.host), object: victim.object };
        void victim.host.kill();
      },
    });
    return { summary, killed, handled: [...o.hosts.handled], seconds: (Date.now() - started) / 1000 };
  } finally {
    await ports.close();
  }
}

/** What the scenario's remote backfill shows; `stop` ends its hosts once the run has reconciled. */
export interface RemoteOutcome {
  readonly result: RemoteBackfillResult;
  readonly live: { readonly without: Latency; readonly during: Latency };
  readonly hosts: number;
  stop(): Promise<void>;
}

export interface BackfillContext {
  readonly stack: LocalStack;
  readonly server: LocalStorageServer;
  readonly local: LocalConnector;
  readonly from: Date;
  readonly to: Date;
  readonly out: (line: string) => void;
  /** Log lines of the backfill function (counted as the connector's). */
  readonly onLog: (line: string) => void;
}

/** The scenario's backfill of the dropped hour: `currents import --reimport`, locally or (`remote`) remotely. */
export async function backfillHour(
  ctx: BackfillContext,
  remote?: { hosts: number },
): Promise<RemoteOutcome | undefined> {
  const c = ctx.local.connector;
  const importer = new ConnectorImporter({
    project: ctx.stack.projectId,
    connector: c,
    apiEndpoint: ctx.server.apiEndpoint,
  });
  try {
    const plan = await planImport(importer, {
      bucket: c.storage!.bucket,
      prefix: c.storage!.prefix,
      from: ctx.from,
      to: ctx.to,
    });
    if (!remote) {
      const backfill = await runImport(importer, plan, { again: true });
      ctx.out(
        `[${c.name}] backfill: ${backfill.done} file(s), ${backfill.published} event(s) published` +
          ` (${backfill.reconciled ? 'reconciled' : 'NOT reconciled'})`,
      );
      return undefined;
    }
    return await remoteScenario(plan, ctx, remote.hosts);
  } finally {
    await importer.close();
  }
}

async function remoteScenario(plan: ImportPlan, ctx: BackfillContext, n: number): Promise<RemoteOutcome> {
  const c = ctx.local.connector;
  const hosts = await startBackfillHosts({
    pubsub: ctx.stack.pubsub,
    environment: { name: ctx.stack.environment.name, project: ctx.stack.projectId },
    connector: c,
    functionEnv: ctx.local.env,
    emulatorEnv: ctx.stack.emulators.env,
    storageEndpoint: ctx.server.apiEndpoint,
    hosts: n,
    onLog: (line) => ctx.onLog(line),
  });
  try {
    const accepted = () => ctx.stack.servers[c.segment.region].accepted();
    ctx.out(`[${c.name}] live events for 3 s without a backfill (the baseline)…`);
    const before = startLiveProbe(ctx.local, { tag: 'before' });
    await new Promise((r) => setTimeout(r, 3000));
    const without = await settleLatency(before, accepted, 30_000);
    ctx.out(
      `[${c.name}] remote backfill: ${plan.files.length} file(s) handed to ${n} backfill importer host(s); ` +
        'one busy host is killed after the first file; live events keep coming',
    );
    const probe = startLiveProbe(ctx.local, { tag: 'during' });
    const result = await runRemoteBackfill(plan, {
      project: ctx.stack.projectId,
      connector: c,
      hosts,
      reimport: true,
      kill: true,
    });
    const during = await settleLatency(probe, accepted, 30_000);
    const s = result.summary;
    if (result.killed)
      ctx.out(`[${c.name}] killed importer host #${result.killed.host + 1} while it imported ${result.killed.object}`);
    ctx.out(
      `[${c.name}] remote backfill: ${s.done} file(s) in ${result.seconds.toFixed(1)} s, ${s.published} event(s) published ` +
        `(+${s.resumed} before a resume), pushes per host ${result.handled.join('/')} ` +
        `(${s.reconciled ? 'reconciled' : 'NOT reconciled'})`,
    );
    ctx.out(
      `[${c.name}] live events: without a backfill p50 ${without.p50Ms} ms, p99 ${without.p99Ms} ms (${without.delivered}/${without.sent}); ` +
        `during it p50 ${during.p50Ms} ms, p99 ${during.p99Ms} ms (${during.delivered}/${during.sent}); ` +
        `p99 ratio ${(during.p99Ms / without.p99Ms).toFixed(2)}`,
    );
    return { result, live: { without, during }, hosts: n, stop: () => hosts.stop() };
  } catch (err) {
    await hosts.stop();
    throw err;
  }
}

/**
 * Events Segment received more than once (deduplicated on messageId) among `ids`, and whether they all belong to the
 * file in flight at the kill (its `event_type=` part names their type).
 */
export function resentAfterKill(
  accepted: ReadonlyArray<{ messageId: string; receipts: number }>,
  feed: ReadonlyArray<{ id: string; type: string }>,
  killedObject: string | undefined,
): { resent: number; allFromKilledFile: boolean } {
  const typeOf = new Map(feed.map((e) => [e.id, e.type]));
  const resent = accepted.filter((a) => a.receipts > 1 && typeOf.has(a.messageId));
  const killedType = killedObject ? /event_type=([^/]+)/.exec(killedObject)?.[1] : undefined;
  return {
    resent: resent.length,
    allFromKilledFile: resent.every((a) => killedType !== undefined && typeOf.get(a.messageId) === killedType),
  };
}

/** Says how many events Segment received twice after the remote backfill's kill, and whether all were the killed file's. */
export function reportResent(
  remote: RemoteOutcome,
  stack: LocalStack,
  c: Connector,
  feeds: ReadonlyMap<string, readonly FeedEvent[]>,
  out: (line: string) => void,
): void {
  const { resent, allFromKilledFile } = resentAfterKill(
    stack.servers[c.segment.region].accepted(),
    feeds.get(c.name)!.map((e) => ({ id: e.id, type: e.type })),
    remote.result.killed?.object,
  );
  out(
    `[${c.name}] received twice by Segment (deduplicated on messageId): ${resent} event(s)` +
      (resent ? (allFromKilledFile ? ', all of the file in flight at the kill' : ', NOT all of the killed file') : ''),
  );
}

/** Takes `--remote [--hosts N]` (the backfill scenario's remote mode, 3 hosts by default) out of `rest`. */
export function takeRemote(rest: string[]): { remote?: { hosts: number } } {
  const r = rest.indexOf('--remote');
  const h = rest.findIndex((a) => a === '--hosts' || a.startsWith('--hosts='));
  if (r < 0) {
    if (h >= 0) throw new Error('--hosts goes with --remote (--scenario backfill --remote --hosts N)');
    return {};
  }
  rest.splice(r, 1);
  if (h < 0) return { remote: { hosts: 3 } };
  const i = rest.findIndex((a) => a === '--hosts' || a.startsWith('--hosts='));
  const value = rest[i]!.includes('=') ? rest[i]!.split('=')[1] : rest[i + 1];
  rest.splice(i, rest[i]!.includes('=') ? 1 : 2);
  const hosts = Number(value);
  if (!Number.isInteger(hosts) || hosts < 2 || hosts > 8)
    throw new Error(`--hosts must be a whole number from 2 to 8 (got '${value ?? ''}'): one of them is killed`);
  return { remote: { hosts } };
}
