/**
 * Hostile events at the translator and the dead-letter data (issue 28): nesting too deep to serialize, the original
 * text of such an event kept for its dead letter, and event times outside the plausible window.
 */
import { nestEvent, sampleEvent } from '../../../common/samples';
import { deadLetterData } from '../../../runtime/adapters/dead-letters';
import {
  elementSpans,
  MAX_EVENT_DEPTH,
  nestingDepth,
  stringifyDeep,
  withinDepth,
} from '../../../runtime/core/json-depth';
import { ALL_TYPES, createTranslator } from '../../../runtime/core/translate';
import { PLAUSIBLE_TIME } from '../../../runtime/core/timestamp';

const NOW = Date.UTC(2026, 11, 5, 12);
const all = createTranslator(ALL_TYPES, { clock: { now: () => NOW } });
const email = (o: Record<string, unknown>, seed = 1) =>
  sampleEvent('users.messages.email.Open', { time: Math.floor(NOW / 1000) - 60, ...o }, seed);
const deepArray = (n: number) => '['.repeat(n) + ']'.repeat(n);
const deepObject = (n: number) => '{"a":'.repeat(n) + '1' + '}'.repeat(n);

describe('a deeply nested event in a batch', () => {
  const a = JSON.stringify(nestEvent(email({ id: 'valid-a' })));
  const b = JSON.stringify(nestEvent(email({ id: 'valid-b' }, 2)));

  it.each([
    ['an array 100,000 levels deep', deepArray(100_000), 100_000],
    ['an object 100,000 levels deep', deepObject(100_000), 100_000],
  ])('%s: the siblings are sent, it is invalid with its depth and its original text', (_, hostile, depth) => {
    for (const body of [
      `{"events": [${a}, ${hostile} , ${b}]}`,
      `[${a},${hostile},${b}]`,
      `${a}\n{"events":[${hostile}]}\n${b}`,
    ]) {
      const r = all.translateMessage(Buffer.from(body));
      expect(r.send.map((e) => e.messageId)).toEqual(['valid-a', 'valid-b']);
      expect(r.deadLetters).toHaveLength(1);
      const letter = r.deadLetters[0]!;
      expect(letter.reason).toBe('invalid');
      expect(letter.detail).toBe(
        `event is nested ${depth} levels deep, deeper than the ${MAX_EVENT_DEPTH} levels accepted`,
      );
      // The bytes that arrived, readable and replayable (never "[object Object]", never a throw).
      expect(letter.raw).toBe(hostile);
      expect(deadLetterData(letter.raw).toString()).toBe(hostile);
    }
  });

  it('a deep field inside a real event: invalid with its id, text kept byte for byte', () => {
    const inner = email({ id: 'deep-1' });
    const text = JSON.stringify(nestEvent(inner)).replace(/}$/, `,"extra":${deepArray(50)}}`);
    const r = all.translateMessage(`{"events":[${a},  ${text}\t]}`);
    expect(r.send.map((e) => e.messageId)).toEqual(['valid-a']);
    expect(r.deadLetters[0]).toMatchObject({ reason: 'invalid', id: 'deep-1', raw: text });
    expect(r.deadLetters[0]!.detail).toContain('nested 51 levels deep');
  });

  it('accepts the deepest nesting allowed, and a single event body keeps its text too', () => {
    const ok = nestEvent(email({ id: 'ok' }));
    (ok.properties as Record<string, unknown>).extra = JSON.parse(deepArray(MAX_EVENT_DEPTH - 2));
    expect(nestingDepth(ok)).toBe(MAX_EVENT_DEPTH);
    expect(withinDepth(ok, MAX_EVENT_DEPTH)).toBe(true);
    expect(withinDepth(ok, MAX_EVENT_DEPTH - 1)).toBe(false);
    expect(withinDepth(JSON.parse(deepArray(100_000)), MAX_EVENT_DEPTH)).toBe(false);
    expect(all.translateMessage(JSON.stringify(ok)).send).toHaveLength(1);
    const single = ` ${deepObject(MAX_EVENT_DEPTH + 1)} `;
    expect(all.translateMessage(single).deadLetters[0]!.raw).toBe(single.trim());
  });

  it('translateEvent (no text) and the adapter serialize any depth', () => {
    const value: unknown = JSON.parse(deepArray(20_000));
    const out = all.translateEvent(value);
    expect(out.kind).toBe('deadLetter');
    expect(out.kind === 'deadLetter' && out.deadLetter.raw).toBe(deepArray(20_000));
    expect(deadLetterData(JSON.parse(deepObject(20_000))).toString()).toBe(deepObject(20_000));
  });
});

describe('json-depth helpers', () => {
  it('stringifyDeep writes what JSON.stringify writes', () => {
    const values: unknown[] = [
      null,
      1.5,
      'x"\n',
      [],
      {},
      [1, [2, { a: [null, undefined, 'é'] }], { b: undefined, c: true }],
      { 'k"': { nested: [[]] }, n: NaN },
    ];
    for (const v of values) expect(stringifyDeep(v)).toBe(JSON.stringify(v));
    const shared = { s: 1 };
    expect(stringifyDeep([shared, { shared }])).toBe(JSON.stringify([shared, { shared }])); // repeated, not circular
    const circular: unknown[] = [];
    circular.push([circular]);
    expect(() => stringifyDeep(circular)).toThrow(TypeError);
  });

  it('elementSpans finds every element of a batch, whatever the spacing and strings', () => {
    const text = ' { "x" : {"events":[9]}, "events" : [ {"a":"],}\\"["} , [1, [2]] ,"s",3 ] } ';
    expect(elementSpans(text)!.map(([s, e]) => text.slice(s, e))).toEqual(['{"a":"],}\\"["}', '[1, [2]]', '"s"', '3']);
    expect(elementSpans('[]')).toEqual([]);
    expect(elementSpans('{"a":1}')).toBeUndefined();
  });
});

describe('event times outside the plausible window', () => {
  it.each([
    [-1, 'before 2000-01-01'],
    [0, 'before 2000-01-01'],
    [946_684_799, 'before 2000-01-01'],
    [99_999_999_999, 'more than a day after now'],
    [Math.floor(NOW / 1000) + 86_401, 'more than a day after now'],
  ])('time %d is dead-lettered invalid (%s)', (time, why) => {
    const r = all.translateMessage(JSON.stringify([email({ id: 'ok' }), email({ id: 'bad', time }, 3)]));
    expect(r.send.map((e) => e.messageId)).toEqual(['ok']);
    expect(r.deadLetters).toMatchObject([{ reason: 'invalid', id: 'bad' }]);
    expect(r.deadLetters[0]!.detail).toMatch(new RegExp(`^field 'time' is .*Z, ${why}`));
  });

  it('accepts the bounds themselves', () => {
    const r = all.translateMessage(
      JSON.stringify([
        email({ id: 'y2k', time: PLAUSIBLE_TIME.earliestMs / 1000 }),
        email({ id: 'tomorrow', time: (NOW + PLAUSIBLE_TIME.futureLeewayMs) / 1000 }),
      ]),
    );
    expect(r.send.map((e) => e.messageId)).toEqual(['y2k', 'tomorrow']);
  });
});
