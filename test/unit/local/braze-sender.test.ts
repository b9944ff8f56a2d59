/**
 * The local Braze against a scripted receiver over real HTTP: the requests it makes, and its reaction to each answer
 * (Braze's table: split on 400 and 413, back off on 5xx, 429 and network errors, stop on 401/403/404, give up at the
 * deadline). The pure rules (backoff, pacing, reactions) are tested on their own as well.
 */
import { gunzipSync } from 'node:zlib';
import { backoffDelayMs, createPacer, firstBatches, react, type Unit } from '../../../local/braze/core';
import { sendLikeBraze, pacedSchedule, type BrazeRequestRecord, type BrazeSenderOptions } from '../../../local/braze';
import {
  events,
  ok,
  startScriptedReceiver,
  type Rule,
  type ScriptedReceiver,
} from '../../support/local/braze-receiver-script';

const FAST = { backoff: { initialMs: 5, maxMs: 20 }, giveUpAfterMs: 20_000, requestTimeoutMs: 5_000 };

let receiver: ScriptedReceiver | undefined;
afterEach(async () => {
  await receiver?.close();
  receiver = undefined;
});

async function run(rule: Rule, input: readonly unknown[], options: Partial<BrazeSenderOptions> = {}) {
  receiver = await startScriptedReceiver(rule);
  const records: BrazeRequestRecord[] = [];
  const report = await sendLikeBraze(input, {
    url: receiver.url,
    ...FAST,
    ...options,
    onRequest: (r) => records.push(r),
  });
  return { report, records, requests: receiver.requests, server: receiver };
}

const sorted = (ids: string[]) => [...ids].sort();
const idsOf = (list: Array<{ id: string }>) => list.map((e) => e.id);

describe('requests like Braze makes them', () => {
  it('posts the envelope in batches of at most 100 with the version header, JSON content type and bearer token', async () => {
    const input = events(250);
    const { report, requests, server } = await run(ok, input, { token: 'tok-abc.-_~' });
    expect(requests.map((r) => r.body.events.length).sort()).toEqual([100, 100, 50]);
    for (const r of requests) {
      expect(r.method).toBe('POST');
      expect(r.path).toBe('/currents?connector=test');
      expect(r.headers['braze-currents-version']).toBe('1');
      expect(r.headers['content-type']).toBe('application/json');
      expect(r.headers.authorization).toBe('Bearer tok-abc.-_~');
      expect(r.headers['content-encoding']).toBeUndefined();
      expect(Object.keys(r.body)).toEqual(['events']);
    }
    // Every event, in full and once.
    expect(requests.flatMap((r) => r.body.events).sort((a, b) => a.id!.localeCompare(b.id!))).toEqual(
      [...input].sort((a, b) => a.id.localeCompare(b.id)),
    );
    expect(sorted(server.acceptedIds())).toEqual(sorted(idsOf(input)));
    expect(report).toMatchObject({
      events: 250,
      requests: 3,
      byStatus: { '200': 3 },
      accepted: 250,
      resentRequests: 0,
      gaveUp: 0,
      aborted: 0,
      notDelivered: [],
    });
    expect(report.stoppedBy).toBeUndefined();
    expect(sorted(report.acceptedIds)).toEqual(sorted(idsOf(input)));
  });

  it('sends no Authorization without a token, adds extra headers, honours a smaller batch size, reports events without ids by position', async () => {
    const input = [...events(20), { event_type: 'x' }, 'not an object'];
    const { report, requests } = await run(ok, input, {
      batchSize: 7,
      headers: { 'Braze-Currents-Version': '2', 'X-Extra': 'yes' },
    });
    expect(requests.map((r) => r.body.events.length)).toEqual(expect.arrayContaining([7, 7, 7, 1]));
    expect(requests).toHaveLength(4);
    for (const r of requests) {
      expect(r.headers.authorization).toBeUndefined();
      // Extra headers are added, and override the sender's own.
      expect(r.headers['braze-currents-version']).toBe('2');
      expect(r.headers['x-extra']).toBe('yes');
    }
    expect(report.accepted).toBe(22);
    expect(report.acceptedIds).toEqual(expect.arrayContaining(['e-0', 'e-19', '#21', '#22']));
  });

  it('gzips the body when asked: it decodes to the same envelope', async () => {
    const input = events(120);
    const { report, requests } = await run(ok, input, { gzip: true, token: 't' });
    expect(requests).toHaveLength(2);
    for (const r of requests) {
      expect(r.headers['content-encoding']).toBe('gzip');
      expect(JSON.parse(gunzipSync(r.raw).toString())).toEqual(r.body);
    }
    expect(requests.flatMap((r) => r.body.events)).toEqual(expect.arrayContaining(input));
    expect(report.accepted).toBe(120);
  });

  it('keeps at most `concurrency` requests in flight', async () => {
    let inFlight = 0;
    let most = 0;
    const waiting: Array<() => void> = [];
    // Each answer is held until 3 requests are in flight (or a moment has passed, for the last ones).
    const rule: Rule = async () => {
      inFlight++;
      most = Math.max(most, inFlight);
      if (inFlight >= 3) for (const release of waiting.splice(0)) release();
      else await new Promise<void>((r) => waiting.push(r) && setTimeout(r, 300));
      inFlight--;
      return { status: 200 };
    };
    const { report } = await run(rule, events(120), { batchSize: 10, concurrency: 3 });
    expect(most).toBe(3);
    expect(report.accepted).toBe(120);
  });
});

describe('reactions to answers', () => {
  it('400: splits the batch into single events, drops the poison event that gets 400 again, delivers the rest', async () => {
    const input = events(30);
    const poison = 'e-14';
    const rule: Rule = (r) => ({ status: r.ids.includes(poison) ? 400 : 200 });
    const { report, requests, server } = await run(rule, input, { batchSize: 10 });
    // 3 batches; the second split into 10 singles.
    expect(requests).toHaveLength(13);
    expect(requests.filter((r) => r.ids.length === 1)).toHaveLength(10);
    expect(sorted(server.acceptedIds())).toEqual(sorted(idsOf(input).filter((id) => id !== poison)));
    expect(report).toMatchObject({
      accepted: 29,
      splitsOn400: 1,
      droppedOn400: 1,
      resentRequests: 10,
      byStatus: { '200': 11, '400': 2 },
    });
    expect(report.notDelivered).toEqual([{ id: poison, why: expect.stringMatching(/400/) }]);
  });

  it('413: halves the batch until it fits', async () => {
    const input = events(100);
    const { report, requests, server } = await run((r) => ({ status: r.ids.length > 13 ? 413 : 200 }), input);
    // 100 → 50+50 → 4×25 → 8×(13|12): 7 splits, 15 requests, every accepted one ≤ 13 events.
    expect(report).toMatchObject({ accepted: 100, splitsOn413: 7, droppedOn413: 0, requests: 15, resentRequests: 14 });
    expect(requests.filter((r) => r.answer === 200).every((r) => r.ids.length <= 13)).toBe(true);
    expect(sorted(server.acceptedIds())).toEqual(sorted(idsOf(input)));
  });

  it('413 on a single event: dropped for good, the others delivered', async () => {
    const input = events(8);
    const rule: Rule = (r) => ({ status: r.ids.includes('e-5') ? 413 : 200 });
    const { report, server } = await run(rule, input);
    // 8 → 4+4 → the half with e-5 → 2+2 → 1+1: e-5 alone is dropped.
    expect(report).toMatchObject({ accepted: 7, splitsOn413: 3, droppedOn413: 1 });
    expect(report.notDelivered).toEqual([{ id: 'e-5', why: expect.stringMatching(/413/) }]);
    expect(sorted(server.acceptedIds())).toEqual(sorted(idsOf(input).filter((id) => id !== 'e-5')));
  });

  it('503 then 200: the same batch is re-sent after a backoff', async () => {
    const input = events(10);
    const { report, records, requests } = await run((_r, i) => ({ status: i === 0 ? 503 : 200 }), input, {
      backoff: { initialMs: 80, maxMs: 80 },
      random: () => 0.5,
    });
    expect(requests.map((r) => r.answer)).toEqual([503, 200]);
    expect(requests[1]!.ids).toEqual(requests[0]!.ids);
    expect(records.map((r) => r.attempt)).toEqual([1, 2]);
    // The wait is the jittered backoff: half of 80 ms with this random source (a lower bound; timers never fire early
    // by more than a millisecond).
    expect(records[1]!.startedAt - records[0]!.endedAt).toBeGreaterThanOrEqual(39);
    expect(report).toMatchObject({ accepted: 10, resentRequests: 1, byStatus: { '503': 1, '200': 1 } });
  });

  it('429 with Retry-After: waits at least that long even when the backoff is shorter', async () => {
    const rule: Rule = (_r, i) => (i === 0 ? { status: 429, headers: { 'retry-after': '1' } } : { status: 200 });
    const { report, records } = await run(rule, events(5), { backoff: { initialMs: 1, maxMs: 2 } });
    expect(records.map((r) => r.status)).toEqual([429, 200]);
    expect(records[1]!.startedAt - records[0]!.endedAt).toBeGreaterThanOrEqual(999);
    expect(report.accepted).toBe(5);
  });

  it('a connection closed without an answer is a network error: the batch is re-sent', async () => {
    const input = events(10);
    const { report, records, server } = await run((_r, i) => (i === 0 ? 'close' : { status: 200 }), input);
    expect(records.map((r) => r.status)).toEqual(['network_error', 200]);
    expect(records[0]!.detail).toBeTruthy();
    expect(sorted(server.acceptedIds())).toEqual(sorted(idsOf(input)));
    expect(report).toMatchObject({ accepted: 10, resentRequests: 1, byStatus: { network_error: 1, '200': 1 } });
  });

  it('a request not answered within the timeout is a network error and is re-sent', async () => {
    const rule: Rule = async (_r, i) => {
      if (i === 0) await new Promise((r) => setTimeout(r, 500));
      return { status: 200 };
    };
    const { report, records } = await run(rule, events(3), { requestTimeoutMs: 100 });
    expect(records.map((r) => r.status)).toEqual(['network_error', 200]);
    expect(records[0]!.detail).toBe('timed out after 100 ms');
    expect(report.accepted).toBe(3);
  });

  it.each([401, 403, 404])('%i: stops sending altogether and reports every event not delivered', async (status) => {
    const input = events(500);
    const { report, requests } = await run((_r, i) => ({ status: i === 0 ? 200 : status }), input, {
      concurrency: 1,
    });
    expect(requests.map((r) => r.answer)).toEqual([200, status]);
    expect(report.stoppedBy).toEqual({ status, events: 400 });
    expect(report.accepted).toBe(100);
    expect(sorted(report.acceptedIds)).toEqual(sorted(requests[0]!.ids));
    expect(report.notDelivered).toHaveLength(400);
    expect(sorted(idsOf(report.notDelivered))).toEqual(sorted(idsOf(input.slice(100))));
    for (const n of report.notDelivered) expect(n.why).toMatch(new RegExp(`answered ${status}.*stopped`));
  });

  it('gives up at the deadline what is still undelivered, without waiting for a backoff past it', async () => {
    const input = events(30);
    const { report, records } = await run(() => ({ status: 503 }), input, {
      batchSize: 10,
      giveUpAfterMs: 300,
      backoff: { initialMs: 20, maxMs: 40 },
    });
    expect(report.accepted).toBe(0);
    expect(report.gaveUp).toBe(30);
    expect(sorted(idsOf(report.notDelivered))).toEqual(sorted(idsOf(input)));
    for (const n of report.notDelivered) expect(n.why).toMatch(/gave up.*503/);
    expect(report.requests).toBeGreaterThan(3);
    expect(report.resentRequests).toBe(report.requests - 3);
    // No request started after the deadline.
    const start = Math.min(...records.map((r) => r.startedAt));
    for (const r of records) expect(r.startedAt - start).toBeLessThanOrEqual(300);
  });

  it('the deadline is for re-sends: first sends still go after it, each batch is then sent once', async () => {
    // Paced so that first sends run past the deadline: all delivered.
    const paced = await run(ok, events(50), { batchSize: 10, rate: 500, giveUpAfterMs: 30 });
    expect(paced.report).toMatchObject({ accepted: 50, requests: 5, gaveUp: 0 });
    await receiver!.close();
    // Deadline 0: every batch is sent once, none re-sent.
    const once = await run(() => ({ status: 503 }), events(30), { batchSize: 10, giveUpAfterMs: 0 });
    expect(once.report).toMatchObject({ accepted: 0, requests: 3, resentRequests: 0, gaveUp: 30 });
    expect(once.requests).toHaveLength(3);
  });

  it('an aborted run sends nothing more, lets requests in flight finish, and reports the rest as aborted', async () => {
    const abort = new AbortController();
    const rule: Rule = (_r, i) => {
      if (i === 1) abort.abort();
      return { status: 200 };
    };
    const { report, requests } = await run(rule, events(500), { concurrency: 1, signal: abort.signal });
    expect(requests).toHaveLength(2);
    expect(report).toMatchObject({ accepted: 200, aborted: 300, gaveUp: 0 });
    expect(report.notDelivered).toHaveLength(300);
    for (const n of report.notDelivered) expect(n.why).toMatch(/aborted/);
  });

  it('gives up on a receiver that refuses connections, reporting network errors', async () => {
    const closed = await startScriptedReceiver();
    const url = closed.url;
    await closed.close();
    const report = await sendLikeBraze(events(4), { url, ...FAST, giveUpAfterMs: 200 });
    expect(report.accepted).toBe(0);
    expect(report.gaveUp).toBe(4);
    expect(Object.keys(report.byStatus)).toEqual(['network_error']);
    for (const n of report.notDelivered) expect(n.why).toMatch(/gave up.*network error \(ECONNREFUSED\)/);
  });
});

describe('pacing', () => {
  it('spaces requests so that events leave at `rate` per second (pure schedule)', () => {
    expect(pacedSchedule([100, 100, 100, 50, 10], 1000, 0)).toEqual([0, 100, 200, 300, 350]);
    expect(pacedSchedule([100, 100, 100], 0, 5)).toEqual([5, 5, 5]);
    const pacer = createPacer(200, 1000);
    expect(pacer.earliest(1000)).toBe(1000);
    pacer.take(1000, 10); // holds the line for 50 ms
    expect(pacer.earliest(1010)).toBe(1050);
    expect(pacer.earliest(2000)).toBe(2000); // idle time is not saved up as a burst
    pacer.take(2000, 1);
    expect(pacer.earliest(2000)).toBe(2005);
  });

  it('paces real requests: no request starts before its paced time', async () => {
    const { report, records } = await run(ok, events(50), { batchSize: 10, rate: 500, concurrency: 4 });
    expect(report.accepted).toBe(50);
    const starts = records.map((r) => r.startedAt).sort((a, b) => a - b);
    // 10 events at 500/s hold the line for 20 ms each (lower bounds only, minus a millisecond of timer slack).
    for (let i = 1; i < starts.length; i++) expect(starts[i]! - starts[0]!).toBeGreaterThanOrEqual(i * 20 - 1);
  });
});

describe('the rules, pure', () => {
  const unit = (n: number, from400 = false): Unit => ({ ...firstBatches(events(n), n)[0]!, from400 });
  const ctx = { now: 0, deadline: 10_000, backoff: { initialMs: 100, maxMs: 1_000 }, random: () => 0.999 };

  it('backoff: full jitter under min(max, initial·2^failures), at least 1 ms', () => {
    expect(backoffDelayMs(0, ctx.backoff, () => 0.999)).toBe(99);
    expect(backoffDelayMs(3, ctx.backoff, () => 0.999)).toBe(799);
    expect(backoffDelayMs(10, ctx.backoff, () => 0.999)).toBe(999);
    expect(backoffDelayMs(10, ctx.backoff, () => 0)).toBe(1);
  });

  it('answers → reactions', () => {
    expect(react(unit(5), { status: 204 }, ctx)).toEqual({ kind: 'accepted' });
    const split = react(unit(3), { status: 400 }, ctx);
    expect(split).toMatchObject({ kind: 'split', on: 400 });
    expect(split.kind === 'split' && split.units.map((u) => [u.events.length, u.from400, u.sent])).toEqual([
      [1, true, 1],
      [1, true, 1],
      [1, true, 1],
    ]);
    // A lone event is re-sent once on 400, then dropped.
    expect(react(unit(1), { status: 400 }, ctx)).toMatchObject({ kind: 'split', on: 400 });
    expect(react(unit(1, true), { status: 400 }, ctx)).toEqual({ kind: 'drop', on: 400 });
    const halves = react(unit(5), { status: 413 }, ctx);
    expect(halves.kind === 'split' && halves.units.map((u) => u.events.length)).toEqual([3, 2]);
    expect(react(unit(1), { status: 413 }, ctx)).toEqual({ kind: 'drop', on: 413 });
    for (const status of [401, 403, 404]) expect(react(unit(2), { status }, ctx)).toEqual({ kind: 'stop', status });
    for (const status of [500, 503, 429, 302, 409, 418]) {
      expect(react(unit(2), { status }, ctx)).toMatchObject({
        kind: 'retry',
        delayMs: 99,
        unit: { failures: 1, sent: 1 },
      });
    }
    expect(react(unit(2), { status: 'network_error', detail: 'ECONNRESET' }, ctx)).toMatchObject({ kind: 'retry' });
    // Retry-After is a lower bound on the wait.
    expect(react(unit(2), { status: 429, retryAfterMs: 5_000 }, ctx)).toMatchObject({ kind: 'retry', delayMs: 5_000 });
    expect(react(unit(2), { status: 503, retryAfterMs: 10 }, ctx)).toMatchObject({ kind: 'retry', delayMs: 99 });
    // A wait that would end past the deadline is a give-up now.
    expect(react(unit(2), { status: 503, retryAfterMs: 20_000 }, ctx)).toMatchObject({
      kind: 'give-up',
      why: expect.stringMatching(/503/),
    });
  });
});
