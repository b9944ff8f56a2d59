/**
 * `npm run bench -- delivery [--events N] [--concurrency C]`: the same translated events (default 100,000 track calls of
 * ~1 KB) sent to the local Segment server by this project's delivery client and by `@segment/analytics-node` (with its
 * defaults, then tuned with a large flushAt), in the same run. Prints events/s, HTTP requests per 10,000 events, and the
 * ideal request count (total bytes / Segment's 500 KiB batch limit).
 *
 * The server runs in a child process (`currents segment-server --ids-only`), so its JSON parsing and bookkeeping do not
 * share the event loop (or the core) with the client being measured; counts come from its `/__admin/stats`.
 */
import { parseArgs } from 'node:util';
import { Analytics } from '@segment/analytics-node';
import { createSegmentClient } from '../runtime/adapters/segment';
import { SEGMENT_LIMITS } from '../runtime/core/batch';
import type { CredentialSource, SegmentTrackCall, TranslatedEvent } from '../runtime/core/types';
import { admin, startServerProcess, type ServerStats as Stats } from './_segment-server';

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '100000' },
    concurrency: { type: 'string', default: '4' },
  },
});
const EVENTS = Number(values.events);
const CONCURRENCY = Number(values.concurrency);
const WRITE_KEY = 'bench-write-key';
/**
 * analytics-node's "tuned" flushAt: as large as keeps its batches under 500 KB for these ~1.1 KB events (as it sends
 * them). Larger does not work: analytics-node 3.1.0 estimates an event's size as
 * `encodeURI(JSON.stringify(event)).split(/%..|i/).length` (about the number of escapes and letter i's, not bytes), so
 * its 480 KB guard never trips and a flushAt of 1,000 sends ~1.1 MB batches that Segment (and the local server) answer
 * with 400.
 */
const TUNED_FLUSH_AT = 400;

/** Realistic Currents-derived track calls (~1 KB): the shape the translator produces, with varied content. */
function generate(count: number): TranslatedEvent[] {
  const types = ['Email Delivered', 'Email Opened', 'Email Clicked', 'Push Notification Sent', 'In-App Message Viewed'];
  const out: TranslatedEvent[] = [];
  for (let i = 0; i < count; i++) {
    const id = `bench-${i.toString(36)}-${(i * 2654435761).toString(16).slice(-8)}`;
    const call: SegmentTrackCall = {
      type: 'track',
      event: types[i % types.length]!,
      userId: `user-${(i * 7919) % 50_000}`,
      messageId: id,
      timestamp: new Date(1_717_000_000_000 + i * 37).toISOString(),
      context: {
        integration: { name: 'braze-currents', version: '1.0.0' },
        library: { name: 'currents-segment-connector', version: '0.1.0' },
        userAgent:
          'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148',
        ip: `10.${i % 250}.${(i >> 8) % 250}.${(i >> 16) % 250}`,
        timezone: 'Europe/Berlin',
      },
      properties: {
        braze_event_id: `${id}-evt`,
        app_id: '3f2b9c1e-8d4a-4b6f-9e21-7a5c0d9b1f34',
        campaign_id: `cmp-${i % 113}`,
        campaign_name: `Spring re-engagement wave ${i % 113} — discount reminder`,
        canvas_id: `cnv-${i % 41}`,
        canvas_name: `Onboarding journey ${i % 41}`,
        canvas_variation_name: i % 2 ? 'Variant A' : 'Control',
        canvas_step_name: `Step ${i % 7}: reminder email`,
        dispatch_id: `dsp-${(i * 31) % 100_000}`,
        send_id: `snd-${i}`,
        email_address_domain: ['example.com', 'example.org', 'mail.example.net'][i % 3],
        url: i % 3 === 0 ? `https://shop.example.com/products/${i % 997}?utm_source=braze&utm_campaign=spring` : null,
        machine_open: i % 5 === 0 ? 'true' : null,
        is_amp: false,
        esp: 'SendGrid',
        ip_pool: 'marketing-pool-1',
        device_model: ['iPhone15,2', 'SM-S918B', 'Pixel 8'][i % 3],
        os_version: ['iOS 17.4', 'Android 14', 'Android 13'][i % 3],
      },
    };
    const json = JSON.stringify(call);
    out.push({ messageId: id, json, eventType: 'users.messages.email.Open', call, raw: null });
  }
  return out;
}

interface RunResult {
  seconds: number;
  eventsPerSec: number;
  stats: Stats;
}

async function measure(url: string, send: () => Promise<void>): Promise<RunResult> {
  await admin(url, 'reset', 'POST');
  const start = process.hrtime.bigint();
  await send();
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const stats = await admin(url, 'stats');
  return { seconds, eventsPerSec: EVENTS / seconds, stats };
}

const credentials: CredentialSource = {
  get: async () => ({ kind: 'writeKey', writeKey: WRITE_KEY }),
  invalidate() {},
};

/** Sends the items with this project's Segment client, in one `deliver` call; every one must be delivered. */
async function ours(url: string, items: TranslatedEvent[]): Promise<void> {
  const client = createSegmentClient({ region: 'us', credentials, baseUrl: url, concurrency: CONCURRENCY });
  try {
    const report = await client.deliver(items, { budgetMs: 600_000 });
    if (report.delivered.length !== items.length) {
      throw new Error(
        `delivered ${report.delivered.length} of ${items.length}: ${JSON.stringify({ ...report, delivered: [] })}`,
      );
    }
  } finally {
    await client.close();
  }
}

/** Sends the items with Segment's analytics-node, as a user of it would. */
async function analyticsNode(url: string, items: TranslatedEvent[], settings: { flushAt?: number }): Promise<void> {
  const analytics = new Analytics({ writeKey: WRITE_KEY, host: url, ...settings });
  let errors = 0;
  analytics.on('error', (e) => {
    if (!errors++) console.error('analytics-node error:', e);
  });
  for (const e of items) {
    const c = e.call;
    analytics.track({
      userId: c.userId!,
      event: c.event,
      properties: c.properties,
      context: c.context,
      timestamp: c.timestamp,
      messageId: c.messageId,
    });
  }
  await analytics.closeAndFlush({ timeout: 600_000 });
  if (errors) throw new Error(`analytics-node reported ${errors} error(s)`);
}

/** The comparison's notes, its verdict lines and its JSON line (the last line: an interface). */
function report(results: RunResult[], totalBytes: number, idealRequests: number): void {
  const [mine, anDefault, anTuned, mineChunked] = results as [RunResult, RunResult, RunResult, RunResult];
  for (const [name, r] of [
    ['defaults', anDefault],
    ['tuned', anTuned],
  ] as const) {
    if (r.stats.duplicates) {
      console.log(
        `note: analytics-node (${name}) re-sent ${r.stats.duplicates} events the server had already accepted: it puts ` +
          `every batch in flight at once, and requests queued past its 10 s httpRequestTimeout are retried.`,
      );
    }
  }
  const requestsPer10k = mine.stats.requests / (EVENTS / 10_000);
  const idealRequestsPer10k = idealRequests / (EVENTS / 10_000);
  const overIdeal = mine.stats.requests / Math.ceil(idealRequests) - 1;
  console.log(
    `\nrequests vs ideal: ${mine.stats.requests} vs ${idealRequests.toFixed(1)} ` +
      `(${(100 * (mine.stats.requests / idealRequests - 1)).toFixed(1)} % over the fractional ideal; target within 5 %)`,
  );
  console.log(
    `speed: ${(mine.eventsPerSec / anDefault.eventsPerSec).toFixed(2)}× analytics-node defaults (target ≥ 2×), ` +
      `${(mine.eventsPerSec / anTuned.eventsPerSec).toFixed(2)}× tuned (target ≥ 1×)`,
  );
  console.log(
    JSON.stringify({
      bench: 'delivery',
      events: EVENTS,
      concurrency: CONCURRENCY,
      totalBytes,
      eventsPerSec: Math.round(mine.eventsPerSec),
      requests: mine.stats.requests,
      requestsPer10k: Number(requestsPer10k.toFixed(2)),
      idealRequestsPer10k: Number(idealRequestsPer10k.toFixed(2)),
      requestsOverIdealPct: Number((100 * (mine.stats.requests / idealRequests - 1)).toFixed(2)),
      requestsOverCeilIdealPct: Number((100 * overIdeal).toFixed(2)),
      analyticsNodeDefaultEventsPerSec: Math.round(anDefault.eventsPerSec),
      analyticsNodeDefaultRequestsPer10k: Number((anDefault.stats.requests / (EVENTS / 10_000)).toFixed(2)),
      analyticsNodeTunedEventsPerSec: Math.round(anTuned.eventsPerSec),
      analyticsNodeTunedRequestsPer10k: Number((anTuned.stats.requests / (EVENTS / 10_000)).toFixed(2)),
      chunked1000EventsPerSec: Math.round(mineChunked.eventsPerSec),
      chunked1000RequestsPer10k: Number((mineChunked.stats.requests / (EVENTS / 10_000)).toFixed(2)),
      ratioVsAnalyticsNodeDefault: Number((mine.eventsPerSec / anDefault.eventsPerSec).toFixed(2)),
      ratioVsAnalyticsNodeTuned: Number((mine.eventsPerSec / anTuned.eventsPerSec).toFixed(2)),
      server: 'child process',
    }),
  );
}

async function main() {
  const { url, child } = await startServerProcess(WRITE_KEY);
  try {
    console.log(`generating ${EVENTS} track calls...`);
    const events = generate(EVENTS);
    const totalBytes = events.reduce((n, e) => n + Buffer.byteLength(e.json), 0);
    const idealRequests = totalBytes / SEGMENT_LIMITS.maxRequestBytes;
    console.log(
      `  ${(totalBytes / 1e6).toFixed(1)} MB, ${Math.round(totalBytes / EVENTS)} bytes/event average; ` +
        `ideal ${idealRequests.toFixed(1)} requests (total bytes / ${SEGMENT_LIMITS.maxRequestBytes})`,
    );
    console.log(`local Segment server in a child process at ${url}\n`);

    // Warm-up (JIT, connections), not measured.
    const warm = events.slice(0, 5_000);
    await measure(url, () => ours(url, warm));
    await measure(url, () => analyticsNode(url, warm, { flushAt: TUNED_FLUSH_AT }));

    const runs: [string, () => Promise<void>][] = [
      ['this client (one deliver call)', () => ours(url, events)],
      ['analytics-node, defaults', () => analyticsNode(url, events, {})],
      [
        `analytics-node, tuned (flushAt ${TUNED_FLUSH_AT})`,
        () => analyticsNode(url, events, { flushAt: TUNED_FLUSH_AT }),
      ],
      [
        'this client (deliver per 1,000 events)',
        async () => {
          for (let i = 0; i < events.length; i += 1_000) await ours(url, events.slice(i, i + 1_000));
        },
      ],
    ];
    const results: RunResult[] = [];
    for (const [name, run] of runs) {
      const r = await measure(url, run);
      results.push(r);
      const lost = EVENTS - r.stats.acceptedUnique;
      console.log(
        `${name.padEnd(42)} ${Math.round(r.eventsPerSec).toString().padStart(8)} events/s  ` +
          `${(r.stats.requests / (EVENTS / 10_000)).toFixed(1).padStart(7)} requests/10k  ` +
          `${r.seconds.toFixed(2)} s  accepted ${r.stats.acceptedUnique}${lost ? ` (MISSING ${lost})` : ''}` +
          `${r.stats.duplicates ? ` duplicates ${r.stats.duplicates}` : ''}  by status ${JSON.stringify(r.stats.requestsByStatus)}`,
      );
    }
    report(results, totalBytes, idealRequests);
  } finally {
    child.kill('SIGTERM');
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
