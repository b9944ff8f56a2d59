/**
 * `currents import` end to end: a period of Braze-style files in the local Cloud Storage stand-in (uploaded with the
 * real client) is listed (types, period, sizes), imported into the connector (emulators, function, local Segment
 * server) and reconciled; a second run reads nothing again.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Storage } from '@google-cloud/storage';
import { main } from '../../../cli/main';
import { avroFile, fieldsFor, toRecord } from '../../../local/avro-export';
import { startStorageServer, type LocalStorageServer } from '../../../local/storage-server';
import { sampleEvent } from '../../../common/samples';
import { brazeObjectName } from '../../../runtime/storage/paths';
import { CONNECTOR, connectorDefinition, startFixture, type Fixture } from '../../support/function/fixture';

const BUCKET = 'braze-backfill';
const PREFIX = 'exports/currents';
const STORAGE = { bucket: BUCKET, prefix: PREFIX };

let f: Fixture;
let gcs: LocalStorageServer;
let definitions: string;

beforeAll(async () => {
  f = await startFixture({ connector: { events: ['email'], storage: STORAGE } });
  gcs = await startStorageServer({ buckets: [BUCKET] });
  const dir = mkdtempSync(join(tmpdir(), 'currents-import-'));
  definitions = join(dir, 'index.json');
  writeFileSync(
    definitions,
    JSON.stringify([
      {
        name: 'test',
        project: f.projectId,
        region: 'europe-west1',
        connectors: [connectorDefinition({ events: ['email'], storage: STORAGE })],
      },
    ]),
  );
}, 60_000);

afterAll(async () => {
  await gcs?.close();
  await f?.stop();
});

async function cli(args: string[]): Promise<{ code: number; out: string[] }> {
  const out: string[] = [];
  const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out.push(String(chunk));
    return true;
  });
  try {
    const code = await main(['import', '--env', 'test', '--connector', CONNECTOR, ...args, definitions]);
    return { code, out };
  } finally {
    spy.mockRestore();
  }
}

const period = ['--from', '2026-11-01T00', '--to', '2026-11-03T00', '--storage-endpoint', '', '--json'];

it('lists the period, imports it, reconciles, and a second run reads nothing again', async () => {
  const storage = new Storage({ apiEndpoint: gcs.apiEndpoint, projectId: f.projectId });
  const put = async (type: string, hour: Date, file: string, n: number) => {
    const fields = fieldsFor(type);
    const events = Array.from({ length: n }, (_, i) =>
      toRecord(fields, sampleEvent(type, { id: `${file}-${i}` }, i + 7)),
    );
    const name = brazeObjectName({ prefix: PREFIX, eventType: type, hour, file });
    await storage
      .bucket(BUCKET)
      .file(name)
      .save(await avroFile(type, events), { resumable: false });
    return events.map((e) => e.id as string);
  };
  const inPeriod = [
    ...(await put('users.messages.email.Send', new Date(Date.UTC(2026, 10, 1, 0)), 'send-1', 400)),
    ...(await put('users.messages.email.Delivery', new Date(Date.UTC(2026, 10, 2, 23)), 'delivery-1', 250)),
  ];
  const outside = await put('users.messages.email.Send', new Date(Date.UTC(2026, 10, 3, 0)), 'send-late', 30);
  await put('users.canvas.Entry', new Date(Date.UTC(2026, 10, 1, 5)), 'canvas-1', 20);
  await put('users.behaviors.Uninstall', new Date(Date.UTC(2026, 10, 1, 6)), 'u', 5);
  period[period.indexOf('--storage-endpoint') + 1] = gcs.apiEndpoint;

  const dry = await cli([...period, '--dry-run']);
  expect(dry.code).toBe(0);
  const plan = JSON.parse(dry.out.join('').trim().split('\n').pop()!) as Record<string, unknown>;
  expect(plan).toMatchObject({ dryRun: true, files: 2, bucket: BUCKET, prefix: PREFIX, skipped: { not_selected: 2 } });
  expect(Object.keys(plan.byType as object).sort()).toEqual([
    'users.messages.email.Delivery',
    'users.messages.email.Send',
  ]);
  expect(gcs.stats.mediaBytes).toBe(0);

  const first = await cli(period);
  expect(first.code).toBe(0);
  const summary = JSON.parse(first.out.join('').trim().split('\n').pop()!) as Record<string, unknown>;
  expect(summary).toMatchObject({
    done: 2,
    alreadyDone: 0,
    records: 650,
    published: 650,
    resumed: 0,
    reconciled: true,
  });
  expect(
    await f.waitFor(() => {
      const got = new Set(f.stack.servers.eu.accepted().map((a) => a.messageId));
      return inPeriod.every((id) => got.has(id));
    }, 30_000),
  ).toBe(true);
  const got = new Set(f.stack.servers.eu.accepted().map((a) => a.messageId));
  expect(outside.some((id) => got.has(id))).toBe(false);

  const bytesAfterFirst = gcs.stats.mediaBytes;
  const second = await cli(period);
  expect(second.code).toBe(0);
  expect(JSON.parse(second.out.join('').trim().split('\n').pop()!)).toMatchObject({
    done: 0,
    alreadyDone: 2,
    published: 0,
    reconciled: true,
  });
  expect(gcs.stats.mediaBytes).toBe(bytesAfterFirst);

  // --reimport (recovering events dropped after they were imported): finished files are read and published again;
  // Segment deduplicates on messageId, so nothing is accepted twice.
  const unique = f.stack.servers.eu.stats().acceptedUnique;
  const third = await cli([...period, '--reimport']);
  expect(third.code).toBe(0);
  expect(JSON.parse(third.out.join('').trim().split('\n').pop()!)).toMatchObject({
    done: 2,
    alreadyDone: 0,
    published: 650,
    reconciled: true,
  });
  expect(
    await f.waitFor(() => {
      const receipts = new Map(f.stack.servers.eu.accepted().map((a) => [a.messageId, a.receipts]));
      return inPeriod.every((id) => (receipts.get(id) ?? 0) >= 2);
    }, 30_000),
  ).toBe(true);
  expect(f.stack.servers.eu.stats().acceptedUnique).toBe(unique);
});

it('refuses an hour that does not exist, naming the option', async () => {
  const errors: string[] = [];
  const spy = jest.spyOn(console, 'error').mockImplementation((m: string) => void errors.push(m));
  try {
    const code = await main([
      'import',
      '--env',
      'test',
      '--connector',
      CONNECTOR,
      '--from',
      '2026-11-31T00',
      '--to',
      '2026-12-01T00',
      definitions,
    ]);
    expect(code).toBe(2);
    expect(errors.join('\n')).toMatch(/--from must be an hour in UTC/);
  } finally {
    spy.mockRestore();
  }
});
