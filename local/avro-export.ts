/**
 * Writing files the way Braze's storage export does, for the local run, the tests and the bench: an Avro object
 * container file per event type, its writer schema built from the type's field list (shared/catalog-fields.ts) with
 * Braze's naming (namespace `dataexport.S3.inner.<type minus its last part>`, record name = the last part; an optional
 * field is a union with null, default null), written by avsc's BlockEncoder with the null or deflate codec.
 */
import { createWriteStream } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { streams, type Schema } from 'avsc';
import { sampleEvent } from '../common/samples';
import { fieldsOf, parseFieldList, type FieldSpec } from '../shared/catalog-fields';

/**
 * A few types Braze exports that this product never sends to Segment (their files are skipped and counted), with their
 * Currents v10 field lists (shared/catalog.ts REFUSED_TYPES says why).
 */
export const NON_EXPORTABLE_FIELDS: Readonly<Record<string, string>> = {
  'users.UserOrphan':
    'id:string, user_id:string, external_user_id:string?, device_id:string?, app_group_id:string?, app_id:string?, time:int, orphaned_by_id:string',
  'users.RandomBucketNumberUpdate':
    'id:string, app_group_id:string?, user_id:string, external_user_id:string?, time:int, random_bucket_number:int, prev_random_bucket_number:int?',
};

function avroType(f: FieldSpec): Schema {
  switch (f.type) {
    case 'array<string>':
      return { type: 'array', items: 'string' };
    case 'array<string?>':
      return { type: 'array', items: ['null', 'string'] };
    default:
      return f.type;
  }
}

/** Braze's writer schema for one type, from its fields (and any extra fields a newer schema adds). */
export function brazeSchema(eventType: string, fields: readonly FieldSpec[] = fieldsFor(eventType)): Schema {
  const dot = eventType.lastIndexOf('.');
  return {
    type: 'record',
    namespace: `dataexport.S3.inner.${eventType.slice(0, dot)}`,
    name: eventType.slice(dot + 1),
    fields: fields.map((f) =>
      f.optional ? { name: f.name, type: ['null', avroType(f)], default: null } : { name: f.name, type: avroType(f) },
    ),
  } as Schema;
}

/** The fields of an exportable type, or of one of NON_EXPORTABLE_FIELDS. */
export function fieldsFor(eventType: string): FieldSpec[] {
  const known = fieldsOf(eventType);
  if (known.length) return known;
  const list = NON_EXPORTABLE_FIELDS[eventType];
  if (!list) throw new Error(`no field list for '${eventType}'`);
  return parseFieldList(list);
}

/** A flat event as a record of the schema: only the schema's fields, a missing optional field as null. */
export function toRecord(fields: readonly FieldSpec[], event: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of fields) out[f.name] = event[f.name] ?? null;
  return out;
}

export interface WriteOptions {
  readonly codec?: 'null' | 'deflate';
  /** Bytes per block before it is written out (avsc's default is 64 KiB). */
  readonly blockSize?: number;
  readonly fields?: readonly FieldSpec[];
}

/** Streams a container file of `events` (flat, any extra keys ignored) of one type: memory stays one block. */
export function avroFileStream(
  eventType: string,
  events: Iterable<Record<string, unknown>>,
  opts: WriteOptions = {},
): Readable {
  const fields = opts.fields ?? fieldsFor(eventType);
  const encoder = new streams.BlockEncoder(brazeSchema(eventType, fields), {
    codec: opts.codec ?? 'deflate',
    ...(opts.blockSize ? { blockSize: opts.blockSize } : {}),
  });
  const records = Readable.from(
    (function* () {
      for (const e of events) yield toRecord(fields, e);
    })(),
  );
  records.on('error', (e) => encoder.destroy(e));
  return records.pipe(encoder);
}

/** The whole file in memory (small files: tests and the local run). */
export async function avroFile(
  eventType: string,
  events: Iterable<Record<string, unknown>>,
  opts: WriteOptions = {},
): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of avroFileStream(eventType, events, opts)) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

/**
 * Writes a large file of one exportable type to `path` without holding it in memory (the size tests and the bench):
 * `count` records cycling through 1000 distinct sample events, each with its own id `${idPrefix}-${i}`.
 */
export async function writeLargeAvroFile(
  path: string,
  eventType: string,
  count: number,
  opts: WriteOptions & { idPrefix?: string } = {},
): Promise<void> {
  const samples = Array.from({ length: Math.min(count, 1000) }, (_, i) => sampleEvent(eventType, {}, i + 1));
  const prefix = opts.idPrefix ?? 'large';
  function* events() {
    for (let i = 0; i < count; i++) yield { ...samples[i % samples.length]!, id: `${prefix}-${i}` };
  }
  await pipeline(avroFileStream(eventType, events(), opts), createWriteStream(path));
}
