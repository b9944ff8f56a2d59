/**
 * `npm run bench -- runtime [--messages N] [--concurrency C]`
 *
 * 1. Cold import: the function bundled as it is deployed (esbuild, dependencies external, as infra/runtime-archive.ts
 *    does), required by a fresh `node` process with a valid configuration; median of 7 runs. Beside it, the same for a
 *    bare `require('@google-cloud/functions-framework')` (the floor any function pays) and for the Google clients the
 *    module leaves for later (what eager loading would have cost).
 * 2. Throughput: push envelopes (100 events each) through the handler in process, with the real adapters: Firestore and
 *    Pub/Sub emulators, the local Segment server in a child process. Events/s and Firestore operations per event.
 * Last line: {"bench":"runtime","importMs":…,"eventsPerSec":…}.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { buildSync } from 'esbuild';
import { startEmulators } from '../local/emulators';
import { pushEnvelope } from '../runtime/core/push';
import { eventsEnvelope, sampleFeed } from '../common/samples';
import { createRuntime } from '../runtime/runtime';
import { ENV_VARS, functionEnvironment, parseRuntimeConfig } from '../shared/runtime-config';
import { benchEnvironment } from './_environment';
import { admin, startServerProcess } from './_segment-server';

const { values } = parseArgs({
  options: {
    messages: { type: 'string', default: '300' },
    concurrency: { type: 'string', default: '8' },
  },
});
const MESSAGES = Number(values.messages);
const CONCURRENCY = Number(values.concurrency);
const WRITE_KEY = 'bench-runtime-write-key';
const ROOT = join(__dirname, '..');

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function timeRequire(modulePath: string, env: Record<string, string>, runs = 7): number {
  const script = `const t=process.hrtime.bigint();require(${JSON.stringify(modulePath)});process.stdout.write(String(Number(process.hrtime.bigint()-t)/1e6))`;
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const out = execFileSync(process.execPath, ['-e', script], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', ...env },
      encoding: 'utf8',
    });
    times.push(Number(out));
  }
  return median(times);
}

async function main() {
  const env = benchEnvironment('runtime');
  const connector = env.connectors[0]!;

  // 1. Cold import of the deployed bundle.
  const dir = join(ROOT, 'cdktf.out', '.bench-runtime');
  mkdirSync(dir, { recursive: true });
  const bundle = join(dir, 'index.js');
  buildSync({
    entryPoints: [join(ROOT, 'runtime', 'function.ts')],
    bundle: true,
    packages: 'external',
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    outfile: bundle,
    logLevel: 'silent',
    absWorkingDir: ROOT,
  });
  writeFileSync(join(dir, 'package.json'), '{"private":true}\n');
  // What loading the Google clients eagerly would cost, measured the same way.
  writeFileSync(
    join(dir, 'eager.js'),
    "require('@google-cloud/firestore');require('@google-cloud/pubsub');require('@google-cloud/secret-manager');\n",
  );
  const fnEnv = { ...functionEnvironment(env, connector) };
  const importMs = timeRequire(bundle, fnEnv);
  const frameworkMs = timeRequire('@google-cloud/functions-framework', {});
  const eagerClientsMs = timeRequire(join(dir, 'eager.js'), {}, 3);
  console.log(`cold import of the function bundle: ${importMs.toFixed(1)} ms (median of 7)`);
  console.log(`  functions-framework alone:        ${frameworkMs.toFixed(1)} ms`);
  console.log(`  the Google clients (loaded lazily, on first use): ${eagerClientsMs.toFixed(1)} ms`);

  // 2. Throughput through the handler, in process.
  const emulators = await startEmulators({ projectId: 'bench-runtime' });
  Object.assign(process.env, emulators.env);
  const { url, child } = await startServerProcess(WRITE_KEY);
  try {
    const vars = {
      ...fnEnv,
      [ENV_VARS.segmentBaseUrl]: url,
      [ENV_VARS.secretSource]: 'env',
      [ENV_VARS.secretValue]: WRITE_KEY,
    };
    const runtime = createRuntime(parseRuntimeConfig(vars), { logSink: () => undefined, env: vars });
    const feed = sampleFeed({ count: MESSAGES * 100, seed: 7, types: undefined });
    const bodies = Array.from({ length: MESSAGES }, (_, i) =>
      pushEnvelope(eventsEnvelope(feed.slice(i * 100, i * 100 + 100)), {}, `bench-${i}`),
    );
    // Warm up (connections, Firestore client, JIT) on a few messages, then measure.
    for (let i = 0; i < 5; i++) await runtime.app.handlePush(bodies[i]);
    await admin(url, 'reset', 'POST');
    const before = { ...runtime.store.stats };
    let next = 5;
    let failed = 0;
    const start = process.hrtime.bigint();
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        for (let i = next++; i < MESSAGES; i = next++) {
          const r = await runtime.app.handlePush(bodies[i]);
          if (r.status !== 204) failed++;
        }
      }),
    );
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    const stats = await admin(url, 'stats');
    const measuredMessages = MESSAGES - 5;
    const translatedPerMessage = stats.acceptedUnique / measuredMessages;
    const events = measuredMessages * 100;
    const firestoreOps = runtime.store.stats.reads - before.reads + (runtime.store.stats.writes - before.writes);
    const eventsPerSec = Math.round(events / seconds);
    console.log(
      `\nthrough the handler: ${events} events in ${measuredMessages} messages (${CONCURRENCY} at a time) in ` +
        `${seconds.toFixed(2)} s: ${eventsPerSec} events/s; ${stats.acceptedUnique} accepted by Segment ` +
        `(${translatedPerMessage.toFixed(1)} per message; the rest skipped or dead-lettered on purpose), ` +
        `${stats.requests} requests, ${failed} messages not final`,
    );
    console.log(
      `Firestore operations: ${firestoreOps} for ${events} events (writes: ${runtime.store.stats.writes - before.writes})`,
    );
    await runtime.close();
    console.log(
      JSON.stringify({
        bench: 'runtime',
        importMs: Math.round(importMs * 10) / 10,
        eventsPerSec,
        frameworkImportMs: Math.round(frameworkMs * 10) / 10,
        lazyGoogleClientsMs: Math.round(eagerClientsMs * 10) / 10,
        events,
        acceptedBySegment: stats.acceptedUnique,
        requests: stats.requests,
        firestoreWritesPerEvent: (runtime.store.stats.writes - before.writes) / events,
        firestoreOpsPerEvent: firestoreOps / events,
        notFinal: failed,
        concurrency: CONCURRENCY,
      }),
    );
  } finally {
    child.kill('SIGTERM');
    await emulators.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
