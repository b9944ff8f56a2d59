/**
 * The JSON transcoder against avsc: for any schema of the types Currents files hold and any value, the bytes it writes
 * are exactly `JSON.stringify` of what avsc decodes; damaged bytes are refused, never read as something else.
 */
import fc from 'fast-check';
import { Type } from 'avsc';
import { compileJsonTranscoder, JsonOut } from '../../../runtime/storage/avro-json';

type Node = { schema: unknown; value: fc.Arbitrary<unknown> };

let names = 0;
const leaf: fc.Arbitrary<Node> = fc
  .constantFrom<() => Node>(
    () => ({ schema: 'null', value: fc.constant(null) }),
    () => ({ schema: 'boolean', value: fc.boolean() }),
    () => ({ schema: 'int', value: fc.integer() }),
    // Up to 2^52: avsc's own long decoding is exact there (next to 2^53 its float arithmetic may lose the sign).
    () => ({ schema: 'long', value: fc.integer({ min: -(2 ** 52), max: 2 ** 52 }) }),
    () => ({ schema: 'double', value: fc.double() }),
    () => ({ schema: 'float', value: fc.float() }),
    () => ({ schema: 'string', value: fc.string({ unit: 'binary' }) }),
    () => ({
      schema: 'string',
      value: fc.string({ unit: fc.constantFrom('a', '"', '\\', '\n', '\u0001', '\u007f', 'é') }),
    }),
    () => {
      const symbols = ['A', 'B_2', 'c'];
      return { schema: { type: 'enum', name: `E${names++}`, symbols }, value: fc.constantFrom(...symbols) };
    },
  )
  .map((make) => make());

const node: fc.Memo<Node> = fc.memo((depth) => {
  if (depth <= 1) return leaf;
  const inner = node(depth - 1);
  return fc.oneof(
    leaf,
    inner.map((n) => ({ schema: { type: 'array', items: n.schema }, value: fc.array(n.value, { maxLength: 4 }) })),
    inner.map((n) => ({
      schema: { type: 'map', values: n.schema },
      value: fc.dictionary(
        fc.string({ maxLength: 4 }).filter((k) => k !== '__proto__'),
        n.value,
        { maxKeys: 3 },
      ),
    })),
    inner
      .filter((n) => n.schema !== 'null' && !Array.isArray(n.schema))
      .map((n) => ({ schema: ['null', n.schema], value: fc.option(n.value, { nil: null }) })),
    fc.array(inner, { maxLength: 4 }).map((fields) => ({
      schema: {
        type: 'record',
        name: `R${names++}`,
        fields: fields.map((f, i) => ({ name: `f${i}`, type: f.schema })),
      },
      value: fc.tuple(...fields.map((f) => f.value)).map((vs) => Object.fromEntries(vs.map((v, i) => [`f${i}`, v]))),
    })),
  );
});

const schemaAndValue = node(3).chain((n) => {
  // The top level is a record, as in a Currents file.
  const schema = { type: 'record', name: `Top${names++}`, fields: [{ name: 'x', type: n.schema }] };
  return n.value.map((v) => ({ schema, value: { x: v } }));
});

function transcode(type: Type, buf: Buffer): { text: string; end: number } {
  const write = compileJsonTranscoder(type)!;
  const out = new JsonOut(8);
  const end = write(buf, 0, out);
  return { text: out.buf.toString('utf8', 0, out.len), end };
}

it('writes exactly JSON.stringify of the record avsc decodes, for any schema and value', () => {
  fc.assert(
    fc.property(schemaAndValue, ({ schema, value }) => {
      const type = Type.forSchema(schema as never, { wrapUnions: false });
      const buf = type.toBuffer(value);
      const { text, end } = transcode(type, buf);
      expect(end).toBe(buf.length);
      expect(text).toBe(JSON.stringify(type.fromBuffer(buf)));
    }),
    { numRuns: 1000 },
  );
});

it('reads the records of a block one after another', () => {
  const type = Type.forSchema(
    {
      type: 'record',
      name: 'Ev',
      fields: [
        { name: 'id', type: 'string' },
        { name: 'n', type: ['null', 'long'] },
      ],
    },
    { wrapUnions: false },
  );
  const records = [
    { id: 'a', n: null },
    { id: 'b"c', n: -3 },
    { id: 'é', n: 2 ** 40 },
  ];
  const buf = Buffer.concat(records.map((r) => type.toBuffer(r)));
  const write = compileJsonTranscoder(type)!;
  const out = new JsonOut(4);
  const texts: string[] = [];
  let pos = 0;
  while (pos < buf.length) {
    const start = out.len;
    pos = write(buf, pos, out);
    texts.push(out.buf.toString('utf8', start, out.len));
  }
  expect(texts).toEqual(records.map((r) => JSON.stringify(r)));
});

it('reads longs exactly up to the safe-integer limits', () => {
  const type = Type.forSchema({ type: 'record', name: 'Edge', fields: [{ name: 'n', type: 'long' }] });
  // Avro's zigzag varint, written here with BigInt (avsc refuses to write the values next to 2^53).
  const zigzag = (n: number) => {
    let u = n >= 0 ? 2n * BigInt(n) : -2n * BigInt(n) - 1n;
    const bytes: number[] = [];
    do {
      bytes.push(Number(u & 0x7fn) | (u > 0x7fn ? 0x80 : 0));
      u >>= 7n;
    } while (u > 0n);
    return Buffer.from(bytes);
  };
  for (const n of [0, -1, 1, 63, -64, 64, 2 ** 31, -(2 ** 31) - 1, 2 ** 53 - 1, -(2 ** 53 - 1), 2 ** 53 - 2]) {
    expect(transcode(type, zigzag(n)).text).toBe(`{"n":${n}}`);
  }
  expect(() => transcode(type, zigzag(2 ** 53))).toThrow('precision');
});

it('refuses damage: a bad union or enum index, a string past the end, a long past 2^53', () => {
  const type = Type.forSchema(
    {
      type: 'record',
      name: 'D',
      fields: [
        { name: 'u', type: ['null', 'string'] },
        { name: 'e', type: { type: 'enum', name: 'DE', symbols: ['X'] } },
      ],
    },
    { wrapUnions: false },
  );
  const good = type.toBuffer({ u: 'hello', e: 'X' });
  expect(() => transcode(type, Buffer.from([0x08, ...good.subarray(1)]))).toThrow('invalid union index: 4');
  expect(() => transcode(type, Buffer.from([...good.subarray(0, -1), 0x02]))).toThrow('enum index 1 out of range');
  expect(() => transcode(type, good.subarray(0, 4))).toThrow('past the end');
  const long = Type.forSchema({ type: 'record', name: 'L', fields: [{ name: 'n', type: 'long' }] });
  expect(() => transcode(long, Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f]))).toThrow(
    'precision',
  );
});

it('has no transcoder for types the flat shape never holds (the reader then decodes and stringifies)', () => {
  const bytes = Type.forSchema({ type: 'record', name: 'B', fields: [{ name: 'b', type: 'bytes' }] });
  expect(compileJsonTranscoder(bytes)).toBeUndefined();
});
