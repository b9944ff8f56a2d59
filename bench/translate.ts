/**
 * `npm run bench -- translate [--messages N] [--rounds N]`: translation throughput on one core.
 *
 * Input: a generated feed of realistic events across every type exported by default (about 1 KB each), 100 events per message, in the
 * HTTP-connector envelope. Measured: decode → filter → translate → serialize as a Segment batch body, against the floor
 * of a bare JSON.parse + JSON.stringify of the same message bodies, both in the same run (interleaved rounds, best of
 * each). Last line: {"bench":"translate","eventsPerSec":…,"floorRatio":…,…}.
 */
import { parseArgs } from 'node:util';
import { DEFAULT_CATALOG } from '../shared/catalog';
import { eventsEnvelope, sampleFeed } from '../common/samples';
import { batchBody } from '../runtime/core/batch';
import { createTranslator } from '../runtime/core/translate';

const { values } = parseArgs({
  options: {
    messages: { type: 'string', default: '200' },
    rounds: { type: 'string', default: '12' },
  },
});
const MESSAGES = Number(values.messages);
const ROUNDS = Number(values.rounds);
const PER_MESSAGE = 100;

// A connector that selects everything (so every event is translated, none filtered away).
const translator = createTranslator({
  events: DEFAULT_CATALOG.map((e) => e.type),
  eventNames: {},
  includeAnonymousUsers: false,
  fields: { redact: [], hash: [] },
});

const bodies: Buffer[] = [];
const feed = sampleFeed({ count: MESSAGES * PER_MESSAGE, seed: 42 });
for (let m = 0; m < MESSAGES; m++) {
  bodies.push(Buffer.from(eventsEnvelope(feed.slice(m * PER_MESSAGE, (m + 1) * PER_MESSAGE)), 'utf8'));
}
const totalEvents = MESSAGES * PER_MESSAGE;
const totalBytes = bodies.reduce((n, b) => n + b.length, 0);

let sink = 0;

/** Runs `work` and returns its CPU time and wall time in ns. CPU time (this process, all its threads, GC helpers
 * included) is what the figures use: on a shared machine it is not inflated by other processes' load. */
function measure(work: () => void): { cpu: number; wall: number } {
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  work();
  const wall = Number(process.hrtime.bigint() - t0);
  const c = process.cpuUsage(c0);
  return { cpu: (c.user + c.system) * 1000, wall };
}

function floorPass() {
  return measure(() => {
    for (const b of bodies) sink += JSON.stringify(JSON.parse(b.toString('utf8'))).length;
  });
}

function translatePass() {
  return measure(() => {
    for (const b of bodies) {
      const r = translator.translateMessage(b);
      if (r.send.length !== PER_MESSAGE) throw new Error(`expected ${PER_MESSAGE} calls, got ${r.send.length}`);
      // Flattening the batch body (as writing it to a socket would) is part of serialization.
      const body = batchBody(r.send, new Date().toISOString());
      sink += body.charCodeAt(body.length >> 1);
    }
  });
}

// Warm up both paths (JIT), then interleave rounds so that both see the same machine state.
for (let i = 0; i < 3; i++) {
  floorPass();
  translatePass();
}
let bestFloor = Infinity;
let bestTranslate = Infinity;
let bestFloorWall = Infinity;
let bestTranslateWall = Infinity;
for (let i = 0; i < ROUNDS; i++) {
  const f = floorPass();
  const t = translatePass();
  bestFloor = Math.min(bestFloor, f.cpu);
  bestTranslate = Math.min(bestTranslate, t.cpu);
  bestFloorWall = Math.min(bestFloorWall, f.wall);
  bestTranslateWall = Math.min(bestTranslateWall, t.wall);
}

const nsPerEvent = bestTranslate / totalEvents;
const floorNsPerEvent = bestFloor / totalEvents;
const result = {
  bench: 'translate',
  eventsPerSec: Math.round(1e9 / nsPerEvent),
  floorRatio: Math.round((nsPerEvent / floorNsPerEvent) * 100) / 100,
  usPerEvent: Math.round(nsPerEvent) / 1000,
  floorUsPerEvent: Math.round(floorNsPerEvent) / 1000,
  floorEventsPerSec: Math.round(1e9 / floorNsPerEvent),
  wallEventsPerSec: Math.round((1e9 * totalEvents) / bestTranslateWall),
  wallFloorRatio: Math.round((bestTranslateWall / bestFloorWall) * 100) / 100,
  events: totalEvents,
  eventsPerMessage: PER_MESSAGE,
  avgEventBytes: Math.round(totalBytes / totalEvents),
  types: DEFAULT_CATALOG.length,
  rounds: ROUNDS,
  measure: 'best round, process CPU time',
  node: process.version,
};
console.log(
  `translate: ${result.eventsPerSec.toLocaleString('en-US')} events/s (${result.usPerEvent} µs/event) on one core; ` +
    `floor JSON.parse+stringify: ${result.floorEventsPerSec.toLocaleString('en-US')} events/s ` +
    `(${result.floorUsPerEvent} µs/event); ratio ${result.floorRatio} (target ≤ 2.0)`,
);
console.log(`input: ${totalEvents} events, ${result.avgEventBytes} bytes each on average, ${PER_MESSAGE} per message`);
if (sink === 0) console.log('');
console.log(JSON.stringify(result));
