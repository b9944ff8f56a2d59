/**
 * `sendLikeBraze`: posts events to a receiver the way Braze's Custom Currents Export does and reacts to every answer as
 * Braze does (the rules are in core.ts). Up to `concurrency` requests are in flight; a re-send waits for its backoff,
 * the parts of a split batch go at once; every request, re-sends included, goes through the pacing at `rate`.
 */
import { createPacer, firstBatches, gaveUpWhy, react, Tally, type Answer, type Unit } from './core';
import { createPoster } from './http';
import type { BrazeSenderOptions, BrazeSendReport } from './types';

export const DEFAULTS = {
  batchSize: 100,
  concurrency: 4,
  rate: 0,
  backoff: { initialMs: 1_000, maxMs: 60_000 },
  giveUpAfterMs: 300_000,
  requestTimeoutMs: 30_000,
} as const;

function check(ok: boolean, message: string): void {
  if (!ok) throw new RangeError(`sendLikeBraze: ${message}`);
}

function resolveOptions(o: BrazeSenderOptions) {
  const r = {
    batchSize: o.batchSize ?? DEFAULTS.batchSize,
    concurrency: o.concurrency ?? DEFAULTS.concurrency,
    rate: o.rate ?? DEFAULTS.rate,
    backoff: o.backoff ?? DEFAULTS.backoff,
    giveUpAfterMs: o.giveUpAfterMs ?? DEFAULTS.giveUpAfterMs,
    requestTimeoutMs: o.requestTimeoutMs ?? DEFAULTS.requestTimeoutMs,
  };
  let protocol = '';
  try {
    protocol = new URL(o.url).protocol;
  } catch {
    // reported below
  }
  check(protocol === 'http:' || protocol === 'https:', `url must be an http(s) URL (got '${o.url}')`);
  check(Number.isInteger(r.batchSize) && r.batchSize >= 1, `batchSize must be a whole number ≥ 1 (got ${r.batchSize})`);
  check(
    Number.isInteger(r.concurrency) && r.concurrency >= 1,
    `concurrency must be a whole number ≥ 1 (got ${r.concurrency})`,
  );
  check(Number.isFinite(r.rate) && r.rate >= 0, `rate must be a number of events per second ≥ 0 (got ${r.rate})`);
  check(
    r.backoff.initialMs >= 1 && r.backoff.maxMs >= r.backoff.initialMs,
    `backoff needs 1 ≤ initialMs ≤ maxMs (got ${r.backoff.initialMs}, ${r.backoff.maxMs})`,
  );
  check(r.giveUpAfterMs >= 0, `giveUpAfterMs must be ≥ 0 (got ${r.giveUpAfterMs})`);
  check(r.requestTimeoutMs > 0, `requestTimeoutMs must be > 0 (got ${r.requestTimeoutMs})`);
  return r;
}

const ABORTED = 'not sent: the run was aborted';
const stoppedWhy = (status: number) => `not sent: the receiver answered ${status}, so sending stopped`;

/** The units to send: first sends in input order, then re-sends and split parts, each ready at its time. */
class SendQueue {
  private freshNext = 0;
  private waiting: { unit: Unit; readyAt: number }[] = [];

  constructor(private readonly fresh: readonly Unit[]) {}

  get pending(): number {
    return this.fresh.length - this.freshNext + this.waiting.length;
  }

  get hasWaiting(): boolean {
    return this.waiting.length > 0;
  }

  later(unit: Unit, readyAt: number): void {
    this.waiting.push({ unit, readyAt });
  }

  /** Everything not yet sent, taken out of the queues (when sending stops). */
  takeAll(): Unit[] {
    const rest = [...this.fresh.slice(this.freshNext), ...this.waiting.map((w) => w.unit)];
    this.freshNext = this.fresh.length;
    this.waiting = [];
    return rest;
  }

  /** The re-sends waiting, taken out (past the deadline, they are given up). */
  takeWaiting(): Unit[] {
    return this.waiting.splice(0).map((w) => w.unit);
  }

  /**
   * What goes next at `now`: the earliest ready re-send, else the next first send (`unit`, still queued: `take` takes
   * it); else nothing, and `nextReady` says when the next re-send is ready.
   */
  peek(now: number): { take?: () => Unit; nextReady: number } {
    let pick = -1;
    let nextReady = Infinity;
    for (let i = 0; i < this.waiting.length; i++) {
      const at = this.waiting[i]!.readyAt;
      if (at <= now && (pick < 0 || at < this.waiting[pick]!.readyAt)) pick = i;
      nextReady = Math.min(nextReady, at);
    }
    if (pick >= 0) return { take: () => this.waiting.splice(pick, 1)[0]!.unit, nextReady };
    if (this.freshNext < this.fresh.length) return { take: () => this.fresh[this.freshNext++]!, nextReady };
    return { nextReady };
  }
}

/** A sleep that ends when its timer fires or `wake` is called, whichever is first. */
function createWaker(): { sleep: (ms?: number) => Promise<void>; wake: () => void } {
  let wake: () => void = () => {};
  const sleep = (ms?: number) =>
    new Promise<void>((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      wake = () => {
        clearTimeout(timer);
        wake = () => {};
        resolve();
      };
      if (ms !== undefined) timer = setTimeout(wake, Math.max(0, ms));
    });
  return { sleep, wake: () => wake() };
}

/** One run of sendLikeBraze: the queue, the requests in flight, and the report's accounting. */
class BrazeSend {
  private readonly started = Date.now();
  private readonly deadline: number;
  private readonly tally: Tally;
  private readonly pacer: ReturnType<typeof createPacer>;
  private readonly queue: SendQueue;
  private readonly waker = createWaker();
  private readonly random: () => number;
  private inFlight = 0;
  /** The first error thrown by `onRequest` or met making a request: thrown once everything has settled. */
  private callbackError: unknown;

  constructor(
    events: readonly unknown[],
    private readonly o: ReturnType<typeof resolveOptions>,
    private readonly options: BrazeSenderOptions,
    private readonly poster: ReturnType<typeof createPoster>,
  ) {
    this.deadline = this.started + o.giveUpAfterMs;
    this.random = options.random ?? Math.random;
    this.tally = new Tally(events.length);
    this.pacer = createPacer(o.rate, this.started);
    this.queue = new SendQueue(firstBatches(events, o.batchSize));
  }

  /** Sends everything (or until stopped or aborted); throws the first callback error once everything has settled. */
  async run(): Promise<BrazeSendReport> {
    const { signal } = this.options;
    const onAbort = () => this.waker.wake();
    signal?.addEventListener('abort', onAbort);
    try {
      await this.loop();
    } finally {
      signal?.removeEventListener('abort', onAbort);
      await this.poster.close();
    }
    if (this.callbackError !== undefined) throw this.callbackError;
    return this.tally.report(Date.now() - this.started);
  }

  /** Starts requests (up to `concurrency`, paced) until nothing is pending or in flight. */
  private async loop(): Promise<void> {
    const { queue, tally, deadline, waker } = this;
    for (;;) {
      const now = Date.now();
      if (this.options.signal?.aborted) for (const u of queue.takeAll()) tally.lost(u, 'aborted', ABORTED);
      // Past the deadline, re-sends are given up; first sends still go (it is a re-send deadline).
      if (now >= deadline && queue.hasWaiting) {
        for (const u of queue.takeWaiting()) tally.lost(u, 'gaveUp', gaveUpWhy(u));
      }
      const pending = queue.pending;
      if (pending === 0 && this.inFlight === 0) break;
      if (pending === 0 || this.inFlight >= this.o.concurrency) {
        await waker.sleep();
        continue;
      }
      // The earliest ready re-send first, else the next first send; else sleep until one is ready (or the deadline).
      const next = queue.peek(now);
      const wakeAt = (at: number) => Math.min(at, queue.hasWaiting ? deadline : Infinity);
      if (!next.take) {
        await waker.sleep(wakeAt(next.nextReady) - now);
        continue;
      }
      const startAt = this.pacer.earliest(now);
      if (startAt > now) {
        await waker.sleep(wakeAt(startAt) - now);
        continue;
      }
      const unit = next.take();
      this.pacer.take(now, unit.events.length);
      this.inFlight++;
      void this.send(unit).finally(() => {
        this.inFlight--;
        waker.wake();
      });
    }
  }

  /** One request: posts the unit's batch, reports it to `onRequest`, and reacts to the answer. */
  private async send(unit: Unit): Promise<void> {
    const startedAt = Date.now();
    const batch = unit.events.map((e) => e.event);
    let answer: Answer;
    try {
      answer = await this.poster.post(batch);
    } catch (err) {
      // Not an answer: the batch could not even be made (e.g. a value JSON cannot hold). Reported, then thrown.
      this.callbackError ??= err;
      this.tally.lost(unit, 'gaveUp', `could not be sent: ${(err as Error).message}`);
      return;
    }
    const endedAt = Date.now();
    this.tally.request(unit, answer);
    try {
      this.options.onRequest?.({
        events: batch,
        status: answer.status,
        attempt: unit.sent + 1,
        startedAt,
        endedAt,
        ...(answer.status === 'network_error' ? { detail: answer.detail } : {}),
      });
    } catch (err) {
      this.callbackError ??= err;
    }
    this.settle(unit, answer, endedAt);
  }

  /** Braze's reaction to one answer (core.ts, react), applied: accounted for, queued again, split, or stopping all. */
  private settle(unit: Unit, answer: Answer, endedAt: number): void {
    const { tally, queue } = this;
    const { deadline, random } = this;
    const reaction = react(unit, answer, { now: endedAt, deadline, backoff: this.o.backoff, random });
    const stopped = tally.stoppedBy;
    if (stopped !== undefined && reaction.kind !== 'accepted') {
      tally.lost(unit, 'stopped', stoppedWhy(stopped));
      return;
    }
    if (this.options.signal?.aborted && reaction.kind !== 'accepted') {
      tally.lost(unit, 'aborted', ABORTED);
      return;
    }
    switch (reaction.kind) {
      case 'accepted':
        tally.accepted(unit);
        return;
      case 'retry':
        queue.later(reaction.unit, endedAt + reaction.delayMs);
        return;
      case 'split':
        tally.split(reaction.on);
        for (const part of reaction.units) queue.later(part, endedAt);
        return;
      case 'drop':
        tally.lost(
          unit,
          reaction.on === 400 ? 'dropped400' : 'dropped413',
          `dropped: a single event answered ${reaction.on}${reaction.on === 400 ? ' again after the split' : ''}`,
        );
        return;
      case 'stop':
        tally.stop(reaction.status);
        tally.lost(unit, 'stopped', `answered ${reaction.status}: sending stopped`);
        for (const u of queue.takeAll()) tally.lost(u, 'stopped', stoppedWhy(reaction.status));
        return;
      case 'give-up':
        tally.lost(unit, 'gaveUp', reaction.why);
        return;
    }
  }
}

export async function sendLikeBraze(events: readonly unknown[], options: BrazeSenderOptions): Promise<BrazeSendReport> {
  const o = resolveOptions(options);
  const poster = createPoster({
    url: options.url,
    token: options.token,
    gzip: options.gzip ?? false,
    timeoutMs: o.requestTimeoutMs,
    headers: options.headers,
    connections: o.concurrency,
  });
  return new BrazeSend(events, o, options, poster).run();
}
