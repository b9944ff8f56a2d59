import type { SegmentRegion } from '../../../shared/connector';
import { batchBody, planBatches, type BatchPlanOptions } from '../../core/batch';
import {
  CredentialUnavailableError,
  systemClock,
  type Clock,
  type CredentialSource,
  type DeliveryItem,
} from '../../core/types';
import type { DeliveryReport } from '../../ports';
import { resolveEndpoints } from './endpoints';
import { type HttpClient, parseRetryAfter, TransientError, undiciHttp } from './http';
import { CredentialRefusedError, TokenManager } from './oauth';
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
   * The HTTP port the Tracking API and token requests go through. Default: undici with `concurrency` keep-alive
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

type Attempt =
  | { kind: 'ok' }
  | { kind: 'status'; status: number; detail: string; retryAfterMs?: number }
  | { kind: 'network'; detail: string }
  | { kind: 'credential'; detail: string; generation: number }
  | { kind: 'transient'; detail: string; retryAfterMs?: number };

interface CallState<T> {
  report: DeliveryReport<T>;
  deadline: number;
  /** Re-reads of the credential left in this call: one, so that a rotated secret is picked up but a revoked one fails fast. */
  refreshesLeft: number;
  /** Shared pause after a 429, so that all workers back off together. */
  pausedUntil: number;
}

/** Floor of any wait between two attempts, so a `Retry-After: 0` or a zero jitter never spins. */
const MIN_WAIT_MS = 1;
const MIN_RATE_LIMIT_WAIT_MS = 100;

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
  const requestTimeoutMs = options.requestTimeoutMs ?? 10_000;
  const clock = options.clock ?? systemClock;
  const random = options.random ?? Math.random;
  const sleep = options.sleep ?? delay;
  const baseMs = options.backoff?.baseMs ?? 100;
  const maxMs = options.backoff?.maxMs ?? 5_000;
  const maxRetryAfterMs = options.maxRetryAfterMs ?? 30_000;
  const credentials = options.credentials;
  // undici is loaded on first use, so that importing the function stays cheap (it is most of a cold import).
  const ownHttp = options.http ? undefined : undiciHttp({ connections: options.maxConnections ?? 64 });
  const http: HttpClient = options.http ?? ownHttp!;
  const tokens = new TokenManager({
    http,
    audience,
    tokenUrl,
    clock,
  });
  /** Bumped whenever the credential is re-read, so that a 401 on an older one just retries. */
  let generation = 0;

  async function authorization(timeoutMs: number): Promise<string> {
    const secret = await credentials.get();
    if (secret.kind === 'writeKey') return 'Basic ' + Buffer.from(secret.writeKey + ':').toString('base64');
    return 'Bearer ' + (await tokens.token(secret, timeoutMs));
  }

  async function attempt(
    items: readonly DeliveryItem[],
    timeoutMs: number,
    state: CallState<unknown>,
  ): Promise<Attempt> {
    const gen = generation;
    let auth: string;
    try {
      auth = await authorization(timeoutMs);
    } catch (err) {
      if (err instanceof CredentialUnavailableError || err instanceof CredentialRefusedError) {
        return { kind: 'credential', detail: err.message, generation: gen };
      }
      if (err instanceof TransientError)
        return { kind: 'transient', detail: err.message, retryAfterMs: err.retryAfterMs };
      // The source failed in some other way (e.g. Secret Manager unreachable): passing. Its message is not repeated.
      return { kind: 'transient', detail: `credential source failed (${(err as Error).name})` };
    }
    const body = batchBody(items, new Date(clock.now()).toISOString());
    state.report.requests++;
    try {
      const res = await http.post({
        url: batchUrl,
        headers: { 'content-type': 'application/json', authorization: auth },
        body,
        timeoutMs,
        what: '',
      });
      const status = res.status;
      state.report.statuses[status] = (state.report.statuses[status] ?? 0) + 1;
      if (status >= 200 && status < 300) return { kind: 'ok' };
      if (status === 401 || status === 403) {
        return { kind: 'credential', detail: `Segment answered ${status} (${options.region})`, generation: gen };
      }
      return {
        kind: 'status',
        status,
        detail: `Segment answered ${status}: ${res.text.slice(0, 200)}`,
        retryAfterMs: parseRetryAfter(res.headers['retry-after'], clock.now()),
      };
    } catch (err) {
      state.report.statuses.network = (state.report.statuses.network ?? 0) + 1;
      const detail =
        err instanceof TransientError ? err.message : ((err as { code?: string }).code ?? (err as Error).name);
      return { kind: 'network', detail: `request failed: ${detail}` };
    }
  }

  function backoffMs(n: number): number {
    return Math.max(MIN_WAIT_MS, Math.floor(random() * Math.min(maxMs, baseMs * 2 ** n)));
  }

  async function sendUnit<T extends DeliveryItem>(items: T[], state: CallState<T>): Promise<void> {
    const { report } = state;
    let retries = 0;
    /** Waits `ms` if it fits the budget; false when it does not (the caller then gives the items back). */
    const wait = async (ms: number): Promise<boolean> => {
      if (clock.now() + ms >= state.deadline) return false;
      await sleep(ms);
      return true;
    };
    for (;;) {
      if (report.credentialError !== undefined) {
        report.credentialFailure.push(...items);
        return;
      }
      const now = clock.now();
      const remaining = state.deadline - now;
      if (remaining <= 0) {
        report.retryLater.push(...items);
        return;
      }
      if (state.pausedUntil > now) {
        if (!(await wait(state.pausedUntil - now))) {
          report.retryLater.push(...items);
          return;
        }
        continue;
      }
      const result = await attempt(
        items,
        Math.max(1, Math.min(requestTimeoutMs, remaining)),
        state as CallState<unknown>,
      );
      switch (result.kind) {
        case 'ok':
          report.delivered.push(...items);
          return;
        case 'credential': {
          if (report.credentialError !== undefined) continue; // another worker already gave up: loop files them
          if (result.generation < generation) continue; // the credential was re-read since: try with it
          if (state.refreshesLeft > 0) {
            state.refreshesLeft--;
            generation++;
            tokens.invalidate();
            credentials.invalidate();
            continue;
          }
          report.credentialError = result.detail;
          credentials.invalidate();
          tokens.invalidate();
          continue;
        }
        case 'status': {
          const { status } = result;
          if (status === 400 || status === 413) {
            if (items.length > 1) {
              const half = Math.ceil(items.length / 2);
              await sendUnit(items.slice(0, half), state);
              await sendUnit(items.slice(half), state);
            } else {
              report.rejected.push({ item: items[0]!, status, detail: result.detail });
            }
            return;
          }
          if (status === 501 || status === 505) {
            for (const item of items) report.rejected.push({ item, status, detail: result.detail });
            return;
          }
          if (status === 429) {
            const ms =
              result.retryAfterMs === undefined
                ? backoffMs(retries++)
                : Math.max(MIN_RATE_LIMIT_WAIT_MS, Math.min(maxRetryAfterMs, result.retryAfterMs));
            state.pausedUntil = Math.max(state.pausedUntil, clock.now() + ms);
            if (!(await wait(ms))) {
              report.retryLater.push(...items);
              return;
            }
            continue;
          }
          if (status >= 500 || status === 408) {
            if (!(await wait(backoffMs(retries++)))) {
              report.retryLater.push(...items);
              return;
            }
            continue;
          }
          report.retryLater.push(...items);
          return;
        }
        case 'network':
        case 'transient': {
          const ms =
            result.kind === 'transient' && result.retryAfterMs !== undefined
              ? Math.max(MIN_RATE_LIMIT_WAIT_MS, Math.min(maxRetryAfterMs, result.retryAfterMs))
              : backoffMs(retries++);
          if (!(await wait(ms))) {
            report.retryLater.push(...items);
            return;
          }
          continue;
        }
      }
    }
  }

  return {
    async deliver<T extends DeliveryItem>(items: readonly T[], { budgetMs }: { budgetMs: number }) {
      const report: DeliveryReport<T> = {
        delivered: [],
        rejected: [],
        retryLater: [],
        credentialFailure: [],
        requests: 0,
        statuses: {},
      };
      const plan = planBatches(items, options.plan);
      for (const { item, bytes } of plan.oversized) {
        report.rejected.push({
          item,
          status: 0,
          detail: `not sent: the call is ${bytes} bytes, over Segment's 32 KB limit`,
        });
      }
      const state: CallState<T> = { report, deadline: clock.now() + budgetMs, refreshesLeft: 1, pausedUntil: 0 };
      const queue = plan.batches.map((b) => b.items);
      const worker = async () => {
        for (let unit = queue.shift(); unit; unit = queue.shift()) await sendUnit(unit, state);
      };
      await Promise.all(Array.from({ length: Math.min(concurrency, queue.length) }, worker));
      return report;
    },
    async verifyCredential({ budgetMs }: { budgetMs: number }) {
      const state: CallState<unknown> = {
        report: { delivered: [], rejected: [], retryLater: [], credentialFailure: [], requests: 0, statuses: {} },
        deadline: clock.now() + budgetMs,
        refreshesLeft: 1,
        pausedUntil: 0,
      };
      for (let tries = 0; tries < 2; tries++) {
        const timeoutMs = Math.max(1, Math.min(requestTimeoutMs, state.deadline - clock.now()));
        const result = await attempt([], timeoutMs, state);
        if (result.kind === 'ok') return { ok: true as const };
        if (result.kind !== 'credential') return { ok: false as const, detail: result.detail, inconclusive: true };
        tokens.invalidate();
        credentials.invalidate();
        if (tries === 1) return { ok: false as const, detail: result.detail };
      }
      return { ok: false as const, detail: 'unreachable', inconclusive: true };
    },
    close: async () => {
      await ownHttp?.close();
    },
  };
}
