/**
 * The live import as a bucket notification drives it: objects written with the real client (simple uploads) into the
 * local Cloud Storage stand-in are handed, as notification push bodies, to the importer's handler (the deployed
 * function's code); their events reach the local Segment server through the connector's function. A redelivered
 * notification does not import a finished file again; other objects are acknowledged and ignored with a reason.
 */
import { Storage } from '@google-cloud/storage';
import { avroFile, fieldsFor, toRecord } from '../../../local/avro-export';
import { startFunctionHost } from '../../../local/function-host';
import { startLiveImport, type LiveImport } from '../../../local/storage-import';
import { importerEnvironment } from '../../../shared/runtime-config';
import { startStorageServer, type LocalStorageServer } from '../../../local/storage-server';
import { sampleEvent } from '../../../common/samples';
import { createLogger } from '../../../runtime/log';
import { handleNotification } from '../../../runtime/storage/handler';
import { ConnectorImporter } from '../../../runtime/storage/importer';
import { notificationBody, parseNotification } from '../../../runtime/storage/notification';
import { brazeObjectName } from '../../../runtime/storage/paths';
import { CONNECTOR, startFixture, type Fixture } from '../../support/function/fixture';

const STORAGE = { bucket: 'live-export', prefix: 'braze' };
let f: Fixture;
let gcs: LocalStorageServer;
let live: LiveImport;
const lines: string[] = [];

beforeAll(async () => {
  f = await startFixture({ connector: { events: ['email'], storage: STORAGE } });
  gcs = await startStorageServer();
  live = startLiveImport({
    server: gcs,
    project: f.projectId,
    connectors: [f.stack.connector(CONNECTOR).connector],
    sink: (l) => lines.push(l),
    retryMs: 100,
  });
}, 60_000);

afterAll(async () => {
  await live?.close();
  await gcs?.close();
  await f?.stop();
});

describe('notification bodies', () => {
  const obj = {
    bucket: STORAGE.bucket,
    name: 'braze/x/event_type=users.messages.email.Send/date=2026-11-01-00/1/z/a.avro',
    generation: '7',
    size: 12,
  };
  it('reads a finished object under the prefix', () => {
    expect(parseNotification(notificationBody(obj), STORAGE)).toEqual({ object: obj });
  });
  it.each([
    [
      {
        ...notificationBody(obj),
        message: { attributes: { ...notificationBody(obj).message.attributes, eventType: 'OBJECT_DELETE' } },
      },
      /not OBJECT_FINALIZE/,
    ],
    [notificationBody({ ...obj, bucket: 'other' }), /not the connector's/],
    [notificationBody({ ...obj, name: 'elsewhere/a.avro' }), /not under the prefix/],
    [notificationBody({ ...obj, name: 'braze/readme.txt' }), /not an \.avro file/],
    [{ hello: 'world' }, /not a Pub\/Sub push body/],
  ])('ignores %#, saying why', (body, reason) => {
    const r = parseNotification(body, STORAGE);
    expect('ignored' in r && r.ignored).toMatch(reason);
  });
});

it('imports each new object as it is written, once; other objects are ignored with a reason', async () => {
  const storage = new Storage({ apiEndpoint: gcs.apiEndpoint, projectId: f.projectId });
  const hour = new Date(Date.UTC(2026, 10, 20, 8));
  const ids: string[] = [];
  const write = async (type: string, file: string, n: number, tag = file) => {
    const fields = fieldsFor(type);
    const events = Array.from({ length: n }, (_, i) =>
      toRecord(fields, sampleEvent(type, { id: `live-${tag}-${i}` }, i + 3)),
    );
    const name = brazeObjectName({ prefix: STORAGE.prefix, eventType: type, hour, file });
    await storage
      .bucket(STORAGE.bucket)
      .file(name)
      .save(await avroFile(type, events), { resumable: false });
    return { name, ids: events.map((e) => e.id as string) };
  };
  const a = await write('users.messages.email.Send', 'a', 300);
  const b = await write('users.messages.email.Bounce', 'b', 120);
  ids.push(...a.ids, ...b.ids);
  const sms = await write('users.messages.sms.Send', 'c', 10);
  await storage.bucket(STORAGE.bucket).file('braze/notes.txt').save('not an export', { resumable: false });
  await storage.bucket(STORAGE.bucket).file('other/x.avro').save(Buffer.from('Obj'), { resumable: false });
  await live.idle();

  const byObject = Object.fromEntries(live.results.map((r) => [r.object, r.result?.status ?? 'ignored']));
  expect(byObject).toEqual({
    [a.name]: 'done',
    [b.name]: 'done',
    [sms.name]: 'skipped',
    'braze/notes.txt': 'ignored',
    'other/x.avro': 'ignored',
  });
  expect(
    await f.waitFor(() => {
      const got = new Set(f.stack.servers.eu.accepted().map((x) => x.messageId));
      return ids.every((id) => got.has(id));
    }, 30_000),
  ).toBe(true);

  // The same notification delivered again: acknowledged, nothing read or published.
  const bytes = gcs.stats.mediaBytes;
  const [m] = await storage.bucket(STORAGE.bucket).file(a.name).getMetadata();
  const importer = new ConnectorImporter({
    project: f.projectId,
    connector: f.stack.connector(CONNECTOR).connector,
    apiEndpoint: gcs.apiEndpoint,
  });
  const again = await handleNotification(
    notificationBody({ bucket: STORAGE.bucket, name: a.name, generation: String(m.generation) }),
    {
      storage: STORAGE,
      import: (o) => importer.import(o),
      logger: createLogger({ connector: CONNECTOR, sink: (l) => lines.push(l) }),
    },
  ).finally(() => importer.close());
  expect(again.status).toBe(204);
  expect(again.result?.status).toBe('already_done');
  expect(gcs.stats.mediaBytes).toBe(bytes);
  const logged = lines.map((l) => JSON.parse(l) as { event: string; status?: string; object?: string });
  expect(
    logged
      .filter((l) => l.event === 'storage_import' && l.status === 'done')
      .map((l) => l.object)
      .sort(),
  ).toEqual([a.name, b.name].sort());
});

it('the deployed entry (functions-framework, target importer) imports a pushed notification', async () => {
  const connector = f.stack.connector(CONNECTOR).connector;
  const importerLines: string[] = [];
  const host = await startFunctionHost({
    serve: 'importer',
    env: {
      ...f.stack.emulators.env,
      ...importerEnvironment({ name: 'test', project: f.projectId }, connector),
      STORAGE_EMULATOR_HOST: gcs.apiEndpoint,
    },
    onLine: (l) => importerLines.push(l),
  });
  try {
    const type = 'users.messages.email.Delivery';
    const fields = fieldsFor(type);
    const events = Array.from({ length: 60 }, (_, i) => toRecord(fields, sampleEvent(type, { id: `ff-${i}` }, i + 5)));
    const name = brazeObjectName({ prefix: STORAGE.prefix, eventType: type, hour: new Date(), file: 'ff' });
    // The local notification wiring is stopped: the push below is the only trigger.
    await live.close();
    const storage = new Storage({ apiEndpoint: gcs.apiEndpoint, projectId: f.projectId });
    await storage
      .bucket(STORAGE.bucket)
      .file(name)
      .save(await avroFile(type, events), { resumable: false });
    const [m] = await storage.bucket(STORAGE.bucket).file(name).getMetadata();
    const push = (body: unknown) =>
      fetch(host.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const body = notificationBody({ bucket: STORAGE.bucket, name, generation: String(m.generation) });
    expect((await push(body)).status).toBe(204);
    expect((await push(body)).status).toBe(204); // redelivered
    expect((await push({ message: { attributes: { eventType: 'OBJECT_DELETE' } } })).status).toBe(204);
    // The host's readiness request (not a push) is acknowledged and ignored too; the log lines arrive on its stdout.
    const logged = () =>
      importerLines
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as { event: string; status?: string; reason?: string })
        .filter((l) => l.event === 'storage_import' && !l.reason?.startsWith('not a Pub/Sub push body'));
    await f.waitFor(() => logged().length >= 3, 10_000);
    // Imported once; the redelivery is acknowledged without a new read; another kind of notification is ignored.
    expect(logged().map((l) => l.status)).toEqual(['done', 'already_done', 'ignored']);
    expect(
      await f.waitFor(() => {
        const got = new Set(f.stack.servers.eu.accepted().map((x) => x.messageId));
        return events.every((e) => got.has(e.id as string));
      }, 30_000),
    ).toBe(true);
  } finally {
    await host.stop();
  }
});
