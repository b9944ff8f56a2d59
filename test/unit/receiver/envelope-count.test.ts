import fc from 'fast-check';
import { countEnvelopeEvents, scanEnvelope } from '../../../runtime/receiver/envelope-count';
import { routeBody } from '../../../runtime/receiver/route';

const count = (text: string) => countEnvelopeEvents(Buffer.from(text));

/** What JSON.parse says the count is: the length of the top-level object's `events` array, if it is one. */
function parsedCount(text: string): number | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) return undefined;
  const events = (value as { events?: unknown }).events;
  return Array.isArray(events) ? events.length : undefined;
}

describe('countEnvelopeEvents', () => {
  it('counts the events of an envelope, whatever the elements hold', () => {
    expect(count('{"events":[]}')).toBe(0);
    expect(count(' {"events" : [ ] } \n')).toBe(0);
    expect(count('{"events":[{"a":[1,2,{"b":","}]},"x,y",3,null]}')).toBe(4);
    expect(count('{"other":{"events":[1,2,3]},"events":[{"s":"quote \\" and ] , }"}]}')).toBe(1);
    expect(count('{"events":[1,2],"events":[1]}')).toBe(1); // the last key wins, as in JSON.parse
  });

  it('answers undefined when the body is not one balanced object with an events array', () => {
    for (const text of [
      '',
      '[{"events":[]}]',
      '{"events":{}}',
      '{"events":[1,2]',
      '{"events":[1,2}}',
      '{"events":[1],"events":3}',
      '{"events":["unclosed]}',
      '{"events":[1]} trailing',
      '{"eve\\u006ets":[1]}',
      '{"items":[1,2]}',
    ]) {
      expect([text, count(text)]).toEqual([text, undefined]);
    }
  });

  it('agrees with JSON.parse on every envelope', () => {
    const envelope = fc.record(
      { events: fc.array(fc.jsonValue({ maxDepth: 3 }), { maxLength: 8 }), other: fc.jsonValue({ maxDepth: 2 }) },
      { requiredKeys: ['events'] },
    );
    fc.assert(
      fc.property(envelope, fc.boolean(), (value, pretty) => {
        const text = JSON.stringify(value, null, pretty ? 2 : undefined);
        expect(count(text)).toBe((value.events as unknown[]).length);
      }),
      { numRuns: 500 },
    );
  });

  it('never gives a count that JSON.parse contradicts, on any text', () => {
    const texts = fc.oneof(
      fc.string({ unit: fc.constantFrom(...'{}[]",:\\ aevnts1'.split('')), maxLength: 40 }),
      fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify({ events: v })),
    );
    fc.assert(
      fc.property(texts, (text) => {
        const expected = parsedCount(text);
        const counted = count(text);
        // A count for text JSON.parse refuses is allowed (it only labels the log); for JSON it must be exact.
        if (expected !== undefined || counted === undefined) expect(counted ?? expected).toBe(expected);
        else expect(() => JSON.parse(text)).toThrow();
      }),
      { numRuns: 2000 },
    );
  });

  it('leaves routeBody answering as JSON.parse would for empty and unusual bodies', () => {
    const door = { routes: new Map<string, string>(), fallback: 'a' };
    const inspect = (text: string) => {
      const r = routeBody(Buffer.from(text), door);
      return { empty: r.empty, events: r.events };
    };
    expect(inspect('{"events":[]}')).toEqual({ empty: true, events: 0 });
    expect(inspect('{"events":[{},{}]}')).toEqual({ empty: false, events: 2 });
    expect(inspect('{"ev\\u0065nts":[]}')).toEqual({ empty: true, events: 0 });
    expect(inspect('[]')).toEqual({ empty: false, events: undefined });
  });
});

describe("scanEnvelope: each event's bytes and type, for the door's routing", () => {
  /** What JSON.parse says each event is, and its type when that is a string. */
  const parsed = (text: string) =>
    ((JSON.parse(text) as { events: unknown[] }).events ?? []).map((e) => ({
      value: e,
      type:
        e &&
        typeof e === 'object' &&
        !Array.isArray(e) &&
        typeof (e as { event_type?: unknown }).event_type === 'string'
          ? (e as { event_type: string }).event_type
          : undefined,
    }));

  it('finds the bytes and the type of every event, as JSON.parse reads them', () => {
    const text =
      '{"events":[ {"event_type":"users.messages.email.Open","id":"a"} , {"id":"b","event_type":7},' +
      '{"event_type":"x","event_type":"users.canvas.Entry"}, "s,]", {"event\\u005ftype":"users.campaigns.Conversion"},' +
      '{"event_type":"users.messages.sms.Send\\u0021","p":{"event_type":"inner"}} ]}';
    const body = Buffer.from(text);
    const got = scanEnvelope(body)!;
    expect(got.map((e) => e.type)).toEqual([
      'users.messages.email.Open',
      undefined,
      'users.canvas.Entry',
      undefined,
      'users.campaigns.Conversion',
      'users.messages.sms.Send!',
    ]);
    expect(got.map((e) => JSON.parse(body.toString('utf8', e.start, e.end)))).toEqual(parsed(text).map((p) => p.value));
  });

  it('agrees with JSON.parse on every envelope, compact or pretty', () => {
    const typed = fc.record({ event_type: fc.oneof(fc.string(), fc.integer()), id: fc.string() });
    const element = fc.oneof(typed, fc.jsonValue({ maxDepth: 3 }));
    fc.assert(
      fc.property(fc.array(element, { maxLength: 8 }), fc.boolean(), (events, pretty) => {
        const text = JSON.stringify({ other: 1, events }, null, pretty ? 2 : undefined);
        const body = Buffer.from(text);
        const got = scanEnvelope(body)!;
        const want = parsed(text);
        expect(got.map((e) => e.type)).toEqual(want.map((w) => w.type));
        expect(got.map((e) => JSON.parse(body.toString('utf8', e.start, e.end)))).toEqual(want.map((w) => w.value));
      }),
      { numRuns: 500 },
    );
  });
});
