/**
 * `npm run bench -- receiver [--requests N] [--levels 1,4,16,64]`
 *
 * Braze-shaped requests (100 events of every type in the envelope, the version header, a bearer token) POSTed to the
 * door of a Braze workspace with two connectors (served by functions-framework in its own process), which routes each
 * request's events by type into one message per connector and publishes both to the Pub/Sub emulator, at increasing
 * concurrency: requests/s, events/s, and the latency until the door answered (2xx only once Pub/Sub acknowledged every
 * part). The floor: what any door must publish for the same requests (each request's parts, one message per connector
 * to its topic, routed before the clock starts) with the Pub/Sub client alone, at the same concurrency and with the
 * receiver's batching settings, in this process.
 *
 * Both sides get the bodies as Buffers made before the clock starts, and both are warmed up by a full pass first. The requests go out through Node's own HTTP client
 * with a keep-alive agent: in production the sender is Braze's machine, and here it shares the 2 cores with the
 * receiver and the emulator, so it should cost as little as a client can (`fetch` spent about 2.3 ms of CPU per
 * 90 KB request, five times Node's `http.request`, and slowed the receiver it was measuring). Last line:
 * {"bench":"receiver","eventsPerSec":…,"floorEventsPerSec":…,"floorRatio":…,"p50Ms":…,"p99Ms":…,…} (best level of each;
 * `floorRatioByLevel`: the ratio at each level).
 */
import http from 'node:http';
import { parseArgs } from 'node:util';
import type { PubSub, Topic } from '@google-cloud/pubsub';
import { table } from '../common/table';
import type { Environment } from '../shared/connector';
import { newReceiverToken } from '../shared/receiver-auth';
import { startEmulators } from '../local/emulators';
import { brazeHeaders } from '../local/braze/http';
import { type FunctionHost, startFunctionHost } from '../local/function-host';
import { eventsEnvelope, sampleFeed } from '../common/samples';
import { RECEIVER_BATCHING } from '../runtime/adapters/ingest-publisher';
import { routeBody, type RoutedPart } from '../runtime/receiver/route';
import { type WorkspaceDoor, workspaceDoors } from '../shared/door';
import { doorEnvironment } from '../shared/door-config';
import { resourceNames } from '../shared/names';
import { ENV_VARS } from '../shared/runtime-config';
import { benchWorkspace } from './_environment';
import { inFlight } from './_in-flight';

const { values } = parseArgs({
  options: {
    requests: { type: 'string', default: '2000' },
    levels: { type: 'string', default: '1,4,16,64' },
  },
});
const REQUESTS = Number(values.requests);
const LEVELS = values.levels!.split(',').map(Number);
const EVENTS_PER_REQUEST = 100;

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;

interface Figures {
  level: number;
  requestsPerSec: number;
  eventsPerSec: number;
  p50Ms: number;
  p99Ms: number;
}

/** Runs `send` over `bodies` with `level` in flight at once; per-request latency and throughput. */
async function measure(
  level: number,
  bodies: readonly Buffer[],
  send: (body: Buffer) => Promise<void>,
): Promise<Figures> {
  const { seconds, latenciesMs: latencies } = await inFlight(level, bodies, send);
  latencies.sort((a, b) => a - b);
  return {
    level,
    requestsPerSec: Math.round(bodies.length / seconds),
    eventsPerSec: Math.round((bodies.length * EVENTS_PER_REQUEST) / seconds),
    p50Ms: Math.round(percentile(latencies, 0.5) * 10) / 10,
    p99Ms: Math.round(percentile(latencies, 0.99) * 10) / 10,
  };
}

type Side = (body: Buffer) => Promise<void>;

/** Starts the emulators and the workspace's door (functions-framework, its own process) with a bench token. */
async function startDoor(environment: Environment, door: WorkspaceDoor, token: string) {
  const emulators = await startEmulators({ projectId: environment.project });
  const host = await startFunctionHost({
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
  }).catch(async (err) => {
    await emulators.stop();
    throw err;
  });
  return { emulators, host };
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

/** The requests: REQUESTS envelopes of EVENTS_PER_REQUEST sample events of every type, as Buffers. */
function requestBodies(): Buffer[] {
  const feed = sampleFeed({ count: REQUESTS * EVENTS_PER_REQUEST, seed: 7 });
  return Array.from({ length: REQUESTS }, (_, i) =>
    Buffer.from(eventsEnvelope(feed.slice(i * EVENTS_PER_REQUEST, (i + 1) * EVENTS_PER_REQUEST))),
  );
}

/** POSTs a body to the door, as Braze does, through Node's own HTTP client; resolves on its 200. */
function viaReceiver(host: FunctionHost, token: string, agent: http.Agent): Side {
  const url = new URL(host.url);
  const headers = brazeHeaders({ token, gzip: false });
  return (body) =>
    new Promise<void>((resolve, reject) => {
      const req = http.request(
        {
          host: url.hostname,
          port: url.port,
          path: '/',
          method: 'POST',
          agent,
          headers: { ...headers, 'content-length': body.length },
        },
        (res) => {
          res.resume();
          res.on('end', () =>
            res.statusCode === 200 ? resolve() : reject(new Error(`receiver answered ${res.statusCode}`)),
          );
        },
      );
      req.on('error', (err) => reject(new Error(`request failed (receiver exited: ${host.exited}): ${err.message}`)));
      req.end(body);
    });
}

/** The floor: publishes what the door must for a request (its parts, routed here before the clock starts). */
function viaFloor(parts: ReadonlyMap<Buffer, readonly RoutedPart[]>, topics: ReadonlyMap<string, Topic>): Side {
  return async (body) => {
    await Promise.all(
      parts
        .get(body)!
        .map((p) => topics.get(p.connector)!.publishMessage({ data: p.body, attributes: { source: 'bench' } })),
    );
  };
}

interface Row {
  receiver: Figures;
  floor: Figures;
}

const ratio = (row: Row) => Math.round((row.receiver.eventsPerSec / row.floor.eventsPerSec) * 100) / 100;

/** Warms both sides up, then measures each level: the door, then the floor. */
async function measureLevels(bodies: readonly Buffer[], receiver: Side, floor: Side): Promise<Row[]> {
  // Warm-up, not measured: a full pass of each side at the highest level, so that both are measured steady (the
  // receiver process, this one and the emulator's JVM compile their hot paths in the first thousand requests or so;
  // measured cold, the side that runs first would pay for it).
  for (const side of [receiver, floor]) await measure(Math.max(...LEVELS), bodies, side);
  const rows: Row[] = [];
  for (const level of LEVELS) {
    rows.push({ receiver: await measure(level, bodies, receiver), floor: await measure(level, bodies, floor) });
  }
  return rows;
}

/** The table of every level, then the last line (the JSON interface; fields are added, never renamed or dropped). */
function report(rows: readonly Row[], environment: Environment, partsPerRequest: number): void {
  console.log(
    table(
      ['in flight', 'receiver req/s', 'events/s', 'p50 ms', 'p99 ms', 'floor events/s', 'p50 ms', 'p99 ms', 'ratio'],
      rows.map((row) => {
        const { receiver: r, floor: f } = row;
        const cells = [r.level, r.requestsPerSec, r.eventsPerSec, r.p50Ms, r.p99Ms, f.eventsPerSec, f.p50Ms, f.p99Ms];
        return [...cells.map(String), ratio(row).toFixed(2)];
      }),
    ),
  );
  const best = rows.reduce((a, b) => (b.receiver.eventsPerSec > a.receiver.eventsPerSec ? b : a));
  const bestFloor = Math.max(...rows.map((r) => r.floor.eventsPerSec));
  console.log(
    JSON.stringify({
      bench: 'receiver',
      eventsPerSec: best.receiver.eventsPerSec,
      floorEventsPerSec: bestFloor,
      floorRatio: Math.round((best.receiver.eventsPerSec / bestFloor) * 100) / 100,
      p50Ms: best.receiver.p50Ms,
      p99Ms: best.receiver.p99Ms,
      atConcurrency: best.receiver.level,
      requestsPerLevel: REQUESTS,
      eventsPerRequest: EVENTS_PER_REQUEST,
      connectorsInWorkspace: environment.connectors.length,
      partsPerRequest,
      floorRatioByLevel: Object.fromEntries(rows.map((row) => [row.receiver.level, ratio(row)])),
    }),
  );
}

async function main() {
  const environment = benchWorkspace('receiver');
  const [door] = workspaceDoors(environment.connectors);
  const token = newReceiverToken();
  const { emulators, host } = await startDoor(environment, door!, token);
  let pubsub: PubSub | undefined;
  const agent = new http.Agent({ keepAlive: true, maxSockets: Math.max(...LEVELS) });
  try {
    const { PubSub } = await import('@google-cloud/pubsub');
    pubsub = new PubSub({ projectId: environment.project, apiEndpoint: emulators.env.PUBSUB_EMULATOR_HOST });
    const topics = await ingestTopics(pubsub, environment);
    const bodies = requestBodies();
    // The floor publishes what the door must: each request's parts, routed here before the clock starts.
    const parts = new Map<Buffer, readonly RoutedPart[]>(bodies.map((b) => [b, routeBody(b, door!).parts]));
    const partsPerRequest = bodies.reduce((n, b) => n + parts.get(b)!.length, 0) / bodies.length;
    const rows = await measureLevels(bodies, viaReceiver(host, token, agent), viaFloor(parts, topics));
    report(rows, environment, partsPerRequest);
  } finally {
    await pubsub?.close();
    agent.destroy();
    await host.stop();
    await emulators.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
