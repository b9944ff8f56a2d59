/**
 * The Segment client's batch accounting: sends one planned batch (a unit) through the Publisher and files every event
 * of it in the call's report: splits on 400/413, waits out 429 and backs off on 5xx/network failures while the budget
 * lasts, gives up on the credential after one re-read. The rules are listed on `createSegmentClient` (client.ts).
 */
import type { Clock, DeliveryItem } from '../../core/types';
import type { DeliveryReport } from '../../ports';
import type { Attempt, Publisher } from './publisher';

/** The state of one `deliver` (or `verifyCredential`) call, shared by its workers. */
export interface CallState<T> {
  report: DeliveryReport<T>;
  deadline: number;
  /** Re-reads of the credential left in this call: one, so that a rotated secret is picked up but a revoked one fails fast. */
  refreshesLeft: number;
  /** Shared pause after a 429, so that all workers back off together. */
  pausedUntil: number;
}

export interface RetryPolicy {
  clock: Clock;
  sleep: (ms: number) => Promise<void>;
  random: () => number;
  /** Exponential backoff: full jitter over min(maxMs, baseMs·2^attempt). */
  baseMs: number;
  maxMs: number;
  /** Longest `Retry-After` honoured. */
  maxRetryAfterMs: number;
  requestTimeoutMs: number;
}

/** Floor of any wait between two attempts, so a `Retry-After: 0` or a zero jitter never spins. */
const MIN_WAIT_MS = 1;
const MIN_RATE_LIMIT_WAIT_MS = 100;

/** A report with nothing in it yet. */
export function emptyReport<T>(): DeliveryReport<T> {
  return { delivered: [], rejected: [], retryLater: [], credentialFailure: [], requests: 0, statuses: {} };
}

/** After an attempt: the unit is filed (`done`), or is tried again (`again`). */
type Next = 'done' | 'again';

export class UnitSender {
  constructor(
    private readonly publisher: Publisher,
    private readonly policy: RetryPolicy,
  ) {}

  /** A request's timeout: the policy's, bounded by what is left of the budget at `now`. */
  timeoutMs(state: CallState<unknown>, now = this.policy.clock.now()): number {
    return Math.max(1, Math.min(this.policy.requestTimeoutMs, state.deadline - now));
  }

  /** Sends the items until each has its place in the report. */
  async send<T extends DeliveryItem>(items: T[], state: CallState<T>): Promise<void> {
    const { clock } = this.policy;
    const { report } = state;
    let retries = 0;
    const backoff = () => this.backoffMs(retries++);
    for (;;) {
      if (report.credentialError !== undefined) {
        report.credentialFailure.push(...items);
        return;
      }
      const now = clock.now();
      if (state.deadline - now <= 0) {
        report.retryLater.push(...items);
        return;
      }
      if (state.pausedUntil > now) {
        if ((await this.waitOrGiveBack(state.pausedUntil - now, items, state)) === 'done') return;
        continue;
      }
      const result = await this.publisher.attempt(items, this.timeoutMs(state, now), report);
      if ((await this.file(result, items, state, backoff)) === 'done') return;
    }
  }

  private async file<T extends DeliveryItem>(
    result: Attempt,
    items: T[],
    state: CallState<T>,
    backoff: () => number,
  ): Promise<Next> {
    switch (result.kind) {
      case 'ok':
        state.report.delivered.push(...items);
        return 'done';
      case 'credential':
        this.onCredentialFailure(result, state);
        return 'again'; // the loop files the items once the call gave up on the credential
      case 'status':
        return this.onStatus(result, items, state, backoff);
      case 'network':
      case 'transient': {
        const ms =
          result.kind === 'transient' && result.retryAfterMs !== undefined
            ? this.retryAfterWait(result.retryAfterMs)
            : backoff();
        return this.waitOrGiveBack(ms, items, state);
      }
    }
  }

  private onCredentialFailure(result: Attempt & { kind: 'credential' }, state: CallState<unknown>): void {
    if (state.report.credentialError !== undefined) return; // another worker already gave up
    if (result.generation < this.publisher.generation) return; // the credential was re-read since: try with it
    if (state.refreshesLeft > 0) {
      state.refreshesLeft--;
      this.publisher.refresh();
      return;
    }
    state.report.credentialError = result.detail;
    this.publisher.invalidate();
  }

  private async onStatus<T extends DeliveryItem>(
    result: Attempt & { kind: 'status' },
    items: T[],
    state: CallState<T>,
    backoff: () => number,
  ): Promise<Next> {
    const { status } = result;
    if (status === 400 || status === 413) {
      if (items.length > 1) {
        const half = Math.ceil(items.length / 2);
        await this.send(items.slice(0, half), state);
        await this.send(items.slice(half), state);
      } else {
        state.report.rejected.push({ item: items[0]!, status, detail: result.detail });
      }
      return 'done';
    }
    if (status === 501 || status === 505) {
      for (const item of items) state.report.rejected.push({ item, status, detail: result.detail });
      return 'done';
    }
    if (status === 429) {
      const ms = result.retryAfterMs === undefined ? backoff() : this.retryAfterWait(result.retryAfterMs);
      state.pausedUntil = Math.max(state.pausedUntil, this.policy.clock.now() + ms);
      return this.waitOrGiveBack(ms, items, state);
    }
    if (status >= 500 || status === 408) return this.waitOrGiveBack(backoff(), items, state);
    state.report.retryLater.push(...items);
    return 'done';
  }

  /** Waits `ms` if it fits the budget (`again`); otherwise gives the items back (`retryLater`, `done`). */
  private async waitOrGiveBack<T>(ms: number, items: T[], state: CallState<T>): Promise<Next> {
    if (this.policy.clock.now() + ms >= state.deadline) {
      state.report.retryLater.push(...items);
      return 'done';
    }
    await this.policy.sleep(ms);
    return 'again';
  }

  private retryAfterWait(retryAfterMs: number): number {
    return Math.max(MIN_RATE_LIMIT_WAIT_MS, Math.min(this.policy.maxRetryAfterMs, retryAfterMs));
  }

  private backoffMs(n: number): number {
    const { random, maxMs, baseMs } = this.policy;
    return Math.max(MIN_WAIT_MS, Math.floor(random() * Math.min(maxMs, baseMs * 2 ** n)));
  }
}
