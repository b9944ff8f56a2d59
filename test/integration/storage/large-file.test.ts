/**
 * A 200,000-record file is imported with flat memory: the reader holds one block, the importer a few chunks in flight.
 * The peak of heap + array buffers (sampled while importing; process.memoryUsage, not timed) for 200,000 records stays
 * close to the peak for 20,000 records, far below the file's decoded size. Every record is published once, in order.
 */
import { createReadStream, mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeLargeAvroFile } from '../../../local/avro-export';
import { importObject } from '../../../runtime/storage/import-object';
import { FirestoreProgressStore } from '../../../runtime/storage/progress';

const TYPE = 'users.messages.email.Open';
const dir = mkdtempSync(join(tmpdir(), 'currents-large-'));
const progress = new FirestoreProgressStore({ projectId: 'currents-test', databaseId: 'large-file-test' });

afterAll(() => progress.close());

async function importMeasured(
  records: number,
): Promise<{ peakMB: number; baseMB: number; published: number; decodedMB: number; fileMB: number }> {
  const path = join(dir, `${records}.avro`);
  await writeLargeAvroFile(path, TYPE, records, { codec: 'deflate', idPrefix: `r${records}` });
  const used = () => {
    const m = process.memoryUsage();
    return (m.heapUsed + m.arrayBuffers) / 1e6;
  };
  await new Promise((r) => setTimeout(r, 50));
  const baseMB = used();
  let peakMB = baseMB;
  const timer = setInterval(() => (peakMB = Math.max(peakMB, used())), 2);
  let published = 0;
  let decodedBytes = 0;
  let next = 0;
  let inOrder = true;
  try {
    const result = await importObject(
      { bucket: 'local-disk', name: `large/event_type=${TYPE}/date=2026-11-01-00/${records}.avro`, generation: '1' },
      {
        read: () => createReadStream(path, { highWaterMark: 64 * 1024 }),
        publish: async (data) => {
          decodedBytes += data.length;
          const batch = JSON.parse(data.toString()) as Array<{ id: string }>;
          for (const e of batch) if (e.id !== `r${records}-${next++}`) inOrder = false;
          published += batch.length;
          peakMB = Math.max(peakMB, used());
          await new Promise((r) => setImmediate(r));
        },
        progress,
      },
      { selected: new Set([TYPE]) },
    );
    expect(result).toMatchObject({ status: 'done', records, published: records });
  } finally {
    clearInterval(timer);
  }
  expect(inOrder).toBe(true);
  return { peakMB, baseMB, published, decodedMB: decodedBytes / 1e6, fileMB: statSync(path).size / 1e6 };
}

it('imports 200,000 records with the memory it needs for 20,000', async () => {
  const small = await importMeasured(20_000);
  const large = await importMeasured(200_000);
  const growth = (m: typeof small) => m.peakMB - m.baseMB;
  console.log(
    `20,000 records: +${growth(small).toFixed(1)} MB peak; 200,000 records: +${growth(large).toFixed(1)} MB peak ` +
      `(file ${large.fileMB.toFixed(1)} MB, decoded JSON ${large.decodedMB.toFixed(0)} MB)`,
  );
  expect(large.published).toBe(200_000);
  // Flat: ten times the records, not ten times the memory; and far below what holding the records would take.
  expect(growth(large)).toBeLessThan(growth(small) * 2 + 24);
  expect(growth(large)).toBeLessThan(large.decodedMB / 2);
}, 60_000);
