/**
 * The door's byte scans of Braze's envelope: each answers exactly when JSON.parse reads the body as the envelope, with
 * the same events (each one's bytes) and the same types. The same tests run on the JavaScript scan alone and on the
 * door's scan (WebAssembly, then JavaScript where it leaves the answer), and the WebAssembly scan is held to answering
 * itself on Braze's requests, and to never answering otherwise than the JavaScript scan.
 */
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { eventsEnvelope, sampleFeed } from '../../../common/samples';
import { binaryModule, compileEnvelopeScan, WASM_MODULE } from '../../../local/build-wasm';
import {
  type EnvelopeElement,
  noControlBytes,
  scanEnvelope as scanInJavaScript,
} from '../../../runtime/receiver/envelope-scan';
import {
  scanEnvelope as doorScan,
  scanEnvelopeWasm,
  webAssemblyScanUnavailable,
} from '../../../runtime/receiver/envelope-scan-wasm';
import { anyBody, writtenEnvelope } from '../../support/receiver/json-text';

const bytes = (text: string | Buffer) => (Buffer.isBuffer(text) ? text : Buffer.from(text));

/** What JSON.parse reads: each event and its type when that is a string; undefined when the body is not the envelope. */
function parsed(body: Buffer): { value: unknown; type?: string }[] | undefined {
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) return undefined;
  const events = (value as { events?: unknown }).events;
  if (!Array.isArray(events)) return undefined;
  return events.map((e: unknown) => {
    const t = e && typeof e === 'object' && !Array.isArray(e) ? (e as { event_type?: unknown }).event_type : undefined;
    return typeof t === 'string' ? { value: e, type: t } : { value: e };
  });
}

describe.each([
  ['the JavaScript scan', scanInJavaScript],
  ["the door's scan (WebAssembly, then JavaScript)", doorScan],
])('%s', (_name, scanEnvelope: (body: Buffer) => EnvelopeElement[] | undefined) => {
  const scan = (text: string | Buffer) => scanEnvelope(bytes(text));
  const count = (text: string | Buffer) => scan(text)?.length;

  it('finds the events of an envelope, whatever they hold', () => {
    expect(count('{"events":[]}')).toBe(0);
    expect(count(' {"events" : [ ] } \n')).toBe(0);
    expect(count('{"events":[{"a":[1,2,{"b":","}]},"x,y",3,null]}')).toBe(4);
    expect(count('{"other":{"events":[1,2,3]},"events":[{"s":"quote \\" and ] , }"}]}')).toBe(1);
    expect(count('{"events":[1,2],"events":[1]}')).toBe(1); // the last key wins, as in JSON.parse
    expect(count('{"eve\\u006ets":[1,2]}')).toBe(2); // an escaped key is read as JSON.parse reads it
    expect(count('{"events":[-0,1E400,12345678901234567890,0.5e-3,"\\ud800\\/\\u00e9",true,false,null]}')).toBe(8);
  });

  it('answers undefined for a body that is not valid JSON, or not the envelope', () => {
    for (const text of [
      '',
      '[{"events":[]}]',
      '{"events":{}}',
      '{"items":[1,2]}',
      '{"events":[1],"events":3}',
      '{"events":[1,2]',
      '{"events":[1,2}}',
      '{"events":["unclosed]}',
      '{"events":[1]} trailing',
      '{"events":[1,]}',
      '{"events":[1 2]}',
      '{"events":[1],}',
      '{"events" [1]}',
      '{events:[1]}',
      '{"events":[tru]}',
      '{"events":[nul]}',
      '{"events":[True]}',
      '{"events":[01]}',
      '{"events":[1.]}',
      '{"events":[.5]}',
      '{"events":[+1]}',
      '{"events":[-]}',
      '{"events":[1e]}',
      '{"events":[0x1]}',
      '{"events":["\\x"]}',
      '{"events":["\\u12"]}',
      '{"events":["\\u12g4"]}',
      '{"events":["tab\there"]}',
      '{"events":["new\nline"]}',
      '{"events":[{"event_type":"a" "b":1}]}',
      '{"events":[{"event_type":"a",}]}',
      '{"events":[{"event_type"}]}',
      '{"events":[{1:2}]}',
      '\ufeff{"events":[]}',
      '{"events":[]}\f',
      '\u000b{"events":[]}',
      '{"events":[]}\u00a0',
    ]) {
      expect([text, count(text)]).toEqual([text, undefined]);
      expect([text, parsed(Buffer.from(text))]).toEqual([text, undefined]);
    }
    expect(count(Buffer.from([...Buffer.from('{"events":[1]}'), 0x80]))).toBeUndefined();
  });

  it('finds the bytes and the type of every event, as JSON.parse reads them', () => {
    const text =
      '{"events":[ {"event_type":"users.messages.email.Open","id":"a"} , {"id":"b","event_type":7},' +
      '{"event_type":"x","event_type":"users.canvas.Entry"}, "s,]", {"event\\u005ftype":"users.campaigns.Conversion"},' +
      '{"event_type":"users.messages.sms.Send\\u0021","p":{"event_type":"inner"}}, {"event_type":"a","event_type":1},' +
      '{"event_typ":"b"}, {"Event_type":"c"}, {"event_type":"caf\u00e9 \ud83d\ude00"} ]}';
    const body = Buffer.from(text);
    const got = scan(body)!;
    expect(got.map((e) => e.type)).toEqual([
      'users.messages.email.Open',
      undefined,
      'users.canvas.Entry',
      undefined,
      'users.campaigns.Conversion',
      'users.messages.sms.Send!',
      undefined,
      undefined,
      undefined,
      'café 😀',
    ]);
    expect(got.map((e) => JSON.parse(body.toString('utf8', e.start, e.end)))).toEqual(
      parsed(body)!.map((p) => p.value),
    );
  });

  it('reads an event nested 100,000 levels deep (no recursion), and refuses one left unclosed', () => {
    const deep = `{"event_type":"t","deep":${'['.repeat(100_000)}${']'.repeat(100_000)}}`;
    const body = Buffer.from(`{"events":[${deep},{"event_type":"u"}]}`);
    expect(scan(body)!.map((e) => [e.type, body.toString('utf8', e.start, e.end)])).toEqual([
      ['t', deep],
      ['u', '{"event_type":"u"}'],
    ]);
    expect(scan(`{"events":[{"deep":${'{"a":['.repeat(50_000)}1${']}'.repeat(49_999)}]}`)).toBeUndefined();
  });

  it("gives each event's exact text and JSON.parse's type, for envelopes written every way JSON allows", () => {
    fc.assert(
      fc.property(writtenEnvelope, ({ text, eventTexts }) => {
        const body = Buffer.from(text);
        const got = scan(body)!;
        expect(got.map((e) => body.toString('utf8', e.start, e.end))).toEqual(eventTexts);
        expect(got.map((e) => e.type)).toEqual(parsed(body)!.map((p) => p.type));
      }),
      { numRuns: 600 },
    );
  });

  it('answers exactly when JSON.parse reads the envelope, on any body (damaged ones too)', () => {
    fc.assert(
      fc.property(anyBody, (body) => {
        const want = parsed(body);
        const got = scan(body);
        expect(got?.length).toBe(want?.length);
        if (!got || !want) return;
        expect(got.map((e) => e.type)).toEqual(want.map((w) => w.type));
        expect(got.map((e) => JSON.parse(body.toString('utf8', e.start, e.end)))).toEqual(want.map((w) => w.value));
      }),
      { numRuns: 2000 },
    );
  });
});

describe('the WebAssembly scan', () => {
  const braze = (count: number, seed: number) => Buffer.from(eventsEnvelope(sampleFeed({ count, seed })), 'utf8');

  it('can be had on this Node.js (the door would otherwise route with the JavaScript scan, and say so)', () => {
    expect(webAssemblyScanUnavailable()).toBeUndefined();
  });

  it('is the compiled source (npm run build:wasm)', () => {
    expect(readFileSync(WASM_MODULE, 'utf8')).toBe(binaryModule(compileEnvelopeScan()));
  });

  it("reads Braze's requests itself, exactly as the JavaScript scan does", () => {
    for (let seed = 1; seed <= 20; seed++) {
      const body = braze(100, seed);
      const got = scanEnvelopeWasm(body);
      expect(got?.length).toBe(100);
      expect(got).toEqual(scanInJavaScript(body));
    }
  });

  it('grows its memory for a large body, and reads a small one after it', () => {
    const large = braze(1000, 3); // about 0.9 MB: the memory grows again, past what 90 KB bodies needed
    expect(scanEnvelopeWasm(large)).toEqual(scanInJavaScript(large));
    expect(scanEnvelopeWasm(large)?.length).toBe(1000);
    expect(scanEnvelopeWasm(Buffer.from('{"events":[{"event_type":"t"}]}'))).toEqual([
      { start: 11, end: 29, type: 't' },
    ]);
  });

  it('refuses every body cut short, whatever an earlier, longer body left in its memory past the end', () => {
    const body = Buffer.from(
      '{"events":[{"event_type":"users.messages.email.Open","n":-1.5e3,"t":true,"f":false,"z":null,' +
        '"s":"a\\u00e9\\"b","a":[{},[]]}]}',
    );
    expect(scanEnvelopeWasm(body)?.length).toBe(1);
    const wrong: number[] = [];
    for (let cut = 0; cut < body.length; cut++) {
      scanEnvelopeWasm(body); // the whole body in memory again, then its head over it
      if (scanEnvelopeWasm(body.subarray(0, cut)) !== undefined) wrong.push(cut);
    }
    expect(wrong).toEqual([]);
  });

  it('reads escaped keys as JSON.parse does', () => {
    for (const [text, types] of [
      ['{"eve\\u006ets":[1,2]}', [undefined, undefined]],
      ['{"\\u0065vents":[{"event\\u005ftype":"x"},{"event\\u005Ftype":"y"}]}', ['x', 'y']],
      ['{"x\\n":1,"events":[{"\\/event_type":"z","a\\"b":2}]}', [undefined]],
      ['{"event\\u0073\\u0000":[1],"events":[{"event_typ\\u00e9":"w"}]}', [undefined]],
      ['{"events":[1],"ev\\u0065nts":[{"event_type":"v"}]}', ['v']],
      ['{"events":[{"event_type\\t":"u"}]}', [undefined]],
      ['{"events":[{"event_\\type":"s"}]}', [undefined]], // a tab, not a t
      ['{"even\\ts":[1]}', undefined],
    ] as const) {
      const got = scanEnvelopeWasm(Buffer.from(text));
      expect([text, got?.map((e) => e.type)]).toEqual([text, types]);
      expect(got).toEqual(scanInJavaScript(Buffer.from(text)));
    }
  });

  it('leaves to the JavaScript scan the shapes it does not read itself, which the door still reads', () => {
    const many = `{"events":[${'1,'.repeat(16_384)}1]}`;
    const deep = `{"events":[${'['.repeat(5000)}${']'.repeat(5000)}]}`;
    for (const [text, events] of [
      [many, 16_385],
      [deep, 1],
    ] as const) {
      expect([text.slice(0, 40), scanEnvelopeWasm(Buffer.from(text))]).toEqual([text.slice(0, 40), undefined]);
      expect(doorScan(Buffer.from(text))?.length).toBe(events);
    }
  });

  it('never answers otherwise than the JavaScript scan, on any body (damaged ones too)', () => {
    const agrees = (body: Buffer) => {
      const got = scanEnvelopeWasm(body);
      if (got !== undefined) expect(got).toEqual(scanInJavaScript(body));
    };
    fc.assert(fc.property(anyBody, agrees), { numRuns: 2000 });
    fc.assert(
      fc.property(writtenEnvelope, ({ text }) => agrees(Buffer.from(text))),
      { numRuns: 600 },
    );
  });
});

describe('noControlBytes', () => {
  const naive = (b: Buffer) => !b.some((c) => c < 0x20);

  it('finds a byte below 0x20 wherever it is, at any alignment, and only those', () => {
    // One slab, viewed at every offset and length up to 80 bytes, with one byte set to each edge value in turn.
    const slab = Buffer.alloc(96, 0x61);
    const wrong: unknown[] = [];
    for (const edge of [0x00, 0x09, 0x0a, 0x1f, 0x20, 0x21, 0x7f, 0x80, 0xff]) {
      for (let at = 0; at < 96; at++) {
        slab.fill(0x61);
        slab[at] = edge;
        for (const offset of [0, 1, 2, 3]) {
          for (let length = 0; offset + length <= 96 && length <= 80; length += 7) {
            const view = slab.subarray(offset, offset + length);
            if (noControlBytes(view) !== naive(view)) wrong.push({ edge, at, offset, length });
          }
        }
      }
    }
    expect(wrong).toEqual([]);
  });

  it('agrees with a byte-by-byte check on any bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.nat(3), (bytes, offset) => {
        const view = Buffer.concat([Buffer.alloc(offset, 0x61), Buffer.from(bytes)]).subarray(offset);
        expect(noControlBytes(view)).toBe(naive(view));
      }),
      { numRuns: 2000 },
    );
  });
});
