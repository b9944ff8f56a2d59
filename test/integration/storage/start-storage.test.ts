/**
 * `npm start -- --source storage`, in process: the example environment's sample feed written as Avro files into the
 * local Cloud Storage stand-in, imported live, delivered by the functions and reconciled; then a file anyone uploads
 * later under a connector's prefix (the real client, a simple upload) is imported live too.
 */
import { randomBytes } from 'node:crypto';
import { Storage } from '@google-cloud/storage';
import { avroFile, fieldsFor, toRecord } from '../../../local/avro-export';
import { emulatorsFromEnv } from '../../../local/emulators';
import { runStorageLocal, storageReady, takeSource } from '../../../local/storage-run';
import { sampleEvent } from '../../../common/samples';
import { brazeObjectName } from '../../../runtime/storage/paths';

it('takes --source out of the arguments', () => {
  expect(takeSource(['--events', '5', '--source', 'storage'])).toEqual({ source: 'storage', rest: ['--events', '5'] });
  expect(takeSource(['--source=http'])).toEqual({ source: 'http', rest: [] });
  expect(() => takeSource(['--source', 'ftp'])).toThrow(/--source must be http or storage/);
});

it('reconciles the sample feed through the storage export, and imports later uploads live', async () => {
  const lines: string[] = [];
  const run = await runStorageLocal({
    env: 'dev',
    events: 400,
    timeoutSeconds: 60,
    out: (l) => lines.push(l),
    emulators: emulatorsFromEnv(),
    projectId: `st-${randomBytes(4).toString('hex')}`,
  });
  try {
    expect(run.summaries.length).toBeGreaterThan(0);
    for (const s of run.summaries) {
      expect(s).toMatchObject({ reconciled: true, unexpected: 0 });
      expect(s.delivered).toBe(s.expectedDelivered);
      expect(s.files.imported).toBeGreaterThan(0);
    }
    expect(lines.join('\n')).toContain('Reconciled (storage export).');

    const local = run.stack.connectors[0]!;
    const { storage: where, connectorStorage } = storageReady(run.server, [local.connector]);
    const target = connectorStorage[local.connector.name]!;
    expect(local.connector.events).toContain('email'); // the example environment's first connector
    const type = 'users.messages.email.Delivery';
    const fields = fieldsFor(type);
    const events = Array.from({ length: 25 }, (_, i) =>
      toRecord(fields, sampleEvent(type, { id: `later-${i}` }, i + 99)),
    );
    const storage = new Storage({ apiEndpoint: where.apiEndpoint, projectId: run.stack.projectId });
    const name = brazeObjectName({ prefix: target.prefix, eventType: type, hour: new Date(), file: 'later' });
    await storage
      .bucket(target.bucket)
      .file(name)
      .save(await avroFile(type, events), { resumable: false });
    await run.live.idle();
    // Every connector on the bucket is notified; the others ignore an object outside their prefix.
    const forConnector = run.live.results.filter((r) => r.object === name && r.connector === local.connector.name);
    expect(forConnector.map((r) => r.result?.status)).toEqual(['done']);
    const server = run.stack.servers[local.connector.segment.region];
    const deadline = Date.now() + 30_000;
    const delivered = () => {
      const got = new Set(server.accepted().map((a) => a.messageId));
      return events.every((e) => got.has(e.id as string));
    };
    while (!delivered() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(delivered()).toBe(true);
  } finally {
    await run.live.close();
    await run.server.close();
    await run.stack.stop();
  }
}, 120_000);

it('--scenario backfill: events dropped while expired are delivered by the backfill', async () => {
  expect(takeSource(['--scenario', 'backfill', '--events', '9'])).toEqual({
    source: 'storage',
    rest: ['--events', '9'],
    scenario: 'backfill',
  });
  const lines: string[] = [];
  const run = await runStorageLocal({
    env: 'dev',
    events: 300,
    timeoutSeconds: 60,
    out: (l) => lines.push(l),
    emulators: emulatorsFromEnv(),
    projectId: `bf-${randomBytes(4).toString('hex')}`,
    scenario: 'backfill',
  });
  try {
    const victim = run.summaries[0]!;
    // Every event meant for Segment was first dropped (expired), then delivered by the backfill.
    expect(victim.dropped).toBe(victim.expectedDelivered);
    expect(victim.delivered).toBe(victim.expectedDelivered);
    expect(run.summaries.every((s) => s.reconciled)).toBe(true);
    expect(lines.join('\n')).toMatch(/backfill: \d+ file\(s\), \d+ event\(s\) published \(reconciled\)/);
  } finally {
    await run.live.close();
    await run.server.close();
    await run.stack.stop();
  }
}, 120_000);
