/**
 * `npm run bench -- backfill [--files 12] [--events-per-file 5000] [--hosts 3] [--live-seconds 6] [--nice 10]`
 *
 * A remote backfill (`currents import --remote`, cli/ops/backfill-remote.ts) on its local stand-ins
 * (local/backfill-hosts.ts): F Braze-style Avro files in the local Cloud Storage stand-in (its own process), handed to
 * the backfill importer hosts as notification-shaped messages, their events published on the backfill topic and
 * delivered by the backfill function host to the local Segment server; progress read from Firestore. Measured with 1
 * host and with N: files/s and events/s of the import (hand-off of the first file to the last one finished), and the
 * backfill's delivered events/s (until Segment has every event). Meanwhile live events (20 per message, 10 messages/s)
 * are published on the connector's ingest topic as its receiver would, and their latency (publish → Segment) is
 * measured without a backfill and during each backfill (from its start until Segment has all of it).
 *
 * On this one machine the backfill's processes run at a lower priority (`--nice`, default 10): deployed, they are
 * instances of their own (the backfill function and importers), which take no CPU from the live function; `--nice 0`
 * shows the contention of sharing the cores instead. The Pub/Sub and Firestore emulators are shared either way.
 * Last line: {"bench":"backfill","eventsPerSec":…,"hosts":…,"liveP99Ms":…,"liveP99MsWithoutBackfill":…,"liveP99Ratio":…,…}
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Storage } from '@google-cloud/storage';
import { planImport, type ImportPlan } from '../cli/commands/import';
import { writeLargeAvroFile } from '../local/avro-export';
import { startBackfillHosts } from '../local/backfill-hosts';
import { runRemoteBackfill, settleLatency, startLiveProbe, type Latency } from '../local/backfill-remote';
import { startEmulators } from '../local/emulators';
import { startLocalStack, type LocalStack } from '../local/stack';
import { ConnectorImporter } from '../runtime/storage/importer';
import { brazeObjectName } from '../runtime/storage/paths';
import { backfillEstimate } from '../shared/backfill-capacity';
import { benchEnvironment } from './_environment';
import { startStorageProcess } from './_storage-process';

const { values } = parseArgs({
  options: {
    files: { type: 'string', default: '12' },
    'events-per-file': { type: 'string', default: '5000' },
    hosts: { type: 'string', default: '3' },
    'live-seconds': { type: 'string', default: '6' },
    nice: { type: 'string', default: '10' },
  },
});
const FILES = Number(values.files);
const PER_FILE = Number(values['events-per-file']);
const HOSTS = Number(values.hosts);
const LIVE_MS = Number(values['live-seconds']) * 1000;
const NICE = Number(values.nice);
const BUCKET = 'bench-backfill';
const WARM_EVENTS = 200;
const TYPES = ['Send', 'Delivery', 'Open', 'Click', 'Bounce', 'SoftBounce'].map((t) => `users.messages.email.${t}`);

interface Phase {
  hosts: number;
  seconds: number;
  filesPerSec: number;
  eventsPerSec: number;
  deliveredEventsPerSec: number;
  live: Latency;
  reconciled: boolean;
}

/**
 * One backfill of the plan with `hosts` importer hosts, live events measured from its start until Segment has it; the
 * hosts are warmed first by a backfill of `warm` (one small file each: module loading and clients are not measured).
 */
async function phase(
  stack: LocalStack,
  plan: ImportPlan,
  warm: ImportPlan,
  hosts: number,
  receipts: number,
  storageEndpoint: string,
) {
  const local = stack.connectors[0]!;
  const server = stack.servers[local.connector.segment.region];
  const backfilled = () => server.accepted().reduce((n, a) => n + (a.messageId.startsWith('bf-') ? a.receipts : 0), 0);
  const target = receipts * FILES * PER_FILE;
  const backfill = await startBackfillHosts({
    pubsub: stack.pubsub,
    environment: { name: stack.environment.name, project: stack.projectId },
    connector: local.connector,
    functionEnv: local.env,
    emulatorEnv: stack.emulators.env,
    storageEndpoint,
    hosts,
    nice: NICE,
  });
  try {
    const runOpts = { project: stack.projectId, connector: local.connector, hosts: backfill, kill: false };
    await runRemoteBackfill(warm, { ...runOpts, reimport: false });
    const warmed = () => server.accepted().filter((a) => a.messageId.startsWith(`warm-${hosts}-`)).length;
    const warmUntil = Date.now() + 120_000;
    while (warmed() < hosts * WARM_EVENTS && Date.now() < warmUntil) await new Promise((r) => setTimeout(r, 200));
    const probe = startLiveProbe(local, { tag: `during-${hosts}` });
    const started = Date.now();
    const run = await runRemoteBackfill(plan, { ...runOpts, reimport: receipts > 1 });
    const until = Date.now() + 300_000;
    while (backfilled() < target && Date.now() < until) await new Promise((r) => setTimeout(r, 200));
    const delivered = (Date.now() - started) / 1000;
    const live = await settleLatency(probe, () => server.accepted(), 30_000);
    const s = run.summary;
    const result: Phase = {
      hosts,
      seconds: run.seconds,
      filesPerSec: s.done / run.seconds,
      eventsPerSec: s.published / run.seconds,
      deliveredEventsPerSec: Math.min(backfilled() - (receipts - 1) * FILES * PER_FILE, FILES * PER_FILE) / delivered,
      live,
      reconciled: s.reconciled && backfilled() >= target,
    };
    console.log(
      `${hosts} host(s): ${s.done} files in ${run.seconds.toFixed(1)} s = ${result.filesPerSec.toFixed(2)} files/s, ` +
        `${Math.round(result.eventsPerSec)} events/s imported, ${Math.round(result.deliveredEventsPerSec)} events/s ` +
        `delivered; live p50 ${live.p50Ms} ms, p99 ${live.p99Ms} ms (${live.delivered}/${live.sent})` +
        `${result.reconciled ? '' : ' NOT reconciled'}`,
    );
    return result;
  } finally {
    await backfill.stop();
  }
}

async function main(): Promise<void> {
  const environment = benchEnvironment('backfill', { events: ['email'], storage: { bucket: BUCKET, prefix: 'braze' } });
  const connector = environment.connectors[0]!;
  const emulators = await startEmulators({ projectId: environment.project });
  Object.assign(process.env, emulators.env);
  const storageProcess = await startStorageProcess(BUCKET);
  const stack = await startLocalStack({
    environment,
    emulators,
    recordCalls: false,
    provision: { minimumBackoffSeconds: 1, maximumBackoffSeconds: 5 },
  });
  const importer = new ConnectorImporter({
    project: environment.project,
    connector,
    apiEndpoint: storageProcess.apiEndpoint,
  });
  try {
    const storage = new Storage({ apiEndpoint: storageProcess.apiEndpoint, projectId: environment.project });
    const dir = mkdtempSync(join(tmpdir(), 'currents-bench-backfill-'));
    const hour = new Date(Date.UTC(2026, 10, 1, 0));
    for (let i = 0; i < FILES; i++) {
      const type = TYPES[i % TYPES.length]!;
      const path = join(dir, `${i}.avro`);
      await writeLargeAvroFile(path, type, PER_FILE, { idPrefix: `bf-${i}` });
      const name = brazeObjectName({ prefix: 'braze', eventType: type, hour, file: `f-${i}` });
      await storage.bucket(BUCKET).upload(path, { destination: name, resumable: false });
    }
    const hourPlan = (h: Date) =>
      planImport(importer, { bucket: BUCKET, prefix: 'braze', from: h, to: new Date(h.getTime() + 3_600_000) });
    // Warm-up files: one per host of each phase, each phase its own hour.
    const warmHours = [1, HOSTS].map((n, k) => ({ n, hour: new Date(hour.getTime() + (k + 1) * 3_600_000) }));
    for (const { n, hour: h } of warmHours) {
      for (let i = 0; i < n; i++) {
        const path = join(dir, `warm-${n}-${i}.avro`);
        const type = TYPES[i % TYPES.length]!;
        await writeLargeAvroFile(path, type, WARM_EVENTS, { idPrefix: `warm-${n}-${i}` });
        const name = brazeObjectName({ prefix: 'braze', eventType: type, hour: h, file: `w-${i}` });
        await storage.bucket(BUCKET).upload(path, { destination: name, resumable: false });
      }
    }
    const plan = await hourPlan(hour);
    const [warmOne, warmMany] = await Promise.all(warmHours.map((w) => hourPlan(w.hour)));
    console.log(
      `${plan.files.length} files × ${PER_FILE} events; live events: 20 per message, 10 messages/s; backfill processes at nice ${NICE}`,
    );
    const local = stack.connectors[0]!;
    const server = stack.servers[local.connector.segment.region];
    await settleLatency(startLiveProbe(local, { tag: 'warm' }), () => server.accepted(), 30_000); // warm-up, not measured
    const warm = startLiveProbe(local, { tag: 'without' });
    await new Promise((r) => setTimeout(r, LIVE_MS));
    const without = await settleLatency(warm, () => server.accepted(), 30_000);
    console.log(
      `no backfill: live p50 ${without.p50Ms} ms, p99 ${without.p99Ms} ms (${without.delivered}/${without.sent})`,
    );
    const one = await phase(stack, plan, warmOne!, 1, 1, storageProcess.apiEndpoint);
    const many = await phase(stack, plan, warmMany!, HOSTS, 2, storageProcess.apiEndpoint);
    const estimate = backfillEstimate(connector, 1e9, one.eventsPerSec);
    console.log(
      `a billion events at the defaults (backfill.maxInstances ${connector.backfill.maxInstances}, importers ` +
        `${connector.backfill.importers}), from the 1-host rate: ${estimate.hours.toFixed(1)} h at ` +
        `${estimate.eventsPerSec} events/s (limited by the ${estimate.limitedBy}; ${estimate.segmentRequestsPerSec} ` +
        `Segment requests/s), about $${estimate.costUsd.toFixed(0)}`,
    );
    const r1 = (n: number) => Math.round(n * 10) / 10;
    console.log(
      JSON.stringify({
        bench: 'backfill',
        eventsPerSec: Math.round(many.eventsPerSec),
        filesPerSec: r1(many.filesPerSec),
        hosts: HOSTS,
        eventsPerSecOneHost: Math.round(one.eventsPerSec),
        filesPerSecOneHost: r1(one.filesPerSec),
        deliveredEventsPerSec: Math.round(many.deliveredEventsPerSec),
        deliveredEventsPerSecOneHost: Math.round(one.deliveredEventsPerSec),
        liveP50Ms: many.live.p50Ms,
        liveP99Ms: many.live.p99Ms,
        liveP50MsWithoutBackfill: without.p50Ms,
        liveP99MsWithoutBackfill: without.p99Ms,
        liveP99Ratio: Math.round((many.live.p99Ms / without.p99Ms) * 100) / 100,
        liveP99MsOneHost: one.live.p99Ms,
        liveP99RatioOneHost: Math.round((one.live.p99Ms / without.p99Ms) * 100) / 100,
        backfillNice: NICE,
        files: FILES,
        eventsPerFile: PER_FILE,
        reconciled: one.reconciled && many.reconciled,
        billionEventHours: r1(estimate.hours),
        billionEventUsd: Math.round(estimate.costUsd),
      }),
    );
  } finally {
    await importer.close();
    await stack.stop();
    storageProcess.stop();
    await emulators.stop();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
