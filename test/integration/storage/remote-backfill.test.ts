/**
 * `currents import --remote` against the local stand-ins of its deployed path (local/backfill-hosts.ts): the files of a
 * period are handed to two backfill importer hosts (the deployed importer's code, CURRENTS_IMPORTER_ROLE=backfill) as
 * notification-shaped messages; their events travel the backfill topic to the backfill function host and reach the
 * local Segment server; progress is read from Firestore. A run stopped part-way resumes without handing a finished
 * file off again; `--reimport` imports every file exactly once more, also across a stop and a resume; a host killed
 * mid-file is replaced by another that resumes the file.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Storage } from '@google-cloud/storage';
import { main } from '../../../cli/main';
import { planImport, type ImportPlan } from '../../../cli/commands/import';
import { cloudRemotePorts, runRemoteImport, type RemoteHooks } from '../../../cli/ops/backfill-remote';
import { avroFile, fieldsFor, toRecord } from '../../../local/avro-export';
import { startBackfillHosts, type BackfillHosts } from '../../../local/backfill-hosts';
import { runRemoteBackfill } from '../../../local/backfill-remote';
import { emulatorsFromEnv } from '../../../local/emulators';
import { runStorageLocal } from '../../../local/storage-run';
import { sampleEvent } from '../../../common/samples';
import { startStorageServer, type LocalStorageServer } from '../../../local/storage-server';
import { ConnectorImporter } from '../../../runtime/storage/importer';
import { brazeObjectName } from '../../../runtime/storage/paths';
import { CONNECTOR, connectorDefinition, startFixture, type Fixture } from '../../support/function/fixture';

const STORAGE = { bucket: 'remote-export', prefix: 'braze' };
const TYPES = ['Send', 'Delivery', 'Open', 'Click', 'Bounce', 'SoftBounce'].map((t) => `users.messages.email.${t}`);
let f: Fixture;
let gcs: LocalStorageServer;
let hosts: BackfillHosts;
let importer: ConnectorImporter;

beforeAll(async () => {
  f = await startFixture({ connector: { events: ['email'], storage: STORAGE } });
  gcs = await startStorageServer();
  gcs.createBucket(STORAGE.bucket);
  const local = f.stack.connector(CONNECTOR);
  hosts = await startBackfillHosts({
    pubsub: f.pubsub,
    environment: { name: 'test', project: f.projectId },
    connector: local.connector,
    functionEnv: local.env,
    emulatorEnv: f.stack.emulators.env,
    storageEndpoint: gcs.apiEndpoint,
    hosts: 2,
    leaseMs: 2000,
  });
  importer = new ConnectorImporter({ project: f.projectId, connector: local.connector, apiEndpoint: gcs.apiEndpoint });
}, 120_000);

afterAll(async () => {
  await importer?.close();
  await hosts?.stop();
  await gcs?.close();
  await f?.stop();
});

/** Writes one file per type of `perFile` events for `hour`; returns the plan of that hour and the events' ids. */
async function writeHour(hour: Date, perFile: number, tag: string): Promise<{ plan: ImportPlan; ids: string[] }> {
  const storage = new Storage({ apiEndpoint: gcs.apiEndpoint, projectId: f.projectId });
  const ids: string[] = [];
  for (const [n, type] of TYPES.entries()) {
    const fields = fieldsFor(type);
    const events = Array.from({ length: perFile }, (_, i) => {
      ids.push(`${tag}-${n}-${i}`);
      return toRecord(fields, sampleEvent(type, { id: `${tag}-${n}-${i}` }, i + 1));
    });
    const name = brazeObjectName({ prefix: STORAGE.prefix, eventType: type, hour, file: `${tag}-${n}` });
    await storage
      .bucket(STORAGE.bucket)
      .file(name)
      .save(await avroFile(type, events), { resumable: false });
  }
  const plan = await planImport(importer, {
    ...STORAGE,
    from: hour,
    to: new Date(hour.getTime() + 3_600_000),
  });
  return { plan, ids };
}

async function remote(plan: ImportPlan, hooks: RemoteHooks) {
  const ports = await cloudRemotePorts({ project: f.projectId, connector: CONNECTOR });
  try {
    return await runRemoteImport(plan, ports, { window: 2, pollMs: 100, ...hooks });
  } finally {
    await ports.close();
  }
}

/** Receipts of each id at the Segment server, once every id has arrived `times` times (or 60 s passed). */
async function receipts(ids: readonly string[], times: number): Promise<number[]> {
  const server = f.stack.servers.eu;
  const read = () => {
    const by = new Map(server.accepted().map((a) => [a.messageId, a.receipts]));
    return ids.map((id) => by.get(id) ?? 0);
  };
  const deadline = Date.now() + 60_000;
  while (read().some((n) => n < times) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
  await new Promise((r) => setTimeout(r, 500)); // anything sent once more would show now
  return read();
}

it('stops handing files off when asked, and the same run resumes without sending a finished file again', async () => {
  const { plan, ids } = await writeHour(new Date(Date.UTC(2026, 10, 2, 5)), 150, 'resume');
  let settled = 0;
  const first = await remote(plan, { stopped: () => settled >= 1, onFile: () => settled++ });
  expect(first.interrupted).toBe(true);
  expect(first.done).toBeGreaterThanOrEqual(1);
  expect(first.done).toBeLessThan(TYPES.length);
  const runs: boolean[] = [];
  const second = await remote(plan, { onRun: (r) => runs.push(r.resumed) });
  expect(runs).toEqual([true]);
  expect(second.runId).toBe(first.runId);
  expect(second).toMatchObject({ interrupted: false, reconciled: true, failed: [], busy: [] });
  expect(second.done + second.alreadyDone).toBe(TYPES.length);
  expect(second.alreadyDone).toBeGreaterThanOrEqual(first.done);
  expect(second.records).toBe(second.published + second.resumed);
  // Every event reached Segment once: no file was imported twice.
  expect(new Set(await receipts(ids, 1))).toEqual(new Set([1]));
  // A finished run is not resumed: the same command starts a new one, which finds every file done.
  const again = await remote(plan, {});
  expect(again).toMatchObject({ done: 0, alreadyDone: TYPES.length, reconciled: true });
}, 180_000);

it('--reimport imports every file exactly once more, also across a stop and a resume', async () => {
  const { plan, ids } = await writeHour(new Date(Date.UTC(2026, 10, 2, 6)), 100, 'again');
  const once = await remote(plan, {});
  expect(once).toMatchObject({ done: TYPES.length, reconciled: true });
  expect(new Set(await receipts(ids, 1))).toEqual(new Set([1]));
  let settled = 0;
  const first = await remote(plan, { reimport: true, stopped: () => settled >= 2, onFile: () => settled++ });
  expect(first.interrupted).toBe(true);
  const second = await remote(plan, { reimport: true });
  expect(second).toMatchObject({ interrupted: false, reconciled: true });
  expect(second.done + second.alreadyDone).toBe(TYPES.length);
  expect(new Set(await receipts(ids, 2))).toEqual(new Set([2]));
}, 180_000);

it('currents import --remote hands the period off and prints the reconciled summary from Firestore', async () => {
  const hour = new Date(Date.UTC(2026, 10, 2, 8));
  const { ids } = await writeHour(hour, 50, 'cli');
  const definitions = join(mkdtempSync(join(tmpdir(), 'currents-remote-')), 'index.json');
  const connector = connectorDefinition({ events: ['email'], storage: STORAGE, backfill: { importers: 2 } });
  writeFileSync(
    definitions,
    JSON.stringify([{ name: 'test', project: f.projectId, region: 'europe-west1', connectors: [connector] }]),
  );
  const out: string[] = [];
  const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out.push(String(chunk));
    return true;
  });
  let code: number;
  try {
    const period = ['--from', '2026-11-02T08', '--to', '2026-11-02T09', '--storage-endpoint', gcs.apiEndpoint];
    code = await main([
      'import',
      '--env',
      'test',
      '--connector',
      CONNECTOR,
      ...period,
      '--remote',
      '--json',
      definitions,
    ]);
  } finally {
    spy.mockRestore();
  }
  const summary = JSON.parse(out.filter((l) => l.startsWith('{')).pop()!) as Record<string, unknown>;
  expect(code).toBe(0);
  expect(summary).toMatchObject({ done: TYPES.length, reconciled: true, interrupted: false, records: ids.length });
  expect(new Set(await receipts(ids, 1))).toEqual(new Set([1]));
}, 180_000);

it('a host killed mid-file is replaced: another resumes the file, and only its events may arrive twice', async () => {
  const hour = new Date(Date.UTC(2026, 10, 2, 7));
  const { plan, ids } = await writeHour(hour, 3000, 'kill');
  const result = await runRemoteBackfill(plan, {
    project: f.projectId,
    connector: f.stack.connector(CONNECTOR).connector,
    hosts,
    reimport: false,
    kill: true,
  });
  expect(result.killed).toBeDefined();
  expect(hosts.importers[result.killed!.host]!.exited).toBe(true);
  expect(result.summary).toMatchObject({ interrupted: false, reconciled: true, done: TYPES.length, failed: [] });
  const counts = await receipts(ids, 1);
  expect(counts.every((n) => n >= 1)).toBe(true);
  const killedFile = /event_type=([^/]+)/.exec(result.killed!.object)![1]!;
  const twice = ids.filter((_, i) => counts[i]! > 1);
  expect(twice.every((id) => id.startsWith(`kill-${TYPES.indexOf(killedFile)}-`))).toBe(true);
}, 240_000);

it('npm start -- --scenario backfill --remote: hosts share the dropped hour, one is killed, the run reconciles', async () => {
  const definitions = join(mkdtempSync(join(tmpdir(), 'currents-scenario-')), 'index.json');
  const projectId = `sc-${Date.now().toString(36)}`;
  const connectors = [
    // The scenario's expiry goes through the write-key source check (segment.sourceId).
    connectorDefinition({
      name: 'victim',
      events: ['email'],
      segment: { region: 'eu', credential: { kind: 'writeKey' }, sourceId: 'src_victim' },
      storage: { bucket: 'scenario-export', prefix: 'v' },
    }),
  ];
  writeFileSync(definitions, JSON.stringify([{ name: 'scn', project: projectId, region: 'europe-west1', connectors }]));
  const lines: string[] = [];
  const run = await runStorageLocal({
    env: 'scn',
    events: 300,
    definitions,
    timeoutSeconds: 90,
    out: (l) => lines.push(l),
    emulators: emulatorsFromEnv(),
    projectId,
    scenario: 'backfill',
    remote: { hosts: 2 },
  });
  try {
    expect(run.summaries).toHaveLength(1);
    expect(run.summaries[0]).toMatchObject({ reconciled: true, unexpected: 0 });
    expect(run.summaries[0]!.dropped).toBe(run.summaries[0]!.expectedDelivered);
    const remote = run.remote!;
    expect(remote.result.summary).toMatchObject({ reconciled: true, interrupted: false });
    expect(remote.live.without.delivered).toBe(remote.live.without.sent);
    expect(remote.live.during.delivered).toBe(remote.live.during.sent);
    const text = lines.join('\n');
    expect(text).toMatch(/live events: without a backfill p50 \d+ ms, p99 \d+ ms .* p99 ratio [\d.]+/);
    expect(text).toMatch(
      /received twice by Segment \(deduplicated on messageId\): (0 event\(s\)|\d+ event\(s\), all of the file in flight at the kill)/,
    );
    expect(text).toContain('Reconciled (storage export).');
  } finally {
    await run.live.close();
    await run.server.close();
    await run.stack.stop();
  }
}, 300_000);
