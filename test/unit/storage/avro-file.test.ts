/**
 * The Avro container reader over files written by avsc the way Braze writes them: every exportable type and some
 * non-exportable ones round-trip; a newer writer schema is read as written; null and deflate codecs; damaged and
 * truncated files yield the records before the damage and say where; resuming skips whole blocks.
 */
import { avroFile, brazeSchema, fieldsFor, NON_EXPORTABLE_FIELDS, toRecord } from '../../../local/avro-export';
import { sampleEvent } from '../../../common/samples';
import { AvroFileError, readAvroFile, type AvroHeader } from '../../../runtime/storage/avro-file';
import { typeFromSchemaName } from '../../../runtime/storage/paths';
import { CATALOG } from '../../../shared/catalog';
import { parseFieldList } from '../../../shared/catalog-fields';

async function* bytesOf(buf: Buffer, chunk = 4096): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < buf.length; i += chunk) yield buf.subarray(i, i + chunk);
}

/** Reads the file both ways (objects, and JSON text): the JSON must be exactly what JSON.stringify gives each object. */
async function readAll(buf: Buffer, opts: { chunk?: number; skipRecords?: number } = {}) {
  const read = async (as: 'objects' | 'json') => {
    let header: AvroHeader | undefined;
    const records: unknown[] = [];
    let error: AvroFileError | undefined;
    try {
      for await (const item of readAvroFile(bytesOf(buf, opts.chunk), { skipRecords: opts.skipRecords, as })) {
        if (item.kind === 'header') header = item.header;
        else if (item.kind === 'records') records.push(...item.records);
        else item.ends.forEach((end, i) => records.push(item.json.toString('utf8', item.ends[i - 1] ?? 0, end)));
      }
    } catch (e) {
      if (!(e instanceof AvroFileError)) throw e;
      error = e;
    }
    return { header, records, error };
  };
  const objects = await read('objects');
  const json = await read('json');
  expect(json.records).toEqual(objects.records.map((r) => JSON.stringify(r)));
  // The same damage at the same place (the wording of a corrupt record's detail may differ: avsc's or the transcoder's).
  const where = (e?: AvroFileError) => e && { offset: e.offset, recordsBefore: e.recordsBefore };
  expect(where(json.error)).toEqual(where(objects.error));
  return objects;
}

function events(type: string, n: number, seed = 1): Record<string, unknown>[] {
  const fields = fieldsFor(type);
  return Array.from({ length: n }, (_, i) => {
    if (NON_EXPORTABLE_FIELDS[type]) {
      const out: Record<string, unknown> = {};
      for (const f of fields) {
        out[f.name] =
          f.name === 'time'
            ? 1_790_000_000 + i
            : f.optional
              ? null
              : f.type === 'string'
                ? `${f.name}-${i}`
                : f.type === 'boolean'
                  ? false
                  : f.type === 'int' || f.type === 'long'
                    ? 3
                    : 1.5;
      }
      return out;
    }
    return toRecord(fields, sampleEvent(type, { id: `${type}-${seed}-${i}` }, seed * 1000 + i));
  });
}

const plain = (r: unknown) => JSON.parse(JSON.stringify(r)) as unknown;

describe('round trip', () => {
  const types = [...CATALOG.map((e) => e.type), ...Object.keys(NON_EXPORTABLE_FIELDS)];

  it.each(types.map((t, i) => [t, i % 2 === 0 ? 'deflate' : 'null'] as const))(
    '%s (%s codec) reads back every record and its type from the schema name',
    async (type, codec) => {
      const written = events(type, 40);
      const file = await avroFile(type, written, { codec, blockSize: 2048 });
      const { header, records, error } = await readAll(file, { chunk: 777 });
      expect(error).toBeUndefined();
      expect(header?.codec).toBe(codec);
      expect(typeFromSchemaName(header?.schemaName)).toBe(type);
      expect(records.map(plain)).toEqual(written);
    },
  );
});

describe('newer writer schema', () => {
  it('reads an extra nullable field as written', async () => {
    const type = 'users.messages.email.Click';
    const fields = [...fieldsFor(type), ...parseFieldList('ai_generated:boolean?, new_note:string?')];
    const written = events(type, 10).map((e, i) => ({ ...e, ai_generated: i % 2 === 0 ? true : null, new_note: null }));
    const { records, error } = await readAll(await avroFile(type, written, { fields }));
    expect(error).toBeUndefined();
    expect(records.map(plain)).toEqual(written);
  });

  it('reads a type no catalogue knows, its name from the schema', async () => {
    const type = 'users.messages.hologram.Beam';
    const fields = parseFieldList('id:string, user_id:string, time:int, beam_strength:double?');
    const written = [{ id: 'h1', user_id: 'u1', time: 1_790_000_000, beam_strength: 0.5 }];
    const file = await avroFile(type, written, { fields });
    expect(brazeSchema(type, fields)).toMatchObject({ namespace: 'dataexport.S3.inner.users.messages.hologram' });
    const { header, records } = await readAll(file);
    expect(typeFromSchemaName(header?.schemaName)).toBe(type);
    expect(records.map(plain)).toEqual(written);
  });
});

describe('damaged files', () => {
  const type = 'users.messages.email.Open';
  let file: Buffer;
  let written: Record<string, unknown>[];

  beforeAll(async () => {
    written = events(type, 300);
    file = await avroFile(type, written, { codec: 'null', blockSize: 4096 });
  });

  it('a truncated file yields every complete block, then says where the incomplete one starts', async () => {
    const cut = file.subarray(0, Math.floor(file.length * 0.6));
    const { records, error } = await readAll(cut);
    expect(error).toBeInstanceOf(AvroFileError);
    expect(error!.message).toMatch(
      /truncated file: the last block is incomplete at byte offset \d+ \(after \d+ records\)/,
    );
    expect(records.length).toBeGreaterThan(0);
    expect(records.length).toBe(error!.recordsBefore);
    expect(records.map(plain)).toEqual(written.slice(0, records.length));
    expect(error!.offset).toBeLessThan(cut.length);
    expect(error!.offset).toBeGreaterThan(0);
  });

  it('a file cut inside its header is damaged, not empty', async () => {
    const { records, error } = await readAll(file.subarray(0, 30));
    expect(records).toHaveLength(0);
    expect(error?.detail).toMatch(/header is incomplete/);
  });

  it('a corrupted sync marker stops at that block; the blocks before it are kept', async () => {
    const bad = Buffer.from(file);
    // Two bytes in the middle of the file: a record or a block's sync marker no longer reads.
    const { records: all } = await readAll(file);
    expect(all).toHaveLength(300);
    const mid = Math.floor(file.length / 2);
    bad[mid] = bad[mid]! ^ 0xff;
    bad[mid + 1] = bad[mid + 1]! ^ 0xff;
    const { records, error } = await readAll(bad);
    expect(error).toBeInstanceOf(AvroFileError);
    expect(error!.offset).toBeLessThanOrEqual(mid + 1);
    expect(records.length).toBeLessThan(300);
    // Every record yielded before the damage is intact and in order.
    expect(records.map(plain)).toEqual(written.slice(0, records.length));
  });

  it('a corrupt deflate block is reported with its offset', async () => {
    const deflated = await avroFile(type, written, { codec: 'deflate', blockSize: 4096 });
    const bad = Buffer.from(deflated);
    const at = Math.floor(bad.length * 0.7);
    for (let i = at; i < at + 8; i++) bad[i] = 0;
    const { records, error } = await readAll(bad);
    expect(error).toBeInstanceOf(AvroFileError);
    expect(error!.message).toMatch(/at byte offset \d+/);
    expect(records.map(plain)).toEqual(written.slice(0, records.length));
  });

  it('not an Avro file at all', async () => {
    const { error } = await readAll(Buffer.from('{"id":"not avro"}\n'));
    expect(error?.detail).toMatch(/not an Avro object container file/);
  });
});

describe('resume', () => {
  it('skipRecords leaves out exactly the first records, across block boundaries', async () => {
    const type = 'users.canvas.Entry';
    const written = events(type, 500);
    const file = await avroFile(type, written, { codec: 'deflate', blockSize: 3000 });
    for (const skip of [0, 1, 137, 499, 500]) {
      const { records, error } = await readAll(file, { skipRecords: skip });
      expect(error).toBeUndefined();
      expect(records.map(plain)).toEqual(written.slice(skip));
    }
  });
});
