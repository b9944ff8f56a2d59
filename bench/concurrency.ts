/**
 * `npm run bench -- concurrency [--latency-ms 200] [--levels 1,2,4,8,16,32] [--pushes N]`
 *
 * How one function process scales with concurrent pushes when Segment takes `--latency-ms` per request: the function
 * served by functions-framework in its own process (as deployed), Pub/Sub push requests of 100 events each POSTed to it
 * directly at each concurrency level, the local Segment server in its own process answering after the added latency.
 * Prints events/s per level, the speed-up over concurrency 1, the mean time per push, and the function process's CPU
 * per event (from /proc). Last line:
 * {"bench":"concurrency","levels":[…],"eventsPerSec":[…],"bestSpeedup":…,"cpuMsPerEvent":…,…}.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { table } from '../common/table';
import { startEmulators } from '../local/emulators';
import { startFunctionHost } from '../local/function-host';
import { pushEnvelope } from '../runtime/core/push';
import { eventsEnvelope, sampleFeed } from '../common/samples';
import { ENV_VARS, functionEnvironment } from '../shared/runtime-config';
import { benchEnvironment } from './_environment';
import { inFlight } from './_in-flight';
import { admin, startServerProcess } from './_segment-server';

const { values } = parseArgs({
  options: {
    'latency-ms': { type: 'string', default: '200' },
    levels: { type: 'string', default: '1,2,4,8,16,32' },
    pushes: { type: 'string', default: '0' },
  },
});
const LATENCY_MS = Number(values['latency-ms']);
const LEVELS = values.levels!.split(',').map(Number);
const EVENTS_PER_PUSH = 100;
const WRITE_KEY = 'wk_bench_concurrency_0123456789';

/** CPU time (user + system) of a process so far, in ms, from /proc/<pid>/stat (clock ticks of 10 ms). */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

async function main() {
  const environment = benchEnvironment('concurrency');
  const connector = environment.connectors[0]!;
  const emulators = await startEmulators({ projectId: environment.project });
  const { url, child } = await startServerProcess(WRITE_KEY);
  const host = await startFunctionHost({
    env: {
      ...emulators.env,
      ...functionEnvironment(environment, connector),
      [ENV_VARS.segmentBaseUrl]: url,
      [ENV_VARS.secretSource]: 'env',
      [ENV_VARS.secretValue]: WRITE_KEY,
    },
  });
  try {
    // Every Tracking API request is answered after the latency (set again after each reset, which clears rules).
    const addLatency = () =>
      fetch(`${url}/__admin/faults`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ latencyMs: LATENCY_MS, target: 'tracking' }),
      });
    await addLatency();
    const maxLevel = Math.max(...LEVELS);
    const pushesPerLevel = Number(values.pushes) || Math.max(40, maxLevel * 4);
    const feed = sampleFeed({ count: pushesPerLevel * EVENTS_PER_PUSH, seed: 5 });
    let n = 0;
    const bodies = () =>
      Array.from({ length: pushesPerLevel }, (_, i) =>
        JSON.stringify(
          pushEnvelope(eventsEnvelope(feed.slice(i * EVENTS_PER_PUSH, (i + 1) * EVENTS_PER_PUSH)), {}, `bench-${n++}`),
        ),
      );
    const push = async (body: string) => {
      const res = await fetch(`${host.url}/`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      });
      await res.arrayBuffer();
      if (res.status !== 204) throw new Error(`the function answered ${res.status}`);
    };
    // Warm-up: clients, connections, JIT.
    await Promise.all(bodies().slice(0, 8).map(push));
    const rows: { level: number; eventsPerSec: number; msPerPush: number; cpuMsPerEvent: number }[] = [];
    for (const level of LEVELS) {
      const list = bodies();
      await admin(url, 'reset', 'POST');
      await addLatency();
      const cpuBefore = cpuMs(host.pid);
      const { seconds, latenciesMs: times } = await inFlight(level, list, push);
      const events = list.length * EVENTS_PER_PUSH;
      rows.push({
        level,
        eventsPerSec: Math.round(events / seconds),
        msPerPush: Math.round(times.reduce((a, b) => a + b, 0) / times.length),
        cpuMsPerEvent: Math.round(((cpuMs(host.pid) - cpuBefore) / events) * 1000) / 1000,
      });
    }
    const base = rows[0]!;
    console.log(
      `one function process, Segment answering after ${LATENCY_MS} ms, ${pushesPerLevel} pushes of ${EVENTS_PER_PUSH} events per level`,
    );
    console.log(
      table(
        ['concurrent pushes', 'events/s', 'speed-up', 'ms per push', 'CPU ms per event'],
        rows.map((r) => [
          String(r.level),
          String(r.eventsPerSec),
          (r.eventsPerSec / base.eventsPerSec).toFixed(1),
          String(r.msPerPush),
          r.cpuMsPerEvent.toFixed(3),
        ]),
      ),
    );
    const best = rows.reduce((a, b) => (b.eventsPerSec > a.eventsPerSec ? b : a));
    console.log(
      JSON.stringify({
        bench: 'concurrency',
        levels: rows.map((r) => r.level),
        eventsPerSec: rows.map((r) => r.eventsPerSec),
        msPerPush: rows.map((r) => r.msPerPush),
        cpuMsPerEventByLevel: rows.map((r) => r.cpuMsPerEvent),
        bestSpeedup: Math.round((best.eventsPerSec / base.eventsPerSec) * 10) / 10,
        bestLevel: best.level,
        cpuMsPerEvent: best.cpuMsPerEvent,
        cpuMsPerEventAtOne: base.cpuMsPerEvent,
        cpuRatio: Math.round((best.cpuMsPerEvent / base.cpuMsPerEvent) * 100) / 100,
        segmentLatencyMs: LATENCY_MS,
        eventsPerPush: EVENTS_PER_PUSH,
      }),
    );
  } finally {
    await host.stop();
    child.kill('SIGTERM');
    await emulators.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
