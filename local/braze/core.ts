/**
 * The local Braze's decisions, with no I/O: how events are cut into batches, what is done with each answer (the table
 * of Braze's Custom Currents Export), how long to wait before a re-send, when the next request may start under pacing,
 * and the tally that becomes the report.
 *
 * What Braze does with an answer, and so what this sender does:
 * - 2xx: done, never re-sent.
 * - 400: the batch is split into single events, each re-sent; a single event that gets 400 again is dropped for good.
 *   (A batch of one event is "split" into itself: it is re-sent once before being dropped.)
 * - 413: the batch is split in halves, each re-sent; a single event that gets 413 is dropped for good.
 * - 401, 403, 404: nothing more is sent at all (Braze disables the Current until a person re-enables it); every event
 *   not yet answered 2xx is reported undelivered. Requests already in flight finish: a 2xx among them still counts.
 * - Anything else (5xx, 429, 3xx, other 4xx) and network errors: the same batch is re-sent after an exponential backoff
 *   with full jitter, and never sooner than the answer's `Retry-After`.
 * - Past the re-send deadline, nothing is re-sent any more (first sends still go): what is left is given up.
 */
import type { BrazeSendReport } from './types';

/** One event with its 1-based position in the input (for events that carry no id). */
export interface Numbered {
  readonly event: unknown;
  readonly n: number;
}

/** A batch on its way: its events and what happened to them so far. */
export interface Unit {
  readonly events: readonly Numbered[];
  /** How many times these events were posted before (0 for a first send). */
  readonly sent: number;
  /** Retryable failures of this unit in a row: the exponent of its next backoff. */
  readonly failures: number;
  /** Made by splitting a batch that got 400: another 400 drops its event. */
  readonly from400: boolean;
  /** The answer that made it wait for a re-send (e.g. `503`, `network error (ECONNRESET)`). */
  readonly lastAnswer?: string;
}

/** What one request got: an HTTP status (with `Retry-After` in ms when sent) or no answer at all. */
export type Answer =
  | { readonly status: number; readonly retryAfterMs?: number }
  | { readonly status: 'network_error'; readonly detail: string };

export type Reaction =
  | { kind: 'accepted' }
  | { kind: 'retry'; delayMs: number; unit: Unit }
  | { kind: 'split'; on: 400 | 413; units: Unit[] }
  | { kind: 'drop'; on: 400 | 413 }
  | { kind: 'stop'; status: number }
  | { kind: 'give-up'; why: string };

export interface Backoff {
  readonly initialMs: number;
  readonly maxMs: number;
}

/** The statuses after which Braze sends nothing more until a person re-enables the Current. */
export const STOP_STATUSES: readonly number[] = [401, 403, 404];

/** The id an event is reported by: its `id` field (text or number), else `#N`, its 1-based position in the input. */
export function eventLabel(e: Numbered): string {
  const id = typeof e.event === 'object' && e.event !== null ? (e.event as { id?: unknown }).id : undefined;
  if (typeof id === 'string' && id !== '') return id;
  if (typeof id === 'number' && Number.isFinite(id)) return String(id);
  return `#${e.n}`;
}

/** The input cut into first-send units of at most `batchSize` events, in order. */
export function firstBatches(events: readonly unknown[], batchSize: number): Unit[] {
  const units: Unit[] = [];
  for (let i = 0; i < events.length; i += batchSize) {
    const slice = events.slice(i, i + batchSize).map((event, k) => ({ event, n: i + k + 1 }));
    units.push({ events: slice, sent: 0, failures: 0, from400: false });
  }
  return units;
}

/** Full jitter: a uniform wait in [0, min(maxMs, initialMs·2^failures)), at least 1 ms so a re-send never spins. */
export function backoffDelayMs(failures: number, backoff: Backoff, random: () => number): number {
  const ceiling = Math.min(backoff.maxMs, backoff.initialMs * 2 ** failures);
  return Math.max(1, Math.floor(random() * ceiling));
}

const describe = (a: Answer) => (a.status === 'network_error' ? `network error (${a.detail})` : `${a.status}`);

/**
 * What to do with `unit` after `answer`, at time `now`. A re-send whose wait would end past `deadline` is given up at
 * once rather than waited for.
 */
export function react(
  unit: Unit,
  answer: Answer,
  ctx: { now: number; deadline: number; backoff: Backoff; random: () => number },
): Reaction {
  const { status } = answer;
  const sent = unit.sent + 1;
  if (typeof status === 'number' && status >= 200 && status < 300) return { kind: 'accepted' };
  if (status === 400) {
    if (unit.from400) return { kind: 'drop', on: 400 };
    return {
      kind: 'split',
      on: 400,
      units: unit.events.map((e) => ({ events: [e], sent, failures: 0, from400: true })),
    };
  }
  if (status === 413) {
    if (unit.events.length === 1) return { kind: 'drop', on: 413 };
    const half = Math.ceil(unit.events.length / 2);
    const part = (events: readonly Numbered[]): Unit => ({ events, sent, failures: 0, from400: unit.from400 });
    return { kind: 'split', on: 413, units: [part(unit.events.slice(0, half)), part(unit.events.slice(half))] };
  }
  if (typeof status === 'number' && STOP_STATUSES.includes(status)) return { kind: 'stop', status };
  const jittered = backoffDelayMs(unit.failures, ctx.backoff, ctx.random);
  const retryAfterMs = answer.status !== 'network_error' ? (answer.retryAfterMs ?? 0) : 0;
  const delayMs = Math.max(jittered, retryAfterMs);
  const next: Unit = { ...unit, sent, failures: unit.failures + 1, lastAnswer: describe(answer) };
  if (ctx.now + delayMs > ctx.deadline) return { kind: 'give-up', why: gaveUpWhy(next) };
  return { kind: 'retry', delayMs, unit: next };
}

/** Why a unit is given up at the re-send deadline: its last answer. */
export function gaveUpWhy(unit: Unit): string {
  const last = unit.lastAnswer ? `last answer ${unit.lastAnswer}, ` : '';
  return `gave up at the re-send deadline (${last}${unit.sent} post${unit.sent > 1 ? 's' : ''})`;
}

/**
 * Pacing at `rate` events per second: a request of n events holds the line for n/rate seconds, so the next request
 * starts no sooner than that after it. Rate 0 (or less) never holds anyone back.
 */
export interface Pacer {
  /** When a request may start, asked at `now`. */
  earliest(now: number): number;
  /** Records a request of `events` events starting at `startAt`. */
  take(startAt: number, events: number): void;
}

export function createPacer(rate: number, startAt = 0): Pacer {
  let nextFree = startAt;
  return {
    earliest: (now) => (rate > 0 ? Math.max(now, nextFree) : now),
    take(at, events) {
      if (rate > 0) nextFree = Math.max(at, nextFree) + (events * 1000) / rate;
    },
  };
}

/** The start times of requests of `sizes` events sent back to back at `rate` (each as soon as pacing allows). */
export function pacedSchedule(sizes: readonly number[], rate: number, startAt = 0): number[] {
  const pacer = createPacer(rate, startAt);
  return sizes.map((n) => {
    const at = pacer.earliest(startAt);
    pacer.take(at, n);
    return at;
  });
}

/** Why undelivered events are reported, per cause. */
export type Loss = 'dropped400' | 'dropped413' | 'stopped' | 'gaveUp' | 'aborted';

/** Counts answers and outcomes as they happen; `report` makes the final report. */
export class Tally {
  private requests = 0;
  private resent = 0;
  private readonly byStatus: Record<string, number> = {};
  private readonly acceptedIds: string[] = [];
  private readonly notDelivered: { id: string; why: string }[] = [];
  private readonly losses: Record<Loss, number> = { dropped400: 0, dropped413: 0, stopped: 0, gaveUp: 0, aborted: 0 };
  private splits400 = 0;
  private splits413 = 0;
  private stopStatus: number | undefined;

  constructor(private readonly total: number) {}

  request(unit: Unit, answer: Answer): void {
    this.requests++;
    if (unit.sent > 0) this.resent++;
    const key = String(answer.status);
    this.byStatus[key] = (this.byStatus[key] ?? 0) + 1;
  }

  accepted(unit: Unit): void {
    for (const e of unit.events) this.acceptedIds.push(eventLabel(e));
  }

  split(on: 400 | 413): void {
    if (on === 400) this.splits400++;
    else this.splits413++;
  }

  /** The first stop status is the one reported. */
  stop(status: number): void {
    this.stopStatus ??= status;
  }

  get stoppedBy(): number | undefined {
    return this.stopStatus;
  }

  lost(unit: Unit, loss: Loss, why: string): void {
    this.losses[loss] += unit.events.length;
    for (const e of unit.events) this.notDelivered.push({ id: eventLabel(e), why });
  }

  report(durationMs: number): BrazeSendReport {
    return {
      events: this.total,
      requests: this.requests,
      byStatus: { ...this.byStatus },
      accepted: this.acceptedIds.length,
      resentRequests: this.resent,
      splitsOn400: this.splits400,
      splitsOn413: this.splits413,
      droppedOn400: this.losses.dropped400,
      droppedOn413: this.losses.dropped413,
      ...(this.stopStatus !== undefined ? { stoppedBy: { status: this.stopStatus, events: this.losses.stopped } } : {}),
      gaveUp: this.losses.gaveUp,
      aborted: this.losses.aborted,
      acceptedIds: [...this.acceptedIds],
      notDelivered: [...this.notDelivered],
      durationMs,
    };
  }
}
