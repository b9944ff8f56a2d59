/**
 * `npm run bench -- e2e [--events N] [--batch B] [--rate R]`
 *
 * End to end on this machine: events published to the connector's ingest topic on the Pub/Sub emulator, pushed by the
 * emulator to the function (functions-framework, its own process), delivered to the local Segment server. Reports
 * events/s (first publish to last acceptance) and the p50/p99 latency from publish to acceptance, per event.
 * Last line: {"bench":"e2e","eventsPerSec":…,"p50Ms":…,"p99Ms":…}.
 */
import { parseArgs } from 'node:util';
import { startLocalStack } from '../local/stack';
import { envelope, sampleFeed } from '../runtime/core/samples';
import { benchEnvironment } from './_environment';

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '100000' },
    batch: { type: 'string', default: '100' },
    rate: { type: 'string', default: '0' },
  },
});
const EVENTS = Number(values.events);
const BATCH = Number(values.batch);
const RATE = Number(values.rate);

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function main() {
  const environment = benchEnvironment('e2e');
  const stack = await startLocalStack({ environment, recordCalls: false });
  try {
    const local = stack.connectors[0]!;
    const server = stack.servers.us;
    const feed = sampleFeed({ count: EVENTS + 1000, seed: 3 });
    // Warm-up: the function's first requests load its clients; not measured.
    for (let i = 0; i < 10; i++) await local.publish(envelope(feed.slice(EVENTS + i * 100, EVENTS + i * 100 + 100)));
    const warm = Date.now() + 30_000;
    while (server.stats().acceptedUnique < 900 && Date.now() < warm) await sleep(50);
    const warmAccepted = server.accepted().length;

    const messages = Math.ceil(EVENTS / BATCH);
    const publishedAt = new Map<string, number>();
    const start = Date.now();
    const pending: Promise<string>[] = [];
    for (let m = 0; m < messages; m++) {
      const part = feed.slice(m * BATCH, Math.min(EVENTS, (m + 1) * BATCH));
      const at = Date.now();
      for (const e of part) publishedAt.set((e as { id: string }).id, at);
      pending.push(local.publish(envelope(part)));
      if (RATE > 0) {
        const due = start + (((m + 1) * BATCH) / RATE) * 1000;
        if (due > Date.now()) await sleep(due - Date.now());
      } else if (pending.length >= 50) await Promise.all(pending.splice(0));
    }
    await Promise.all(pending);
    const publishSeconds = (Date.now() - start) / 1000;
    const deadline = Date.now() + 300_000;
    let last = -1;
    let lastChange = Date.now();
    for (;;) {
      const n = server.stats().acceptedUnique - warmAccepted;
      if (n >= EVENTS || Date.now() > deadline) break;
      if (n !== last) {
        last = n;
        lastChange = Date.now();
        if (process.stdout.isTTY) process.stdout.write(`\raccepted ${n}/${EVENTS}   `);
      } else if (Date.now() - lastChange > 60_000) break;
      await sleep(100);
    }
    if (process.stdout.isTTY) process.stdout.write('\n');
    const accepted = server.accepted().slice(warmAccepted);
    const latencies: number[] = [];
    let lastAccept = start;
    for (const e of accepted) {
      const at = publishedAt.get(e.messageId);
      if (at === undefined) continue;
      latencies.push(e.receivedAt - at);
      lastAccept = Math.max(lastAccept, e.receivedAt);
    }
    latencies.sort((a, b) => a - b);
    const seconds = (lastAccept - start) / 1000;
    const stats = server.stats();
    const result = {
      bench: 'e2e',
      eventsPerSec: Math.round(latencies.length / seconds),
      p50Ms: percentile(latencies, 0.5),
      p99Ms: percentile(latencies, 0.99),
      maxMs: latencies[latencies.length - 1],
      events: EVENTS,
      accepted: latencies.length,
      missing: EVENTS - latencies.length,
      duplicates: stats.duplicates,
      messages,
      eventsPerMessage: BATCH,
      publishSeconds: Math.round(publishSeconds * 100) / 100,
      totalSeconds: Math.round(seconds * 100) / 100,
      segmentRequests: stats.requests,
    };
    console.log(
      `${result.accepted} of ${EVENTS} events accepted in ${result.totalSeconds} s (publishing took ${result.publishSeconds} s): ` +
        `${result.eventsPerSec} events/s; latency publish → Segment p50 ${result.p50Ms} ms, p99 ${result.p99Ms} ms`,
    );
    console.log(JSON.stringify(result));
  } finally {
    await stack.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
