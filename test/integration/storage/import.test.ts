/**
 * The storage import over real parts: files written the way Braze writes them are uploaded with the real
 * `@google-cloud/storage` client to the local Cloud Storage stand-in (real HTTP), imported into the connector's ingest
 * topic on the Pub/Sub emulator with progress in its Firestore database (emulator), and delivered by the connector's
 * function (functions-framework) to the local Segment server. Checked: every event of a selected type reaches Segment;
 * other types are skipped without reading a byte; a redelivered notification does not import a finished file again; an
 * import cut off mid-file resumes after what was published; a damaged file delivers the records before the damage and
 * is marked failed with its offset; two importers never hold one file at once.
 */
import { Storage } from '@google-cloud/storage';
import { avroFile, fieldsFor, toRecord } from '../../../local/avro-export';
import { startStorageServer, type LocalStorageServer } from '../../../local/storage-server';
import { sampleEvent } from '../../../common/samples';
import { ConnectorImporter } from '../../../runtime/storage/importer';
import { brazeObjectName } from '../../../runtime/storage/paths';
import type { ObjectRef } from '../../../runtime/storage/import-object';
import { FirestoreProgressStore } from '../../../runtime/storage/progress';
import { resourceNames } from '../../../shared/names';
import { CONNECTOR, startFixture, type Fixture } from '../../support/function/fixture';

const BUCKET = 'braze-export';
const PREFIX = 'currents';
const HOUR = new Date(Date.UTC(2026, 10, 2, 5));

let f: Fixture;
let gcs: LocalStorageServer;
let storage: Storage;

beforeAll(async () => {
  f = await startFixture({ connector: { events: ['email', 'canvas'] } });
  gcs = await startStorageServer({ buckets: [BUCKET] });
  storage = new Storage({ apiEndpoint: gcs.apiEndpoint, projectId: f.projectId });
}, 60_000);

afterAll(async () => {
  await gcs?.close();
  await f?.stop();
});

function flatEvents(type: string, n: number, tag: string): Record<string, unknown>[] {
  const fields = fieldsFor(type);
  return Array.from({ length: n }, (_, i) => toRecord(fields, sampleEvent(type, { id: `${tag}-${i}` }, i + 1)));
}

/** Uploads a Braze-style file with the real client (a simple upload) and returns its reference. */
async function upload(type: string, file: string, data: Buffer): Promise<ObjectRef> {
  const name = brazeObjectName({ prefix: PREFIX, eventType: type, hour: HOUR, file });
  await storage.bucket(BUCKET).file(name).save(data, { resumable: false, contentType: 'avro/binary' });
  const [m] = await storage.bucket(BUCKET).file(name).getMetadata();
  return { bucket: BUCKET, name, generation: String(m.generation), size: Number(m.size) };
}

function importer(extra: Partial<ConstructorParameters<typeof ConnectorImporter>[0]> = {}): ConnectorImporter {
  const connector = f.stack.connector(CONNECTOR).connector;
  return new ConnectorImporter({ project: f.projectId, connector, apiEndpoint: gcs.apiEndpoint, ...extra });
}

const acceptedIds = () => new Set(f.stack.servers.eu.accepted().map((a) => a.messageId));
const waitDelivered = (ids: readonly string[]) =>
  f.waitFor(() => {
    const got = acceptedIds();
    return ids.every((id) => got.has(id));
  }, 30_000);

it('imports selected types into Segment, skips the others without reading them, and never reads a finished file again', async () => {
  const clicks = flatEvents('users.messages.email.Click', 1200, 'click');
  const entries = flatEvents('users.canvas.Entry', 300, 'entry');
  const sms = flatEvents('users.messages.sms.Send', 50, 'sms');
  const objects = [
    await upload('users.messages.email.Click', 'a', await avroFile('users.messages.email.Click', clicks)),
    await upload('users.canvas.Entry', 'b', await avroFile('users.canvas.Entry', entries, { codec: 'null' })),
    await upload('users.messages.sms.Send', 'c', await avroFile('users.messages.sms.Send', sms)),
  ];
  const imp = importer({ chunk: { maxEvents: 250, maxBytes: 4_000_000 } });
  try {
    const before = gcs.stats.mediaBytes;
    const results = [];
    for (const o of objects) results.push(await imp.import(o));
    expect(results.map((r) => [r.status, r.records, r.published])).toEqual([
      ['done', 1200, 1200],
      ['done', 300, 300],
      ['skipped', 0, 0],
    ]);
    expect(results[0]!.chunks).toBe(5);
    expect(results[2]!.reason).toBe('not_selected');
    // The skipped file's bytes were never downloaded.
    expect(gcs.stats.mediaBytes - before).toBe(objects[0]!.size! + objects[1]!.size!);
    const delivered = [...clicks, ...entries].map((e) => e.id as string);
    expect(await waitDelivered(delivered)).toBe(true);
    const got = acceptedIds();
    expect(sms.some((e) => got.has(e.id as string))).toBe(false);

    // A redelivered notification: finished files are not read again, nothing is published twice.
    const again = [];
    for (const o of objects) again.push(await imp.import(o));
    expect(again.map((r) => r.status)).toEqual(['already_done', 'already_done', 'skipped']);
    expect(gcs.stats.mediaBytes - before).toBe(objects[0]!.size! + objects[1]!.size!);
    const doc = await imp.progress.get(objects[0]!);
    expect(doc).toMatchObject({
      status: 'done',
      records: 1200,
      recordsPublished: 1200,
      eventType: 'users.messages.email.Click',
    });
  } finally {
    await imp.close();
  }
});

it('an import cut off mid-file resumes after the published records; every event reaches Segment', async () => {
  const type = 'users.messages.email.Open';
  const events = flatEvents(type, 2000, 'resume');
  const obj = await upload(type, 'resume', await avroFile(type, events, { blockSize: 8192 }));
  let published = 0;
  const first = importer({
    chunk: { maxEvents: 100, maxBytes: 4_000_000 },
    inFlight: 2,
    progressIntervalMs: 0,
    publish: async () => {
      // Pub/Sub fails after 7 chunks (as if the importer had lost it mid-file).
      if (published >= 7) throw new Error('Pub/Sub unavailable');
      published++;
      return 'ok';
    },
  });
  await expect(first.import(obj)).rejects.toThrow('Pub/Sub unavailable');
  const after = await first.progress.get(obj);
  await first.close();
  expect(after?.status).toBe('interrupted');
  // Progress only counts the acknowledged prefix.
  expect(after!.recordsPublished).toBeLessThanOrEqual(700);
  expect(after!.recordsPublished % 100).toBe(0);

  const second = importer({ chunk: { maxEvents: 100, maxBytes: 4_000_000 } });
  try {
    const r = await second.import(obj);
    expect(r).toMatchObject({ status: 'done', records: 2000, resumedAfter: after!.recordsPublished });
    expect(r.published).toBe(2000 - after!.recordsPublished);
    // The first attempt's chunks went nowhere (the cut publisher): only the resumed part reaches Segment.
    const ids = events.map((e) => e.id as string);
    expect(await waitDelivered(ids.slice(after!.recordsPublished))).toBe(true);
  } finally {
    await second.close();
  }
});

it('a truncated file: the records before the damage are delivered, the file is marked failed with its offset', async () => {
  const type = 'users.canvas.Entry';
  const events = flatEvents(type, 600, 'trunc');
  const whole = await avroFile(type, events, { codec: 'deflate', blockSize: 4096 });
  const obj = await upload(type, 'trunc', whole.subarray(0, Math.floor(whole.length * 0.7)));
  const imp = importer();
  try {
    const r = await imp.import(obj);
    expect(r.status).toBe('failed');
    expect(r.failure?.detail).toMatch(/truncated/);
    expect(r.records).toBeGreaterThan(0);
    expect(r.published).toBe(r.records);
    const doc = await imp.progress.get(obj);
    expect(doc).toMatchObject({ status: 'failed', recordsPublished: r.records });
    expect(doc!.failure!.offset).toBe(r.failure!.offset);
    expect(await waitDelivered(events.slice(0, r.records).map((e) => e.id as string))).toBe(true);
    // A later attempt does not re-send what was published: it fails at the same place with nothing new.
    const retry = await imp.import(obj);
    expect(retry).toMatchObject({ status: 'failed', published: 0, resumedAfter: r.records });
  } finally {
    await imp.close();
  }
});

it('two importers never hold one file at once; a lease that ran out is taken over', async () => {
  const obj: ObjectRef = { bucket: BUCKET, name: `${PREFIX}/lease-test.avro`, generation: '1' };
  const databaseId = resourceNames(CONNECTOR).firestoreDatabase;
  let now = 1_000_000;
  const a = new FirestoreProgressStore({ projectId: f.projectId, databaseId, now: () => now });
  const b = new FirestoreProgressStore({ projectId: f.projectId, databaseId, now: () => now });
  try {
    const [ra, rb] = await Promise.all([a.begin(obj), b.begin(obj)]);
    expect([ra.action, rb.action].sort()).toEqual(['busy', 'import']);
    const holder = ra.action === 'import' ? a : b;
    const other = holder === a ? b : a;
    await holder.advance(obj, 300);
    expect(await other.begin(obj)).toEqual({ action: 'busy' });
    now += 11 * 60_000;
    expect(await other.begin(obj)).toEqual({ action: 'import', resumeFrom: 300 });
    // A new generation of the object starts afresh.
    expect(await other.begin({ ...obj, generation: '2' })).toEqual({ action: 'import', resumeFrom: 0 });
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
});
