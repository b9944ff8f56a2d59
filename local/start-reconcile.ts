/**
 * The reconciliation of one `npm start` run: what the run's log lines say the pipeline did (RunLog), the dead letters
 * read at the end, and per connector what was published against what became of it (summarize).
 */
import { addCounts } from '../runtime/core/counts';
import type { Connector } from '../shared/connector';
import { otherRegions } from '../shared/regions';
import { acknowledge, createClients, leaseAll } from '../cli/ops/dead-letter-queue';
import { newDoorView, noteDoorRequest, summarizeDoor, type DoorSummary, type DoorView } from './door-summary';
import { intentCounts, type FeedEvent, type Intent } from './feed';
import { inReasonOrder, logEntry, LogTap } from './outcomes';
import type { LocalStack } from './stack';

export interface ConnectorSummary {
  connector: string;
  region: string;
  published: number;
  delivered: number;
  deliveredToOtherRegion: number;
  /** Its events that Segment accepted from another connector's credential (none: each went where it belongs). */
  deliveredByOther: number;
  /** Receipts of its events beyond the first (none: nothing was delivered twice). */
  duplicates: number;
  skipped: Record<string, number>;
  deadLettered: Record<string, number>;
  parked: number;
  dropped: number;
  expected: Record<Intent, number>;
  /** The Braze workspace whose door its events came through (runs through the doors). */
  workspace?: string;
  reconciled: boolean;
  problems: string[];
}

interface LogCounts {
  skipped: Record<string, number>;
  parked: number;
  dropped: number;
  deadLettered: number;
}

/** What the run's log lines say: each connector's batches, the parked events drained, state changes, door requests. */
export class RunLog {
  /** Per Pub/Sub message id: the latest batch_done of each connector (redeliveries replace, never add). */
  readonly batches: Map<string, Map<string, LogCounts>>;
  readonly drained = new Map<string, number>();
  readonly doorViews = new Map<string, DoorView>();
  readonly stateLines: string[] = [];
  /** `connector:status` of every state a connector moved to (the scenarios wait on them). */
  readonly reached = new Set<string>();
  /** Every log line, for the watch of `--keep-running` (local/outcomes.ts). */
  readonly logs = new LogTap();

  constructor(
    private readonly connectors: readonly Connector[],
    private readonly out: (line: string) => void,
  ) {
    this.batches = new Map(connectors.map((c) => [c.name, new Map()]));
  }

  readonly onLog = (connector: string, line: string): void => {
    const { out, drained } = this;
    this.logs.emit(connector, line);
    const entry = logEntry(line);
    if (!entry) return;
    if (entry.event === 'batch_done' && typeof entry.pubsubMessageId === 'string') {
      const c = entry.counts as Record<string, number>;
      this.batches.get(connector)!.set(entry.pubsubMessageId, {
        skipped: (entry.skipped as Record<string, number>) ?? {},
        parked: c.parked ?? 0,
        dropped: c.dropped ?? 0,
        deadLettered: c.deadLettered ?? 0,
      });
    } else if (entry.event === 'state_change') {
      this.reached.add(`${connector}:${String(entry.to)}`);
      const text = `[${connector}] state ${entry.from} → ${entry.to}: ${entry.message}`;
      this.stateLines.push(text);
      out(text);
    } else if (entry.event === 'probe' && typeof entry.drainedEvents === 'number' && entry.drainedEvents > 0) {
      drained.set(connector, (drained.get(connector) ?? 0) + entry.drainedEvents);
      out(`[${connector}] probe: drained ${entry.drainedEvents} parked event(s)`);
    }
  };

  readonly onDoorLog = (workspace: string, line: string): void => {
    // Outcomes name a connector: the door's lines go under the first connector of its workspace (and its name).
    this.logs.emit(this.doorLabel(workspace), line);
    const entry = logEntry(line);
    if (!this.doorViews.has(workspace)) this.doorViews.set(workspace, newDoorView());
    if (entry) noteDoorRequest(this.doorViews.get(workspace)!, entry);
  };

  private doorLabel(workspace: string): string {
    return (
      this.connectors.filter((c) => c.workspace === workspace).sort((a, b) => a.name.localeCompare(b.name))[0]?.name ??
      workspace
    );
  }
}

export function sumOf(r: Record<string, number>): number {
  return Object.values(r).reduce((a, b) => a + b, 0);
}

export function quiet(s: ConnectorSummary): boolean {
  return (
    s.delivered + sumOf(s.skipped) + sumOf(s.deadLettered) + s.parked + s.dropped >= s.published &&
    sumOf(s.skipped) === sumOf(pickSkipped(s.expected))
  );
}

function pickSkipped(expected: Record<Intent, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(expected)) if (k.startsWith('skipped:')) out[k.slice(8)] = v;
  return out;
}

interface Seen {
  expectations: Map<string, readonly { id: string; intent: Intent }[]>;
  batches: Map<string, Map<string, LogCounts>>;
  drained: Map<string, number>;
  deadLetters?: Map<string, Record<string, number>>;
}

/** Each door's summary: what its workspace's Braze feed sent against the requests the door logged. */
export function summarizeDoors(
  stack: LocalStack,
  doorFeeds: ReadonlyMap<string, { events: readonly FeedEvent[] }>,
  log: RunLog,
): DoorSummary[] {
  return stack.doors.map((d) =>
    summarizeDoor(
      d.workspace,
      d.door.connectors.map((c) => c.name),
      doorFeeds.get(d.workspace)!.events,
      log.doorViews.get(d.workspace) ?? newDoorView(),
    ),
  );
}

/** Dead letters, read from each connector's hold subscription (ground truth, keyed by event id), by reason. */
export async function readDeadLetters(
  stack: LocalStack,
  keepRunning: boolean,
): Promise<Map<string, Record<string, number>>> {
  const clients = await createClients();
  const deadLetters = new Map<string, Record<string, number>>();
  for (const l of stack.connectors) {
    const sub = `projects/${stack.projectId}/subscriptions/${l.names.deadLetterSubscription}`;
    const letters = await leaseAll(clients.subscriber, sub, { leaseSeconds: 60 });
    const byReason: Record<string, number> = {};
    for (const d of letters) byReason[d.reason] = (byReason[d.reason] ?? 0) + 1;
    deadLetters.set(l.connector.name, byReason);
    if (!keepRunning) await acknowledge(clients.subscriber, sub, letters);
  }
  await Promise.allSettled([clients.subscriber.close(), clients.publisher.close()]);
  return deadLetters;
}

export function summarize(stack: LocalStack, seen: Seen): ConnectorSummary[] {
  const { expectations, batches, drained, deadLetters } = seen;
  return stack.connectors.map((l) => {
    const name = l.connector.name;
    const region = l.connector.segment.region;
    const others = otherRegions(region);
    const feed = expectations.get(name)!;
    const expected = intentCounts(feed);
    const published = feed.length;
    const ids = new Set(feed.map((e) => e.id));
    const mine = stack.servers[region].accepted().filter((e) => ids.has(e.messageId));
    const source = stack.segmentSource(name);
    const delivered = mine.filter((e) => e.source === source).length;
    const deliveredByOther = mine.length - delivered;
    const duplicates = mine.reduce((n, e) => n + e.receipts - 1, 0);
    const deliveredToOtherRegion = others.reduce(
      (n, r) => n + stack.servers[r].accepted().filter((e) => ids.has(e.messageId)).length,
      0,
    );
    const skipped: Record<string, number> = {};
    let parked = 0;
    let dropped = 0;
    let logDeadLettered = 0;
    for (const b of batches.get(name)!.values()) {
      addCounts(skipped, b.skipped);
      parked += b.parked;
      dropped += b.dropped;
      logDeadLettered += b.deadLettered;
    }
    parked = Math.max(0, parked - (drained.get(name) ?? 0));
    const dl = deadLetters?.get(name) ?? (logDeadLettered ? { invalid: logDeadLettered } : {});
    const problems: string[] = [];
    if (delivered !== (expected.delivered ?? 0)) {
      problems.push(`delivered ${delivered}, expected ${expected.delivered ?? 0}`);
    }
    if (deliveredToOtherRegion)
      problems.push(`${deliveredToOtherRegion} event(s) reached the ${others.join(' or ')} server`);
    if (deliveredByOther) problems.push(`${deliveredByOther} event(s) delivered by another connector's credential`);
    if (duplicates) problems.push(`${duplicates} event(s) delivered twice`);
    const expectedSkipped = pickSkipped(expected);
    for (const [reason] of inReasonOrder({ ...expectedSkipped, ...skipped })) {
      if ((skipped[reason] ?? 0) !== (expectedSkipped[reason] ?? 0)) {
        problems.push(`skipped ${reason} ${skipped[reason] ?? 0}, expected ${expectedSkipped[reason] ?? 0}`);
      }
    }
    if ((dl.invalid ?? 0) !== (expected['dead_letter:invalid'] ?? 0)) {
      problems.push(`dead-lettered invalid ${dl.invalid ?? 0}, expected ${expected['dead_letter:invalid'] ?? 0}`);
    }
    if (parked) problems.push(`${parked} event(s) still parked`);
    if (dropped) problems.push(`${dropped} event(s) dropped`);
    const accounted = delivered + sumOf(skipped) + sumOf(dl) + parked + dropped;
    if (accounted !== published) problems.push(`accounted for ${accounted} of ${published} published`);
    return {
      connector: name,
      region,
      published,
      delivered,
      deliveredToOtherRegion,
      deliveredByOther,
      duplicates,
      skipped: inOrder(skipped),
      deadLettered: dl,
      parked,
      dropped,
      expected,
      ...(l.receiver ? { workspace: l.connector.workspace } : {}),
      reconciled: problems.length === 0,
      problems,
    };
  });
}

/** A count map by reason with its keys in the fixed reason order (so that summaries print the same way every run). */
const inOrder = (r: Record<string, number>) => Object.fromEntries(inReasonOrder(r));
