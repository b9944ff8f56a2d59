/**
 * `npm run bench -- route [--requests N] [--rounds N]`: the door's routing on one core, in process.
 *
 * Input: the receiver bench's requests (envelopes of 100 sample events of every type, about 90 KB;
 * bench/_receiver-feed.ts) for its two-connector workspace. Measured per request: the door's byte scan alone
 * (`scanEnvelope`: where each event is, its type, the whole body checked as JSON.parse would; in WebAssembly,
 * envelope-scan-wasm.ts), the same scan in JavaScript alone (envelope-scan.ts), the whole routing (`routeBody`: the
 * scan, then one envelope per connector), and the floor `JSON.parse` of the same bytes (which reads them without
 * routing them); rounds interleaved, best of each.
 * Last line: {"bench":"route","routeMsPerRequest":…,"scanMsPerRequest":…,"parseMsPerRequest":…,"parseRatio":…,
 * "jsScanMsPerRequest":…} (`parseRatio`: routing's time over JSON.parse's; below 1 is faster).
 */
import { parseArgs } from 'node:util';
import { routeBody } from '../runtime/receiver/route';
import { scanEnvelope as scanInJavaScript } from '../runtime/receiver/envelope-scan';
import { scanEnvelope } from '../runtime/receiver/envelope-scan-wasm';
import { receiverWorkspace, requestBodies } from './_receiver-feed';

const { values } = parseArgs({
  options: {
    requests: { type: 'string', default: '2000' },
    rounds: { type: 'string', default: '15' },
  },
});
const ROUNDS = Number(values.rounds);

const { door } = receiverWorkspace();
const bodies = requestBodies(Number(values.requests));
const bytes = bodies.reduce((n, b) => n + b.length, 0);

const ways = {
  route: (b: Buffer) => routeBody(b, door).parts.length,
  scan: (b: Buffer) => scanEnvelope(b)?.length,
  jsScan: (b: Buffer) => scanInJavaScript(b)?.length,
  parse: (b: Buffer) => (JSON.parse(b.toString('utf8')) as { events: unknown[] }).events.length,
};
const best: Record<string, number> = { route: Infinity, scan: Infinity, jsScan: Infinity, parse: Infinity };
for (let round = 0; round < ROUNDS; round++) {
  for (const [name, way] of Object.entries(ways)) {
    const start = performance.now();
    for (const body of bodies) way(body);
    best[name] = Math.min(best[name]!, performance.now() - start);
  }
}
const perRequest = (name: string) => Math.round((best[name]! / bodies.length) * 1000) / 1000;
for (const name of Object.keys(ways)) {
  const mbPerSec = Math.round(bytes / 1e6 / (best[name]! / 1000));
  console.log(`${name.padEnd(6)} ${perRequest(name).toFixed(3)} ms per request (${mbPerSec} MB/s)`);
}
console.log(
  JSON.stringify({
    bench: 'route',
    routeMsPerRequest: perRequest('route'),
    scanMsPerRequest: perRequest('scan'),
    parseMsPerRequest: perRequest('parse'),
    parseRatio: Math.round((best.route! / best.parse!) * 100) / 100,
    requests: bodies.length,
    bytesPerRequest: Math.round(bytes / bodies.length),
    rounds: ROUNDS,
    jsScanMsPerRequest: perRequest('jsScan'),
  }),
);
