/**
 * The credential state machine's state in `connector/state`, with its cached read and its compare-and-set transitions.
 *
 * Costs: in steady state (`active`) `current()`/`admit()` read the state doc at most once per cache period per instance,
 * shared by concurrent callers, and write NOTHING per event; `noteDelivery()` writes `lastDeliveryAt` at most once per
 * interval per instance. State changes run the pure decisions of runtime/core/expiry.ts in a transaction on the fresh
 * state, so that concurrent instances agree on one `failingSince` and report each transition once. A credential
 * observation (a failure, the probe's outcome) names the `version` it was decided on (its basis: from `admit()` for a
 * push, from `expire()` for the probe); the transaction tells the decision whether the stored version is still that basis
 * (compare-and-set), so that a decision made on a stale read never undoes a change made meanwhile.
 */
import type { DocumentSnapshot } from '@google-cloud/firestore';
import {
  admit,
  type AdmitAction,
  type CredentialState,
  type Decision,
  expire,
  type FollowUp,
  onCredentialFailure,
  onCredentialSuccess,
  onProbe,
  type ProbeOutcome,
} from '../../core/expiry';
import type { Clock } from '../../core/types';
import type { StoredDecision } from '../../ports';
import type { FirestoreConnection } from './connection';
import { droppedIncrement, stateFields, stateFromDoc, versionFromDoc } from './documents';

export const DEFAULT_STATE_CACHE_MS = 5_000;
export const DEFAULT_LAST_DELIVERY_INTERVAL_MS = 60_000;
/**
 * When the state cannot be read (Firestore unreachable, or slower than the read timeout), the last `active` state read
 * is still used for this many cache periods after it was read (the cache time × N), so that deliveries go on while
 * Segment works. Past that, or when the last known state is not `active`, the state is unknown: the read's error is
 * thrown and the push is answered 503 (Pub/Sub redelivers). A credential failure always needs Firestore (a transaction)
 * and so is never decided on a stale state.
 */
export const STALE_ACTIVE_CACHE_PERIODS = 12;
/** How long one read of the state may take before it counts as failed. */
export const DEFAULT_STATE_READ_TIMEOUT_MS = 2_000;
/** The first read of an instance (no known state to use instead) may take this many times longer (10 s by default). */
export const FIRST_READ_TIMEOUT_FACTOR = 5;

/** What is reported when the last known `active` state is used because the state could not be read. */
export interface StaleStateUse {
  /** Age of the state used (since it was last read or written). */
  readonly ageMs: number;
  /** How long a known `active` state may be used without a read. */
  readonly limitMs: number;
  /** Why the read failed (no secret: an error name or code). */
  readonly detail: string;
}

export interface CredentialStateOptions {
  readonly graceMs: number;
  readonly clock: Clock;
  /** How long a read of the state is reused. */
  readonly cacheMs: number;
  /** Minimum time between two `lastDeliveryAt` writes of this instance. */
  readonly lastDeliveryIntervalMs: number;
  /** How long the last known `active` state is used when the state cannot be read (default cacheMs × 12). */
  readonly staleActiveMs?: number;
  /** A read slower than this counts as failed (default 2 s). */
  readonly readTimeoutMs?: number;
  /** Told each time the last known `active` state is used instead of a read (the runtime logs it). */
  readonly onStaleState?: (use: StaleStateUse) => void;
  /** Told when the state cannot be read and no known state may be used (the push is answered 503; the runtime logs it). */
  readonly onUnreadable?: (failure: { ageMs?: number; limitMs: number; detail: string }) => void;
}

export class CredentialStateDocument {
  private cached?: { state: CredentialState; version: number; at: number };
  /** The cached state may not be reused as fresh (invalidated); it still serves as the last known state. */
  private mustRead = false;
  private inflight?: Promise<{ state: CredentialState; version: number }>;
  private cacheGeneration = 0;
  private lastDeliveryNoted?: number;
  /** After a failed read: no new read before this time (the known `active` state is used meanwhile). */
  private nextReadAt?: number;
  private lastReadError?: string;

  constructor(
    private readonly conn: FirestoreConnection,
    private readonly opts: CredentialStateOptions,
  ) {}

  /**
   * The state, read at most once per cache period (concurrent callers share one read). This is the hot path: no write.
   */
  async current(): Promise<CredentialState> {
    return (await this.currentVersioned()).state;
  }

  /** `current()` with the version it was read at. */
  private currentVersioned(): Promise<{ state: CredentialState; version: number }> {
    const now = this.opts.clock.now();
    if (this.cached && !this.mustRead && now - this.cached.at < this.opts.cacheMs) return Promise.resolve(this.cached);
    // A read failed recently: keep using the known `active` state until the next read is due (one per cache period).
    const stale = this.usableStale(now);
    if (stale && this.nextReadAt !== undefined && now < this.nextReadAt)
      return Promise.resolve(this.reportStale(stale, now, this.lastReadError ?? 'state unreadable'));
    if (!this.inflight) {
      const gen = this.cacheGeneration;
      const p = (async () => {
        const { stateRef } = await this.conn.refs();
        // With no known state to fall back on (an instance's first read, its client still connecting), waiting longer
        // beats a 503 that only starts the same read again on the redelivery.
        const timeoutMs = this.opts.readTimeoutMs ?? DEFAULT_STATE_READ_TIMEOUT_MS;
        const snap = await withTimeout(stateRef.get(), this.cached ? timeoutMs : timeoutMs * FIRST_READ_TIMEOUT_FACTOR);
        this.conn.stats.reads++;
        const data = snap.data();
        const read = { state: stateFromDoc(data), version: versionFromDoc(data) };
        if (gen === this.cacheGeneration) {
          this.cached = { ...read, at: this.opts.clock.now() };
          this.mustRead = false;
        }
        this.nextReadAt = undefined;
        return read;
      })();
      this.inflight = p;
      const clear = () => {
        if (this.inflight === p) this.inflight = undefined;
      };
      p.then(clear, clear);
    }
    return this.inflight.catch((err: unknown) => {
      const at = this.opts.clock.now();
      const usable = this.usableStale(at);
      if (!usable) {
        const ageMs = this.cached && at - this.cached.at;
        this.opts.onUnreadable?.({ ageMs, limitMs: this.staleLimitMs(), detail: errorDetail(err) });
        throw err;
      }
      this.nextReadAt = at + this.opts.cacheMs;
      this.lastReadError = errorDetail(err);
      // Deliveries made while the state cannot be read are noted again as soon as it can: the first one after the
      // outage writes `lastDeliveryAt`, so that `currents status` catches up at once rather than an interval later.
      this.lastDeliveryNoted = undefined;
      return this.reportStale(usable, at, this.lastReadError);
    });
  }

  /** The cached state when it is `active` and young enough to be used without a read. */
  private usableStale(now: number): { state: CredentialState; version: number; at: number } | undefined {
    const c = this.cached;
    return c && c.state.status === 'active' && now - c.at <= this.staleLimitMs() ? c : undefined;
  }

  /** How long a known `active` state may be used without a read. */
  private staleLimitMs(): number {
    return this.opts.staleActiveMs ?? this.opts.cacheMs * STALE_ACTIVE_CACHE_PERIODS;
  }

  private reportStale(
    c: { state: CredentialState; version: number; at: number },
    now: number,
    detail: string,
  ): { state: CredentialState; version: number } {
    this.opts.onStaleState?.({ ageMs: now - c.at, limitMs: this.staleLimitMs(), detail });
    return { state: c.state, version: c.version };
  }

  /**
   * The next `current()` reads the state again. The last known state is kept for when that read fails (Firestore
   * unreachable): forgetting it would stop deliveries at the next probe of an outage instead of at the stated bound.
   */
  invalidateCache(): void {
    this.mustRead = true;
    this.nextReadAt = undefined;
    this.inflight = undefined;
    this.cacheGeneration++;
  }

  /**
   * Runs a pure decision on the FRESH state inside a Firestore transaction and persists its `next` state when it changed,
   * with the version incremented. The decision may run more than once (transaction retries); the one returned is the one
   * committed. Concurrent callers therefore see each other's commits: only one of them reports a given transition.
   * `basis` is the version the caller decided on before it tried the credential: the decision is told whether the stored
   * state is still that one (`basisHolds`; always true without a basis).
   */
  async transact<A extends string>(
    decide: (state: CredentialState, now: number, basisHolds: boolean) => Decision<A>,
    basis?: number,
  ): Promise<StoredDecision<A>> {
    const { db, fs, stateRef } = await this.conn.refs();
    const { clock } = this.opts;
    const decision = await db.runTransaction(async (tx) => {
      this.conn.stats.transactions++;
      const snap = (await tx.get(stateRef)) as DocumentSnapshot;
      this.conn.stats.reads++;
      const data = snap.data();
      const stored = versionFromDoc(data);
      const d = decide(stateFromDoc(data), clock.now(), basis === undefined || basis === stored);
      if (!d.changed) return { ...d, version: stored };
      tx.set(stateRef, { ...stateFields(fs, d.next, clock.now()), version: stored + 1 }, { merge: true });
      return { ...d, version: stored + 1 };
    });
    if (decision.changed) this.conn.stats.writes++;
    this.cached = { state: decision.next, version: decision.version, at: clock.now() };
    this.mustRead = false;
    this.cacheGeneration++;
    this.inflight = undefined;
    return decision;
  }

  /**
   * What to do with a new event batch (send / park / drop), decided on the cached state. Only when the decision changes
   * the state (failing past the grace period → expired) is it re-decided and written in a transaction, so that the
   * `expired` transition is reported once across instances. Its `version` is the basis of a failure seen sending.
   */
  async admit(): Promise<StoredDecision<AdmitAction>> {
    const { state, version } = await this.currentVersioned();
    const { graceMs } = this.opts;
    const d = admit(state, this.opts.clock.now(), graceMs);
    if (!d.changed) return { ...d, version };
    return this.transact((s, now) => admit(s, now, graceMs));
  }

  /**
   * A credential failure was seen (transaction: failing_started only for the first of all instances). `basis`: the
   * version the sender decided on (from `admit()`); without it the failure is taken as seen on the current state.
   */
  recordFailure(detail: string, basis?: number): Promise<StoredDecision<FollowUp>> {
    return this.transact((s, now, holds) => onCredentialFailure(s, now, detail, holds), basis);
  }

  /**
   * The credential worked. When the cached state is `active` this costs nothing (no read, no write); otherwise the
   * recovery is decided in a transaction (on `basis`, as `recordFailure`).
   */
  async recordSuccess(basis?: number): Promise<StoredDecision<FollowUp>> {
    const { state, version } = await this.currentVersioned();
    const d = onCredentialSuccess(state, this.opts.clock.now());
    if (!d.changed) return { ...d, version };
    return this.transact((s, now, holds) => onCredentialSuccess(s, now, holds), basis);
  }

  /** The scheduled probe's outcome (transaction), decided on `basis` (the version `expire()` returned). */
  probe(outcome: ProbeOutcome, basis?: number): Promise<StoredDecision<FollowUp>> {
    return this.transact((s, now, holds) => onProbe(s, now, this.opts.graceMs, outcome, holds), basis);
  }

  /** failing → expired once past the grace period (transaction). Its `version` is the probe's basis. */
  expire(): Promise<StoredDecision<FollowUp>> {
    return this.transact((s, now) => expire(s, now, this.opts.graceMs));
  }

  /**
   * Records that events were delivered, as `lastDeliveryAt`, at most once per interval per instance (not per event).
   * Returns true when it wrote.
   */
  async noteDelivery(): Promise<boolean> {
    const now = this.opts.clock.now();
    if (this.lastDeliveryNoted !== undefined && now - this.lastDeliveryNoted < this.opts.lastDeliveryIntervalMs)
      return false;
    this.lastDeliveryNoted = now;
    const { fs, stateRef } = await this.conn.refs();
    try {
      await withTimeout(
        stateRef.set({ lastDeliveryAt: fs.Timestamp.fromMillis(now) }, { merge: true }),
        this.opts.readTimeoutMs ?? DEFAULT_STATE_READ_TIMEOUT_MS,
      );
    } catch {
      // For status only (`currents status`): a write that fails never fails the delivery it notes; the next one retries.
      this.lastDeliveryNoted = undefined;
      return false;
    }
    this.conn.stats.writes++;
    return true;
  }

  /** Adds events dropped on arrival (connector expired) to the cumulative counts in the state document (one write). */
  async recordDropped(byType: Readonly<Record<string, number>>): Promise<void> {
    const { fs, stateRef } = await this.conn.refs();
    const total = Object.values(byType).reduce((a, b) => a + b, 0);
    if (total === 0) return;
    await stateRef.set(droppedIncrement(fs, byType, total, this.opts.clock.now()), { merge: true });
    this.conn.stats.writes++;
  }
}

/** Rejects when `p` takes longer than `ms` (the operation itself is left to finish or fail on its own). */
function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Firestore did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/** An error's code or name and message, for logs (Firestore errors carry no secret). */
function errorDetail(err: unknown): string {
  const e = err as { code?: unknown; message?: unknown; name?: unknown };
  const code = e.code !== undefined ? `code ${String(e.code)}: ` : '';
  return `${code}${String(e.message ?? e.name ?? err)}`.slice(0, 200);
}
