import { DEFAULT_CATALOG } from '../shared/catalog';
import { eventsEnvelope, sampleFeed } from '../local/samples';
import { batchBody } from '../runtime/core/batch';
import { createTranslator } from '../runtime/core/translate';
const translator = createTranslator({ events: DEFAULT_CATALOG.map((e) => e.type) });
const rows: [string, number, boolean][] = [];
for (const e of DEFAULT_CATALOG) {
  const feed = sampleFeed({ count: 3000, seed: 7, types: [e.type] });
  const bodies = [] as Buffer[];
  for (let m = 0; m < 30; m++) bodies.push(Buffer.from(eventsEnvelope(feed.slice(m * 100, (m + 1) * 100))));
  const run = () => { for (const b of bodies) { const r = translator.translateMessage(b); batchBody(r.send, new Date().toISOString()); } };
  const floor = () => { for (const b of bodies) JSON.stringify(JSON.parse(b.toString('utf8'))); };
  let bt = Infinity, bf = Infinity;
  for (let i = 0; i < 6; i++) {
    let t = process.cpuUsage(); run(); let d = process.cpuUsage(t); bt = Math.min(bt, d.user + d.system);
    t = process.cpuUsage(); floor(); d = process.cpuUsage(t); bf = Math.min(bf, d.user + d.system);
  }
  rows.push([e.type, Math.round((bt / bf) * 100) / 100, Boolean(e.added)]);
}
rows.sort((a, b) => b[1] - a[1]);
for (const r of rows.slice(0, 20)) console.log(r.join('  '));
const avg = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
console.log('old', avg(rows.filter((r) => !r[2]).map((r) => r[1])).toFixed(2), 'new', avg(rows.filter((r) => r[2]).map((r) => r[1])).toFixed(2));
