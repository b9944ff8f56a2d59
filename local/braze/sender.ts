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

export async function sendLikeBraze(events: readonly unknown[], options: BrazeSenderOptions): Promise<BrazeSendReport> {
  const o = resolveOptions(options);
  const random = options.random ?? Math.random;
  const started = Date.now();
  const deadline = started + o.giveUpAfterMs;
  const tally = new Tally(events.length);
  const pacer = createPacer(o.rate, started);
  const poster = createPoster({
    url: options.url,
    token: options.token,
    gzip: options.gzip ?? false,
    timeoutMs: o.requestTimeoutMs,
    headers: options.headers,
    connections: o.concurrency,
  });

  /** First sends, in input order. */
  const fresh: Unit[] = firstBatches(events, o.batchSize);
  let freshNext = 0;
  /** Re-sends and split parts, each ready at its time. */
  let waiting: { unit: Unit; readyAt: number }[] = [];
  let inFlight = 0;
  /** The first error thrown by `onRequest` or met making a request: thrown once everything has settled. */
  let callbackError: unknown;

  // The loop sleeps until a request ends or a timer fires, whichever is first.
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

  /** Everything not yet sent, taken out of the queues (when sending stops). */
  const takeAllPending = (): Unit[] => {
    const rest = [...fresh.slice(freshNext), ...waiting.map((w) => w.unit)];
    freshNext = fresh.length;
    waiting = [];
    return rest;
  };

  const ABORTED = 'not sent: the run was aborted';
  const onAbort = () => wake();
  options.signal?.addEventListener('abort', onAbort);
  const stoppedWhy = (status: number) => `not sent: the receiver answered ${status}, so sending stopped`;

  function settle(unit: Unit, answer: Answer, endedAt: number): void {
    const reaction = react(unit, answer, { now: endedAt, deadline, backoff: o.backoff, random });
    const stopped = tally.stoppedBy;
    if (stopped !== undefined && reaction.kind !== 'accepted') {
      tally.lost(unit, 'stopped', stoppedWhy(stopped));
      return;
    }
    if (options.signal?.aborted && reaction.kind !== 'accepted') {
      tally.lost(unit, 'aborted', ABORTED);
      return;
    }
    switch (reaction.kind) {
      case 'accepted':
        tally.accepted(unit);
        return;
      case 'retry':
        waiting.push({ unit: reaction.unit, readyAt: endedAt + reaction.delayMs });
        return;
      case 'split':
        tally.split(reaction.on);
        for (const part of reaction.units) waiting.push({ unit: part, readyAt: endedAt });
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
        for (const u of takeAllPending()) tally.lost(u, 'stopped', stoppedWhy(reaction.status));
        return;
      case 'give-up':
        tally.lost(unit, 'gaveUp', reaction.why);
        return;
    }
  }

  async function send(unit: Unit): Promise<void> {
    const startedAt = Date.now();
    const batch = unit.events.map((e) => e.event);
    let answer: Answer;
    try {
      answer = await poster.post(batch);
    } catch (err) {
      // Not an answer: the batch could not even be made (e.g. a value JSON cannot hold). Reported, then thrown.
      callbackError ??= err;
      tally.lost(unit, 'gaveUp', `could not be sent: ${(err as Error).message}`);
      return;
    }
    const endedAt = Date.now();
    tally.request(unit, answer);
    try {
      options.onRequest?.({
        events: batch,
        status: answer.status,
        attempt: unit.sent + 1,
        startedAt,
        endedAt,
        ...(answer.status === 'network_error' ? { detail: answer.detail } : {}),
      });
    } catch (err) {
      callbackError ??= err;
    }
    settle(unit, answer, endedAt);
  }

  try {
    for (;;) {
      const now = Date.now();
      if (options.signal?.aborted) for (const u of takeAllPending()) tally.lost(u, 'aborted', ABORTED);
      // Past the deadline, re-sends are given up; first sends still go (it is a re-send deadline).
      if (now >= deadline && waiting.length) {
        for (const w of waiting.splice(0)) tally.lost(w.unit, 'gaveUp', gaveUpWhy(w.unit));
      }
      const pending = fresh.length - freshNext + waiting.length;
      if (pending === 0 && inFlight === 0) break;
      if (pending === 0 || inFlight >= o.concurrency) {
        await sleep();
        continue;
      }
      // The earliest ready re-send first, else the next first send; else sleep until one is ready (or the deadline).
      let pick = -1;
      let nextReady = Infinity;
      for (let i = 0; i < waiting.length; i++) {
        const at = waiting[i]!.readyAt;
        if (at <= now && (pick < 0 || at < waiting[pick]!.readyAt)) pick = i;
        nextReady = Math.min(nextReady, at);
      }
      const wakeAt = (at: number) => Math.min(at, waiting.length ? deadline : Infinity);
      if (pick < 0 && freshNext >= fresh.length) {
        await sleep(wakeAt(nextReady) - now);
        continue;
      }
      const startAt = pacer.earliest(now);
      if (startAt > now) {
        await sleep(wakeAt(startAt) - now);
        continue;
      }
      const unit = pick >= 0 ? waiting.splice(pick, 1)[0]!.unit : fresh[freshNext++]!;
      pacer.take(now, unit.events.length);
      inFlight++;
      void send(unit).finally(() => {
        inFlight--;
        wake();
      });
    }
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
    await poster.close();
  }
  if (callbackError !== undefined) throw callbackError;
  return tally.report(Date.now() - started);
}
