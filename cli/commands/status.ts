/**
 * `currents status`: per connector, the credential state (active / failing since when / expired), the time left in
 * the grace period, the parked events (count, oldest), the dead letters waiting (count by reason), the last delivery,
 * how many versions its credential secret has enabled, and the receiver: its URL, how many token versions are enabled,
 * and its answers by HTTP status over the last 15 minutes. Reads the connector's Firestore database and its dead-letter
 * hold subscription (each dead letter is leased for a few seconds and released at once: Pub/Sub has no peek), its
 * credential secret's and its workspace door's token secret's versions (Secret Manager; metadata only, never a secret)
 * and the door's request metric (Cloud Monitoring). Secret Manager and Cloud Monitoring have no emulator: against a
 * local run the secrets' versions and the receiver's answers are "not available locally".
 */
import { keyValues } from '../../common/table';
import { FirestoreStateStore } from '../../runtime/adapters/firestore-state';
import { graceRemainingMs } from '../../runtime/core/expiry';
import { durationMs, formatDurationMs } from '../../shared/duration';
import { capacity, functionShape } from '../../shared/capacity';
import { boxLines, doorLocation, doorUrl, unselectedWarning, workspaceDoor } from '../../shared/door';
import { parse } from '../../common/args';
import * as specs from '../specs';
import {
  ago,
  checkAccess,
  describeGoogleError,
  guarded,
  iso,
  type OpsTarget,
  resolveTargets,
  subscriptionPath,
  usingEmulators,
  whereLabel,
  withTimeout,
} from '../ops/context';
import { countByReason, createClients, peekAll } from '../ops/dead-letter-queue';
import {
  answersByStatus,
  ANSWERS_WINDOW_MINUTES,
  createMonitoringAccess,
  createTokenSecretClient,
  enabledVersions,
  doorTokenSecretPath,
  type MonitoringAccess,
  type TokenSecretClient,
} from '../ops/receiver';

export interface StatusReport {
  readonly environment: string;
  readonly project: string;
  readonly connector: string;
  readonly state: 'active' | 'failing' | 'expired';
  readonly failingSince?: string;
  readonly lastFailureAt?: string;
  readonly expiredAt?: string;
  readonly recoveredAt?: string;
  /** Why the credential fails (never a secret). */
  readonly detail?: string;
  readonly gracePeriod: string;
  /** Failing only: ms until the connector expires (0 once past: it expires at the next probe or event). */
  readonly graceRemainingMs?: number;
  readonly graceEndsAt?: string;
  readonly parked: { readonly events: number; readonly documents: number; readonly oldest?: string };
  readonly deadLetters: { readonly total: number; readonly byReason: Record<string, number> };
  /** Recorded at most once a minute per function instance. */
  readonly lastDeliveryAt?: string;
  readonly dropped: { readonly total: number; readonly byType: Readonly<Record<string, number>> };
  /**
   * Events of types the catalogue does not know (a type Braze added), by type: how many (a lower bound: an instance
   * writes its counts at most once a minute), first and last seen, and whether the connector exports them.
   */
  readonly unknownTypes: {
    readonly exported: boolean;
    readonly byType: Readonly<Record<string, { events: number; firstSeenAt?: string; lastSeenAt?: string }>>;
  };
  /**
   * Enabled versions of the connector's Segment credential secret (metadata only, never the credential). None: the
   * connector parks every event until one is added.
   */
  readonly credentialSecret: Maybe<{ readonly secret: string; readonly enabled: number }>;
  readonly receiver: ReceiverReport;
  /** The sustainable ceiling implied by the connector's settings (shared/capacity.ts), at 200 ms per Segment request. */
  readonly capacity: { readonly eventsPerSec: number; readonly instances: number; readonly concurrency: number };
}

/** A figure, or why it could not be had (no emulator locally, permission denied…). */
export type Maybe<T> = T | { readonly unavailable: string };

export interface ReceiverReport {
  /**
   * The URL Braze posts to: the door of the connector's workspace (predicted from region, project and workspace; the
   * stack output `door-<id>-url`).
   */
  readonly url: string;
  /** The Braze workspace whose door it is. */
  readonly workspace: string;
  /** The connectors of the workspace the door feeds. */
  readonly connectors: readonly string[];
  /** The boxes to tick in the workspace's Current: one line per connector ("for c (n): Label, …"). */
  readonly boxes: readonly string[];
  /** Set when the workspace's connectors leave exportable types unselected: what to leave unticked, and why. */
  readonly warning?: string;
  /** True against a local run: the URL is the deployed one, tokens and answers cannot be read. */
  readonly local?: true;
  /** Enabled versions of the door's token secret: the tokens the door accepts. Never the tokens themselves. */
  readonly tokenVersions: Maybe<{ readonly enabled: number }>;
  /** The receiver's answers by HTTP status over the last `minutes` (its log-based metric). */
  readonly answers: Maybe<{
    readonly minutes: number;
    readonly total: number;
    readonly byStatus: Record<string, number>;
  }>;
}

/** Where the receiver's figures come from; an absent source is "not available locally". */
export interface ReceiverSources {
  readonly secrets?: TokenSecretClient;
  readonly monitoring?: MonitoringAccess;
}

export type StatusDeps = ReceiverSources;

const NOT_LOCAL = (what: string) => ({ unavailable: `not available locally (${what} has no emulator)` });

/** The receiver's part of the status; never rejects (a figure that cannot be had says why). */
export async function receiverStatus(
  target: OpsTarget,
  sources: ReceiverSources,
  now: number,
): Promise<ReceiverReport> {
  const { environment, connector } = target;
  const door = workspaceDoor(
    connector.workspace,
    environment.connectors.filter((c) => c.workspace === connector.workspace),
  );
  const [tokenVersions, answers] = await Promise.all([
    enabledCount(
      target,
      sources,
      `door token secret ${door.names.tokenSecret}`,
      doorTokenSecretPath(target.project, door.workspace),
    ),
    sources.monitoring
      ? withTimeout(
          answersByStatus(sources.monitoring, target.project, door.workspace, now, ANSWERS_WINDOW_MINUTES),
          TIMEOUT_MS,
          'Cloud Monitoring',
        ).then(
          (byStatus) => ({
            minutes: ANSWERS_WINDOW_MINUTES,
            total: Object.values(byStatus).reduce((a, b) => a + b, 0),
            byStatus,
          }),
          (err: Error) => ({ unavailable: describeGoogleError(err, target, 'the door’s request metric') }),
        )
      : NOT_LOCAL('Cloud Monitoring'),
  ]);
  const warning = unselectedWarning(door);
  return {
    url: doorUrl(environment, door.workspace, doorLocation(door, environment)),
    workspace: door.workspace,
    connectors: door.connectors.map((c) => c.name),
    boxes: boxLines(door),
    ...(warning ? { warning } : {}),
    ...(sources.secrets || sources.monitoring ? {} : { local: true as const }),
    tokenVersions,
    answers,
  };
}

/** How many versions of the secret at `path` are enabled (metadata only); never rejects: says why it cannot tell. */
function enabledCount(
  target: OpsTarget,
  sources: ReceiverSources,
  what: string,
  path: string,
): Promise<Maybe<{ readonly enabled: number }>> {
  const secrets = sources.secrets;
  if (!secrets) return Promise.resolve(NOT_LOCAL('Secret Manager'));
  return guarded(target, what, () => withTimeout(enabledVersions(secrets, path), TIMEOUT_MS, what)).then(
    (versions) => ({ enabled: versions.length }),
    (err: Error) => ({ unavailable: err.message }),
  );
}

/** The connector's credential secret: its enabled versions; never rejects (a figure that cannot be had says why). */
export async function credentialSecretStatus(
  target: OpsTarget,
  sources: ReceiverSources,
): Promise<StatusReport['credentialSecret']> {
  const secret = target.names.secret;
  const count = await enabledCount(
    target,
    sources,
    `credential secret ${secret}`,
    `projects/${target.project}/secrets/${secret}`,
  );
  return 'unavailable' in count ? count : { secret, enabled: count.enabled };
}

/** The credential secret's line of the human status. */
export function credentialSecretLine(c: StatusReport['credentialSecret']): [string, string] {
  if ('unavailable' in c) return ['credential', c.unavailable];
  return [
    'credential',
    c.enabled === 0
      ? `${c.secret} has no enabled version: every event is parked until one is added ` +
        '(`gcloud secrets versions add`, README "Deploying")'
      : `${c.secret}: ${c.enabled === 1 ? '1 version' : `${c.enabled} versions`} enabled (the latest is used)`,
  ];
}

/** The receiver's lines of the human status. */
export function receiverLines(r: ReceiverReport): [string, string][] {
  const lines: [string, string][] = [
    ['receiver', r.local ? `${r.url} (when deployed; \`npm start\` prints the local one)` : r.url],
    ['workspace', `${r.workspace}: one Current, one door for ${r.connectors.join(', ')}`],
    ...r.boxes.map((b, i): [string, string] => [i ? '' : 'braze boxes', b]),
    ...(r.warning ? [['warning', r.warning] as [string, string]] : []),
  ];
  const t = r.tokenVersions;
  lines.push([
    'tokens',
    'unavailable' in t
      ? t.unavailable
      : t.enabled === 0
        ? 'none enabled: Braze is refused; make one with `currents receiver-token new`'
        : t.enabled === 1
          ? '1 version enabled'
          : `${t.enabled} versions enabled (a rotation in progress? \`receiver-token disable-others\` finishes it)`,
  ]);
  const a = r.answers;
  lines.push([
    `answers (${ANSWERS_WINDOW_MINUTES}m)`,
    'unavailable' in a
      ? a.unavailable
      : a.total === 0
        ? 'no requests'
        : `${a.total} request(s): ${Object.entries(a.byStatus)
            .sort(([x], [y]) => x.localeCompare(y))
            .map(([status, n]) => `${status} ×${n}`)
            .join(', ')}`,
  ]);
  return lines;
}

const TIMEOUT_MS = 30_000;

/** Like Promise.all, but waits for every promise to settle before rejecting with the first failure. */
async function settleAll<T extends readonly unknown[]>(promises: { [K in keyof T]: Promise<T[K]> }): Promise<T> {
  const results = await Promise.allSettled(promises);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  return results.map((r) => (r as PromiseFulfilledResult<unknown>).value) as unknown as T;
}

async function statusOf(
  target: OpsTarget,
  clients: Awaited<ReturnType<typeof createClients>>,
  sources: ReceiverSources,
  now: number,
): Promise<StatusReport> {
  const graceMs = durationMs(target.connector.credentialGracePeriod);
  const store = new FirestoreStateStore({
    projectId: target.project,
    databaseId: target.names.firestoreDatabase,
    graceMs,
  });
  try {
    const database = `Firestore database ${target.names.firestoreDatabase}`;
    // allSettled, not all: the store is closed below, so no read may still be running (or reject unheard) by then.
    const [status, oldest, letters, credentialSecret, receiver] = await settleAll([
      guarded(target, database, () => withTimeout(store.readStatus(), TIMEOUT_MS, database)),
      guarded(target, database, () => withTimeout(store.listParked({ limit: 1 }), TIMEOUT_MS, database)),
      guarded(target, `dead-letter subscription ${target.names.deadLetterSubscription}`, () =>
        peekAll(clients.subscriber, subscriptionPath(target, target.names.deadLetterSubscription)),
      ),
      credentialSecretStatus(target, sources),
      receiverStatus(target, sources, now),
    ]);
    const s = status.state;
    const remaining = graceRemainingMs(s, now, graceMs);
    return {
      environment: target.environment.name,
      project: target.project,
      connector: target.connector.name,
      state: s.status,
      failingSince: s.status !== 'active' ? iso(s.failingSince) : undefined,
      lastFailureAt: s.status !== 'active' ? iso(s.lastFailureAt) : undefined,
      expiredAt: s.status === 'expired' ? iso(s.expiredAt) : undefined,
      recoveredAt: s.status === 'active' ? iso(s.recoveredAt) : undefined,
      detail: s.status !== 'active' ? s.detail : undefined,
      gracePeriod: target.connector.credentialGracePeriod,
      graceRemainingMs: remaining,
      graceEndsAt: s.status === 'failing' ? iso(s.failingSince + graceMs) : undefined,
      parked: {
        events: status.parkedEvents,
        documents: status.parkedDocs,
        oldest: iso(oldest.groups[0]?.createdAt),
      },
      deadLetters: { total: letters.length, byReason: countByReason(letters) },
      lastDeliveryAt: iso(status.lastDeliveryAt),
      dropped: status.dropped,
      unknownTypes: {
        exported: target.connector.exportUnknownTypes,
        byType: Object.fromEntries(
          Object.entries(status.unknownTypes).map(([t, u]) => [
            t,
            { events: u.events, firstSeenAt: iso(u.firstSeenAt), lastSeenAt: iso(u.lastSeenAt) },
          ]),
        ),
      },
      credentialSecret,
      receiver,
      capacity: {
        eventsPerSec: capacity(target.connector, functionShape(target.connector)).eventsPerSec,
        instances: target.connector.maxInstances,
        concurrency: target.connector.concurrency,
      },
    };
  } finally {
    await store.close().catch(() => undefined);
  }
}

const when = (t: string | undefined, now: number) => (t ? `${t} (${ago(Date.parse(t), now)})` : 'never');

function render(r: StatusReport, now: number): string {
  const lines: [string, string][] = [];
  if (r.state === 'active') {
    lines.push(['state', `active${r.recoveredAt ? ` (recovered ${when(r.recoveredAt, now)})` : ''}`]);
  } else {
    lines.push(['state', `${r.state.toUpperCase()}: failing since ${when(r.failingSince, now)}`]);
    lines.push(['detail', `${r.detail || 'credential refused'}; last failure ${when(r.lastFailureAt, now)}`]);
  }
  if (r.state === 'failing') {
    const left = r.graceRemainingMs ?? 0;
    lines.push([
      'grace left',
      left > 0
        ? `${formatDurationMs(left)} of ${r.gracePeriod} (expires ${r.graceEndsAt}; parked events are dropped then)`
        : `none: past the ${r.gracePeriod} grace period, expires at the next probe or event`,
    ]);
  } else if (r.state === 'expired') {
    lines.push([
      'grace left',
      `none: expired ${when(r.expiredAt, now)}; new events are dropped until the credential works again`,
    ]);
  } else {
    lines.push(['grace period', r.gracePeriod]);
  }
  lines.push([
    'parked events',
    r.parked.events ? `${r.parked.events} (oldest parked ${when(r.parked.oldest, now)})` : '0',
  ]);
  const reasons = Object.entries(r.deadLetters.byReason)
    .sort()
    .map(([k, n]) => `${k} ${n}`)
    .join(', ');
  lines.push(['dead letters', r.deadLetters.total ? `${r.deadLetters.total} waiting: ${reasons}` : '0']);
  lines.push(['last delivery', when(r.lastDeliveryAt, now)]);
  if (r.dropped.total) {
    const byType = Object.entries(r.dropped.byType)
      .map(([k, n]) => `${k} ${n}`)
      .join(', ');
    lines.push(['dropped', `${r.dropped.total} event(s) in total: ${byType}`]);
  }
  const unknown = Object.entries(r.unknownTypes.byType);
  if (unknown.length) {
    const fate = r.unknownTypes.exported ? 'exported generically' : 'skipped: see exportUnknownTypes in docs/events.md';
    const types = unknown.map(
      ([t, u]) => `${t} ${u.events}+ (first ${u.firstSeenAt}, last ${when(u.lastSeenAt, now)})`,
    );
    lines.push(['unknown types', `${types.join('; ')}; ${fate}`]);
  }
  lines.push(credentialSecretLine(r.credentialSecret));
  lines.push(...receiverLines(r.receiver));
  lines.push([
    'capacity',
    `about ${r.capacity.eventsPerSec.toLocaleString('en-US')} events/s (${r.capacity.instances} instances × ` +
      `${r.capacity.concurrency} pushes at once, Segment at 200 ms; see docs/sizing.md)`,
  ]);
  return keyValues(`${r.connector}  (environment ${r.environment}, ${whereLabel(r.project)})`, lines);
}

/** The receiver's sources: injected (tests), none against the emulators, else the real clients (ADC). */
async function receiverSources(deps: StatusDeps): Promise<ReceiverSources & { close(): Promise<void> }> {
  if (deps.secrets || deps.monitoring || usingEmulators()) return { ...deps, close: async () => undefined };
  const secrets = await createTokenSecretClient();
  return {
    secrets,
    monitoring: await createMonitoringAccess(),
    close: async () => {
      await secrets.close?.();
    },
  };
}

export async function run(argv: string[], deps: StatusDeps = {}): Promise<number> {
  const { values, positionals } = parse(specs.status, argv);
  const targets = resolveTargets(values, positionals[0]);
  await checkAccess(targets);
  const clients = await createClients(targets[0]?.project);
  const sources = await receiverSources(deps);
  const now = Date.now();
  try {
    const results = await Promise.allSettled(targets.map((t) => statusOf(t, clients, sources, now)));
    const failed = results.filter((r) => r.status === 'rejected').length;
    if (values.json) {
      const out = results.map((r, i) =>
        r.status === 'fulfilled'
          ? r.value
          : { connector: targets[i]!.connector.name, error: (r.reason as Error).message },
      );
      console.log(JSON.stringify(out, null, 2));
    } else {
      const blocks: string[] = [];
      results.forEach((r) => {
        if (r.status === 'fulfilled') blocks.push(render(r.value, now));
      });
      if (blocks.length) console.log(blocks.join('\n\n'));
    }
    results.forEach((r) => {
      if (r.status === 'rejected') console.error((r.reason as Error).message);
    });
    return failed ? 1 : 0;
  } finally {
    await Promise.allSettled([clients.subscriber.close(), clients.publisher.close(), sources.close()]);
  }
}
