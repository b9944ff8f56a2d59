import type { SegmentRegion } from '../../../shared/connector';
import { planBatches, type BatchPlanOptions } from '../../core/batch';
import { systemClock, type Clock, type CredentialSource, type DeliveryItem } from '../../core/types';
import type { DeliveryReport } from '../../ports';
import { resolveEndpoints } from './endpoints';
import { type HttpClient, undiciHttp } from './http';
import { TokenManager } from './oauth';
import { Publisher } from './publisher';
import { emptyReport, UnitSender, type CallState } from './unit';
import { setTimeout as delay } from 'node:timers/promises';

export interface SegmentClientOptions {
  /** The connector's Segment region: picks the Tracking API and the token server. */
  region: SegmentRegion;
  credentials: CredentialSource;
  /** Tracking API base URL override: tests and local runs only (the local Segment server). */
  baseUrl?: string;
  /** Token server base URL override (`{tokenUrl}/token`): tests and local runs only. */
  tokenUrl?: string;
  /** Requests in flight at once per `deliver` call. Default 4. */
  concurrency?: number;
  /**
   * Connections to Segment shared by every `deliver` call of the instance (concurrent pushes each have their own
   * `concurrency`). Default 64: with one connection per request in flight, 16 concurrent pushes never queue behind
   * each other for a socket (a pool of 4 capped one process at about 4 requests per Segment round trip, measured).
   */
  maxConnections?: number;
  /** Timeout of one HTTP request (headers, then body), also bounded by what is left of the budget. Default 10,000 ms. */
  requestTimeoutMs?: number;
  /** Time source for budgets and token expiry. Default the system clock. */
  clock?: Clock;
  /** Random source in [0, 1) for the backoff jitter. Default Math.random. */
  random?: () => number;
  /** How to wait (tests pass one that advances their clock). Default a real timer. */
  sleep?: (ms: number) => Promise<void>;
  /** Exponential backoff for 5xx/network/timeout: full jitter over min(maxMs, baseMs·2^attempt). Default 100 ms / 5 s. */
  backoff?: { baseMs?: number; maxMs?: number };
  /** Longest `Retry-After` honoured (longer ones are cut to this). Default 30,000 ms. */
  maxRetryAfterMs?: number;
  /** Batch planner limits (defaults: 500,000 bytes, 2,500 events, 32 KiB per call). */
  plan?: BatchPlanOptions;
  /**
   * The HTTP port the Tracking API and token requests go through. Default: undici with `maxConnections` keep-alive
   * connections, created on first use and closed by `close()` (an injected client is not closed by the Segment client).
   */
  http?: HttpClient;
}

export interface SegmentClient {
  /**
   * Sends the items to Segment within `budgetMs` (retries included). Every item passed in ends in exactly one list of
   * the report. Never throws for a delivery problem.
   */
  deliver<T extends DeliveryItem>(items: readonly T[], options: { budgetMs: number }): Promise<DeliveryReport<T>>;
  /**
   * Checks the credential without sending an event: an empty batch (`{"batch":[]}`), which Segment authenticates and
   * accepts. The credential is re-read once on a refusal, as `deliver` does. Used by the probe when nothing is parked.
   * `inconclusive` when Segment could not be reached or answered something else (the credential is then unknown).
   */
  verifyCredential(options: {
    budgetMs: number;
  }): Promise<{ ok: true } | { ok: false; detail: string; inconclusive?: boolean }>;
  /** Closes the keep-alive connections. */
  close(): Promise<void>;
}

export type { DeliveryReport } from '../../ports';

/**
 * Creates a Segment Tracking API client for one connector. The outcome of each answer:
 * - 2xx → delivered.
 * - 400 → the batch is split in halves and resent, down to single events; a single event that still gets 400 is rejected.
 * - 413 → split likewise (a single event that gets 413 is rejected).
 * - 429 → waits `Retry-After` (capped at `maxRetryAfterMs`, at least 100 ms; without the header, the backoff below)
 *   and retries, pausing every worker of the call; when the wait does not fit the budget → retryLater.
 * - 5xx except 501/505, 408, network error, timeout → exponential backoff with full jitter while the budget lasts,
 *   then retryLater. 501 (Not Implemented) and 505 (HTTP Version Not Supported) say the request as made can never be
 *   served: retrying cannot help, so those events are rejected (dead-lettered, where they stay replayable).
 * - 401/403, a refused token request, or CredentialUnavailableError from the CredentialSource → the credential is
 *   re-read once (source invalidated, cached token dropped) and the request retried; if it fails again, this and every
 *   remaining event of the call is a credential failure, nothing more is sent, and the source is invalidated.
 * - Any other status (3xx, 404, ...) → retryLater at once (a configuration problem that retrying now will not fix).
 */
export function createSegmentClient(options: SegmentClientOptions): SegmentClient {
  const { batchUrl, tokenUrl, audience } = resolveEndpoints(options.region, options);
  const concurrency = Math.max(1, Math.floor(options.concurrency ?? 4));
  const clock = options.clock ?? systemClock;
  // undici is loaded on first use, so that importing the function stays cheap (it is most of a cold import).
  const ownHttp = options.http ? undefined : undiciHttp({ connections: options.maxConnections ?? 64 });
  const http: HttpClient = options.http ?? ownHttp!;
  const tokens = new TokenManager({ http, audience, tokenUrl, clock });
  const publisher = new Publisher({
    http,
    batchUrl,
    region: options.region,
    credentials: options.credentials,
    tokens,
    clock,
  });
  const units = new UnitSender(publisher, {
    clock,
    sleep: options.sleep ?? delay,
    random: options.random ?? Math.random,
    baseMs: options.backoff?.baseMs ?? 100,
    maxMs: options.backoff?.maxMs ?? 5_000,
    maxRetryAfterMs: options.maxRetryAfterMs ?? 30_000,
    requestTimeoutMs: options.requestTimeoutMs ?? 10_000,
  });
  const callState = <T>(budgetMs: number): CallState<T> => ({
    report: emptyReport<T>(),
    deadline: clock.now() + budgetMs,
    refreshesLeft: 1,
    pausedUntil: 0,
  });

  return {
    async deliver<T extends DeliveryItem>(items: readonly T[], { budgetMs }: { budgetMs: number }) {
      const state = callState<T>(budgetMs);
      const plan = planBatches(items, options.plan);
      for (const { item, bytes } of plan.oversized) {
        state.report.rejected.push({
          item,
          status: 0,
          detail: `not sent: the call is ${bytes} bytes, over Segment's 32 KB limit`,
        });
      }
      const queue = plan.batches.map((b) => b.items);
      const worker = async () => {
        for (let unit = queue.shift(); unit; unit = queue.shift()) await units.send(unit, state);
      };
      await Promise.all(Array.from({ length: Math.min(concurrency, queue.length) }, worker));
      return state.report;
    },
    async verifyCredential({ budgetMs }: { budgetMs: number }) {
      const state = callState<unknown>(budgetMs);
      for (let tries = 0; tries < 2; tries++) {
        const result = await publisher.attempt([], units.timeoutMs(state), state.report);
        if (result.kind === 'ok') return { ok: true as const };
        if (result.kind !== 'credential') return { ok: false as const, detail: result.detail, inconclusive: true };
        publisher.invalidate();
        if (tries === 1) return { ok: false as const, detail: result.detail };
      }
      return { ok: false as const, detail: 'unreachable', inconclusive: true };
    },
    close: async () => {
      await ownHttp?.close();
    },
  };
}
