/**
 * `npm run bench -- e2e [--events N] [--concurrency C] [--rate R] [--paced-events N]`
 *
 * End to end on this machine, through the door: the local Braze POSTs envelopes of 100 events to the connector's
 * receiver (functions-framework, its own process), which publishes to the ingest topic on the Pub/Sub emulator; the
 * emulator pushes to the function (functions-framework, its own process), which delivers to the local Segment server.
 * Reports events/s (first send to last acceptance) and the p50/p99 latency per event from Braze's first send of it to
 * Segment's acceptance. Then the same at half that peak rate (paced; `--rate` sets the rate of the first run instead).
 * Last line: {"bench":"e2e","eventsPerSec":…,"p50Ms":…,"p99Ms":…,"paced":{"rate":…,"p50Ms":…,"p99Ms":…}}.
 */
import { parseArgs } from 'node:util';
import { sendLikeBraze } from '../local/braze';
import { startLocalStack, type LocalStack } from '../local/stack';
import { sampleFeed } from '../common/samples';
import { benchEnvironment } from './_environment';
import { setTimeout as sleep } from 'node:timers/promises';

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '100000' },
    concurrency: { type: 'string', default: '16' },
    rate: { type: 'string', default: '0' },
    'paced-events': { type: 'string', default: '30000' },
  },
});
const EVENTS = Number(values.events);
const CONCURRENCY = Number(values.concurrency);
const RATE = Number(values.rate);
const PACED_EVENTS = Number(values['paced-events']);

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;

interface Run {
  events: number;
  accepted: number;
  eventsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  sendSeconds: number;
  totalSeconds: number;
  receiverRequests: number;
  resentRequests: number;
}

/** Sends `events` through the receiver like Braze and waits until Segment accepted them all (or went quiet). */
async function run(stack: LocalStack, events: readonly { id: string }[], rate: number): Promise<Run> {
  const local = stack.connectors[0]!;
  const server = stack.servers.us;
  const before = server.accepted().length;
  const sentAt = new Map<string, number>();
  const start = Date.now();
  const report = await sendLikeBraze(events, {
    url: local.receiver!.url,
    token: local.receiver!.token,
    concurrency: CONCURRENCY,
    rate,
    backoff: { initialMs: 100, maxMs: 2000 },
    onRequest: (r) => {
      for (const e of r.events) {
        const id = (e as { id: string }).id;
        if (!sentAt.has(id)) sentAt.set(id, r.startedAt);
      }
    },
  });
  const sendSeconds = (Date.now() - start) / 1000;
  const deadline = Date.now() + 300_000;
  let last = -1;
  let lastChange = Date.now();
  const ids = new Set(events.map((e) => e.id));
  let seen = before;
  let n = 0;
  for (;;) {
    // Count only this run's events: a late acceptance from the previous run must not end the wait early.
    const all = server.accepted();
    for (let i = seen; i < all.length; i++) if (ids.has(all[i]!.messageId)) n++;
    seen = all.length;
    if (n >= events.length || Date.now() > deadline) break;
    if (n !== last) {
      last = n;
      lastChange = Date.now();
      if (process.stdout.isTTY) process.stdout.write(`\raccepted ${n}/${events.length}   `);
    } else if (Date.now() - lastChange > 60_000) break;
    await sleep(100);
  }
  if (process.stdout.isTTY) process.stdout.write('\n');
  const latencies: number[] = [];
  let lastAccept = start;
  for (const e of server.accepted().slice(before)) {
    const at = sentAt.get(e.messageId);
    if (at === undefined) continue;
    latencies.push(e.receivedAt - at);
    lastAccept = Math.max(lastAccept, e.receivedAt);
  }
  latencies.sort((a, b) => a - b);
  const totalSeconds = (lastAccept - start) / 1000;
  return {
    events: events.length,
    accepted: latencies.length,
    eventsPerSec: Math.round(latencies.length / totalSeconds),
    p50Ms: percentile(latencies, 0.5),
    p99Ms: percentile(latencies, 0.99),
    maxMs: latencies[latencies.length - 1]!,
    sendSeconds: Math.round(sendSeconds * 100) / 100,
    totalSeconds: Math.round(totalSeconds * 100) / 100,
    receiverRequests: report.requests,
    resentRequests: report.resentRequests,
  };
}

function describe(label: string, r: Run): string {
  return (
    `${label}: ${r.accepted} of ${r.events} events accepted in ${r.totalSeconds} s (Braze sent for ${r.sendSeconds} s, ` +
    `${r.receiverRequests} requests, ${r.resentRequests} re-sent): ${r.eventsPerSec} events/s; latency Braze send → ` +
    `Segment accept p50 ${r.p50Ms} ms, p99 ${r.p99Ms} ms, max ${r.maxMs} ms`
  );
}

async function main() {
  const environment = benchEnvironment('e2e');
  const stack = await startLocalStack({ environment, recordCalls: false, receivers: true });
  try {
    const feed = sampleFeed({ count: EVENTS + PACED_EVENTS + 1000, seed: 3 }) as unknown as { id: string }[];
    // Warm-up: the receiver's and the function's first requests load their clients; not measured.
    await run(stack, feed.slice(EVENTS + PACED_EVENTS), 0);
    const peak = await run(stack, feed.slice(0, EVENTS), RATE);
    console.log(describe(RATE ? `at ${RATE} events/s` : 'as fast as Braze can send', peak));
    const pacedRate = Math.max(100, Math.round(peak.eventsPerSec / 2));
    const paced = await run(stack, feed.slice(EVENTS, EVENTS + PACED_EVENTS), pacedRate);
    console.log(describe(`paced at ${pacedRate} events/s (half the peak)`, paced));
    console.log(
      JSON.stringify({
        bench: 'e2e',
        eventsPerSec: peak.eventsPerSec,
        p50Ms: peak.p50Ms,
        p99Ms: peak.p99Ms,
        maxMs: peak.maxMs,
        events: EVENTS,
        accepted: peak.accepted,
        missing: EVENTS - peak.accepted,
        eventsPerRequest: 100,
        concurrency: CONCURRENCY,
        totalSeconds: peak.totalSeconds,
        paced: {
          rate: pacedRate,
          events: paced.events,
          missing: paced.events - paced.accepted,
          p50Ms: paced.p50Ms,
          p99Ms: paced.p99Ms,
        },
        path: 'local Braze → receiver → Pub/Sub emulator → push → function → local Segment server',
      }),
    );
  } finally {
    await stack.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
