/**
 * `npm run bench -- receiver [--requests N] [--levels 1,4,16,64] [--rounds 3]`
 *
 * Braze-shaped requests (100 events of every type in the envelope, the version header, a bearer token) POSTed to the
 * door of a Braze workspace with two connectors (served by functions-framework in its own process), which routes each
 * request's events by type into one message per connector and publishes both to the Pub/Sub emulator, at increasing
 * concurrency: requests/s, events/s, and the latency until the door answered (2xx only once Pub/Sub acknowledged every
 * part). Against two floors, at the same concurrency and with the receiver's batching settings:
 * - the floor (quality.md's bare publishing loop, given what a door of this workspace must publish): each request's
 *   parts, one message per connector to its topic, routed before the clock starts, published with the Pub/Sub client
 *   alone, in this process (measured once, the bodies published as they came, to one topic, ran as fast: 262,413
 *   events/s against 255,327);
 * - the bare door (bench/_bare-door.ts): the same publishing behind a bare Node HTTP server in a process of its own,
 *   which reads each body and publishes that request's parts, looked up instead of routed: what the HTTP hop itself
 *   costs on these 2 shared cores, so that the door's ratio to it is what the door's own work costs (token, routing,
 *   the envelope check, logs, answers).
 * And the CPU each side spends per request: this process (the HTTP client, or the floor's publishing), the door's or
 * the bare door's process, and the emulator's.
 *
 * Every side gets the bodies as Buffers made before the clock starts, and each is warmed up by a full pass first. The
 * requests go out through Node's own HTTP client with a keep-alive agent: in production the sender is Braze's machine,
 * and here it shares the 2 cores with the receiver and the emulator, so it should cost as little as a client can
 * (`fetch` spent about 2.3 ms of CPU per 90 KB request, five times Node's `http.request`, and slowed the receiver it
 * was measuring). Last line:
 * {"bench":"receiver","eventsPerSec":…,"floorEventsPerSec":…,"floorRatio":…,"p50Ms":…,"p99Ms":…,…} (best level of each;
 * `floorRatioByLevel`: the ratio at each level; `bareDoorEventsPerSec`, `bareDoorRatio` and `bareDoorRatioByLevel`:
 * the same against the bare door; `cpuMsPerRequest`: per side and process, at the highest level).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import http from 'node:http';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import type { PubSub, Topic } from '@google-cloud/pubsub';
import { table } from '../common/table';
import type { Environment } from '../shared/connector';
import { newReceiverToken } from '../shared/receiver-auth';
import { type Emulators, startEmulators } from '../local/emulators';
import { brazeHeaders } from '../local/braze/http';
import { type FunctionHost, startFunctionHost } from '../local/function-host';
import { guardProcess, release } from '../local/reaper';
import { RECEIVER_BATCHING } from '../runtime/adapters/ingest-publisher';
import type { RoutedPart } from '../runtime/receiver/route';
import type { WorkspaceDoor } from '../shared/door';
import { doorEnvironment } from '../shared/door-config';
import { resourceNames } from '../shared/names';
import { ENV_VARS } from '../shared/runtime-config';
import { groupCpuMs, ownCpuMs, processCpuMs } from './_cpu';
import { inFlight } from './_in-flight';
import { EVENTS_PER_REQUEST, receiverWorkspace, requestBodies, requestParts } from './_receiver-feed';

const { values } = parseArgs({
  options: {
    requests: { type: 'string', default: '2000' },
    levels: { type: 'string', default: '1,4,16,64' },
    rounds: { type: 'string', default: '3' },
  },
});
const REQUESTS = Number(values.requests);
const LEVELS = values.levels!.split(',').map(Number);
const ROUNDS = Number(values.rounds);

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;

interface Figures {
  level: number;
  requestsPerSec: number;
  eventsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  /** CPU ms per request of each process of the side (undefined off Linux). */
  cpu: Record<string, number | undefined>;
}

/** A way to get a request into Pub/Sub, and the processes that spend CPU for it (name → CPU ms so far). */
interface Side {
  send: (body: Buffer) => Promise<void>;
  processes: Record<string, () => number | undefined>;
}

/** Runs the side over `bodies` with `level` in flight at once; per-request latency, throughput and CPU. */
async function measure(level: number, bodies: readonly Buffer[], side: Side): Promise<Figures> {
  const cpuBefore = Object.entries(side.processes).map(([name, read]) => [name, read()] as const);
  const { seconds, latenciesMs: latencies } = await inFlight(level, bodies, side.send);
  const cpu = Object.fromEntries(
    cpuBefore.map(([name, before]) => {
      const after = side.processes[name]!();
      const perRequest = before === undefined || after === undefined ? undefined : (after - before) / bodies.length;
      return [name, perRequest === undefined ? undefined : Math.round(perRequest * 100) / 100];
    }),
  );
  latencies.sort((a, b) => a - b);
  return {
    level,
    requestsPerSec: Math.round(bodies.length / seconds),
    eventsPerSec: Math.round((bodies.length * EVENTS_PER_REQUEST) / seconds),
    p50Ms: Math.round(percentile(latencies, 0.5) * 10) / 10,
    p99Ms: Math.round(percentile(latencies, 0.99) * 10) / 10,
    cpu,
  };
}

/** Starts the workspace's door (functions-framework, its own process) with a bench token. */
function startDoor(environment: Environment, door: WorkspaceDoor, emulators: Emulators, token: string) {
  return startFunctionHost({
    serve: 'receiver',
    env: {
      ...emulators.env,
      ...doorEnvironment(environment, door),
      [ENV_VARS.receiverTokenSource]: 'env',
      [ENV_VARS.receiverTokens]: token,
    },
    onLine: (line) => {
      if (!line.includes('"status":200')) console.error(`[receiver] ${line}`);
    },
  });
}

/** Starts the bare door (bench/_bare-door.ts) in its own process; its URL once it listens. */
async function startBareDoor(emulators: Emulators): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, ['--require', require.resolve('tsx/cjs'), `${__dirname}/_bare-door.ts`], {
    env: { ...process.env, ...emulators.env, BENCH_REQUESTS: String(REQUESTS) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  // Never outlives the bench, should the bench be killed outright (local/reaper.ts).
  guardProcess(child.pid!);
  child.once('exit', () => release('pid', child.pid!));
  const lines = createInterface({ input: child.stdout! });
  const line = await Promise.race([
    once(lines, 'line').then(([first]) => first as string),
    once(child, 'exit').then(([code]) => Promise.reject(new Error(`the bare door exited (${String(code)})`))),
  ]);
  lines.close();
  const { port } = JSON.parse(line) as { port: number };
  return { child, url: `http://127.0.0.1:${port}` };
}

/** Creates each connector's ingest topic; the floor's publishers to them, with the receiver's batching settings. */
async function ingestTopics(pubsub: PubSub, environment: Environment): Promise<Map<string, Topic>> {
  return new Map(
    await Promise.all(
      environment.connectors.map(async (c) => {
        const name = resourceNames(c.name).ingestTopic;
        await pubsub.createTopic(name);
        return [c.name, pubsub.topic(name, { batching: RECEIVER_BATCHING })] as const;
      }),
    ),
  );
}

/** POSTs a body to `url` as Braze does, through Node's own HTTP client; resolves on its 200. */
function poster(url: URL, agent: http.Agent, headers: (body: Buffer) => Record<string, string>, what: () => string) {
  return (body: Buffer) =>
    new Promise<void>((resolve, reject) => {
      const req = http.request(
        {
          host: url.hostname,
          port: url.port,
          path: '/',
          method: 'POST',
          agent,
          headers: { ...headers(body), 'content-length': String(body.length) },
        },
        (res) => {
          res.resume();
          res.on('end', () =>
            res.statusCode === 200 ? resolve() : reject(new Error(`${what()} answered ${res.statusCode}`)),
          );
        },
      );
      req.on('error', (err) => reject(new Error(`request failed (${what()}): ${err.message}`)));
      req.end(body);
    });
}

/** The door: Braze's headers with the bench token. */
function viaReceiver(host: FunctionHost, token: string, agent: http.Agent, emulators: Emulators): Side {
  const headers = brazeHeaders({ token, gzip: false });
  return {
    send: poster(
      new URL(host.url),
      agent,
      () => headers,
      () => `the door (exited: ${host.exited})`,
    ),
    processes: {
      client: ownCpuMs,
      door: () => processCpuMs(host.pid),
      emulator: () => groupCpuMs(emulators.pubsub.pid),
    },
  };
}

/** The bare door: the same headers, and the request's index for it to look its parts up by. */
function viaBareDoor(
  bare: { child: ChildProcess; url: string },
  index: ReadonlyMap<Buffer, number>,
  agent: http.Agent,
  emulators: Emulators,
): Side {
  const headers = brazeHeaders({ token: 'bench', gzip: false });
  return {
    send: poster(
      new URL(bare.url),
      agent,
      (body) => ({ ...headers, 'x-bench-request': String(index.get(body)) }),
      () => 'the bare door',
    ),
    processes: {
      client: ownCpuMs,
      door: () => processCpuMs(bare.child.pid!),
      emulator: () => groupCpuMs(emulators.pubsub.pid),
    },
  };
}

/** The floor: publishes what the door must for a request (its parts, routed here before the clock starts). */
function viaFloor(
  parts: ReadonlyMap<Buffer, readonly RoutedPart[]>,
  topics: ReadonlyMap<string, Topic>,
  emulators: Emulators,
): Side {
  return {
    send: async (body) => {
      await Promise.all(
        parts
          .get(body)!
          .map((p) => topics.get(p.connector)!.publishMessage({ data: p.body, attributes: { source: 'bench' } })),
      );
    },
    processes: { publisher: ownCpuMs, emulator: () => groupCpuMs(emulators.pubsub.pid) },
  };
}

const SIDES = ['receiver', 'bareDoor', 'floor'] as const;
type Row = Record<(typeof SIDES)[number], Figures>;

const ratioOf = (a: Figures, b: Figures) => Math.round((a.eventsPerSec / b.eventsPerSec) * 100) / 100;

/**
 * Warms every side up, then measures each level ROUNDS times, the sides taking turns (the door, the bare door, the
 * floor, and again), and keeps each side's best round: on 2 shared cores one round of a second or two can lose a
 * quarter of its rate to a pause of another process, and the turns spread such pauses over the sides.
 */
async function measureLevels(bodies: readonly Buffer[], sides: Record<(typeof SIDES)[number], Side>): Promise<Row[]> {
  // Warm-up, not measured: a full pass of each side at the highest level, so that all are measured steady (the
  // receiver process, this one and the emulator's JVM compile their hot paths in the first thousand requests or so;
  // measured cold, the side that runs first would pay for it).
  for (const side of SIDES) await measure(Math.max(...LEVELS), bodies, sides[side]);
  const rows: Row[] = [];
  for (const level of LEVELS) {
    const row: Partial<Row> = {};
    for (let round = 0; round < ROUNDS; round++) {
      for (const side of SIDES) {
        const figures = await measure(level, bodies, sides[side]);
        if (!row[side] || figures.eventsPerSec > row[side].eventsPerSec) row[side] = figures;
      }
    }
    rows.push(row as Row);
  }
  return rows;
}

const cpuText = (f: Figures) =>
  Object.entries(f.cpu)
    .map(([name, ms]) => `${name} ${ms ?? '?'}`)
    .join(', ');

/** The table of every level, then the last line (the JSON interface; fields are added, never renamed or dropped). */
function report(rows: readonly Row[], environment: Environment, partsPerRequest: number): void {
  const against = (r: Figures, other: Figures) => [String(other.eventsPerSec), ratioOf(r, other).toFixed(2)];
  console.log(
    table(
      [
        'in flight',
        'door req/s',
        'events/s',
        'p50 ms',
        'p99 ms',
        'bare door',
        'ratio',
        'floor',
        'p50 ms',
        'p99 ms',
        'ratio',
      ],
      rows.map(({ receiver: r, bareDoor, floor }) => [
        ...[r.level, r.requestsPerSec, r.eventsPerSec, r.p50Ms, r.p99Ms].map(String),
        ...against(r, bareDoor),
        ...[floor.eventsPerSec, floor.p50Ms, floor.p99Ms].map(String),
        ratioOf(r, floor).toFixed(2),
      ]),
    ),
  );
  const top = rows[rows.length - 1]!;
  console.log(`\nCPU ms per request at ${top.receiver.level} in flight:`);
  for (const side of SIDES) console.log(`  ${side}: ${cpuText(top[side])}`);
  const best = rows.reduce((a, b) => (b.receiver.eventsPerSec > a.receiver.eventsPerSec ? b : a));
  const bestOf = (side: (typeof SIDES)[number]) => Math.max(...rows.map((r) => r[side].eventsPerSec));
  const ratioTo = (side: (typeof SIDES)[number]) => Math.round((best.receiver.eventsPerSec / bestOf(side)) * 100) / 100;
  const byLevel = (side: (typeof SIDES)[number]) =>
    Object.fromEntries(rows.map((row) => [row.receiver.level, ratioOf(row.receiver, row[side])]));
  console.log(
    JSON.stringify({
      bench: 'receiver',
      eventsPerSec: best.receiver.eventsPerSec,
      floorEventsPerSec: bestOf('floor'),
      floorRatio: ratioTo('floor'),
      p50Ms: best.receiver.p50Ms,
      p99Ms: best.receiver.p99Ms,
      atConcurrency: best.receiver.level,
      requestsPerLevel: REQUESTS,
      rounds: ROUNDS,
      eventsPerRequest: EVENTS_PER_REQUEST,
      connectorsInWorkspace: environment.connectors.length,
      partsPerRequest,
      floorRatioByLevel: byLevel('floor'),
      bareDoorEventsPerSec: bestOf('bareDoor'),
      bareDoorRatio: ratioTo('bareDoor'),
      bareDoorRatioByLevel: byLevel('bareDoor'),
      cpuMsPerRequest: { atConcurrency: top.receiver.level, ...Object.fromEntries(SIDES.map((s) => [s, top[s].cpu])) },
    }),
  );
}

async function main() {
  const { environment, door } = receiverWorkspace();
  const token = newReceiverToken();
  const emulators = await startEmulators({ projectId: environment.project });
  let host: FunctionHost | undefined;
  let bare: { child: ChildProcess; url: string } | undefined;
  let pubsub: PubSub | undefined;
  const agent = new http.Agent({ keepAlive: true, maxSockets: Math.max(...LEVELS) });
  try {
    host = await startDoor(environment, door, emulators, token);
    bare = await startBareDoor(emulators);
    const { PubSub } = await import('@google-cloud/pubsub');
    pubsub = new PubSub({ projectId: environment.project, apiEndpoint: emulators.env.PUBSUB_EMULATOR_HOST });
    const topics = await ingestTopics(pubsub, environment);
    const bodies = requestBodies(REQUESTS);
    const routed = requestParts(bodies);
    const parts = new Map<Buffer, readonly RoutedPart[]>(bodies.map((b, i) => [b, routed[i]!]));
    const index = new Map(bodies.map((b, i) => [b, i]));
    const partsPerRequest = routed.reduce((n, p) => n + p.length, 0) / bodies.length;
    const rows = await measureLevels(bodies, {
      receiver: viaReceiver(host, token, agent, emulators),
      bareDoor: viaBareDoor(bare, index, agent, emulators),
      floor: viaFloor(parts, topics, emulators),
    });
    report(rows, environment, partsPerRequest);
  } finally {
    await pubsub?.close();
    agent.destroy();
    bare?.child.kill('SIGTERM');
    await host?.stop();
    await emulators.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
