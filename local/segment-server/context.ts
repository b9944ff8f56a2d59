/** What the local Segment server's request handlers share: its settings, counters, events, faults and credentials. */
import { DEFAULT_REGION, type SegmentRegion } from '../../shared/regions';
import { freshCounters, type Counters } from './counters';
import { Credentials } from './credentials';
import { FaultInjector } from './faults';
import type { AcceptedEvent, SegmentServerOptions, SegmentServerStats } from './types';
import { Workspace } from './workspace';

/** Accepted events, one per (source, messageId), in order of first receipt, with their receipts. */
export class EventLog {
  private events = new Map<string, { event: AcceptedEvent; receipts: number }>();
  private order: string[] = [];

  /** Adds the event, or counts one more receipt of it; returns whether it was new. */
  add(key: string, event: () => AcceptedEvent): boolean {
    const seen = this.events.get(key);
    if (seen) {
      seen.receipts++;
      return false;
    }
    this.events.set(key, { event: event(), receipts: 1 });
    this.order.push(key);
    return true;
  }

  get size(): number {
    return this.order.length;
  }

  list(): AcceptedEvent[] {
    return this.order.map((k) => ({ ...this.events.get(k)!.event, receipts: this.events.get(k)!.receipts }));
  }

  reset(): void {
    this.events = new Map();
    this.order = [];
  }
}

export interface ServerContext {
  readonly region: SegmentRegion;
  /** The server's clock. */
  readonly now: () => number;
  /** Keep each accepted call's parsed body. */
  readonly recordCalls: boolean;
  /** Replaced by `reset()`: read it at each use. */
  counters: Counters;
  /** Tracking API requests being handled now. */
  inFlight: number;
  readonly events: EventLog;
  readonly faults: FaultInjector;
  readonly workspace: Workspace;
  readonly credentials: Credentials;
}

export function createContext(options: SegmentServerOptions): ServerContext {
  const region: SegmentRegion = options.region ?? DEFAULT_REGION;
  const now = options.now ?? Date.now;
  const ctx: ServerContext = {
    region,
    now,
    recordCalls: options.recordCalls ?? true,
    counters: freshCounters(),
    inFlight: 0,
    events: new EventLog(),
    faults: new FaultInjector(options.seed ?? 1, () => ctx.counters.faultsInjected++),
    workspace: new Workspace(options, region),
    credentials: new Credentials(options, region, now, options.tokenTtlSeconds ?? 3600),
  };
  return ctx;
}

/** Forgets events, counters, fault rules, rejected ids, revocations and tokens; sources return to how they started. */
export function resetContext(ctx: ServerContext): void {
  ctx.events.reset();
  ctx.faults.reset();
  ctx.credentials.reset();
  ctx.counters = freshCounters();
  ctx.workspace.reset();
}

export function statsOf(ctx: ServerContext): SegmentServerStats {
  const { counters } = ctx;
  return {
    region: ctx.region,
    ...counters,
    requestsByStatus: { ...counters.requestsByStatus },
    discarded: { ...counters.discarded },
    publicApiRequestsByStatus: { ...counters.publicApiRequestsByStatus },
    tokenRequestsByStatus: { ...counters.tokenRequestsByStatus },
    acceptedUnique: ctx.events.size,
  };
}
