/**
 * JSON written in every way JSON allows, for the door's byte scan: generated values (unicode, escapes, nested objects
 * and arrays, duplicate keys, number forms such as `-0`, `1E400`, `12345678901234567890`) written with random
 * whitespace and random escapes (`\u0041`, `\/`, upper- and lower-case hex), keeping each event's exact text; and
 * envelopes broken byte by byte. Events are of random catalogue types (also legacy spellings, unknown and non-string
 * types, escaped `event_type` keys).
 */
import fc from 'fast-check';
import { CATALOG, TYPE_ALIASES } from '../../../shared/catalog';

/** A JSON value and how it is written: numbers and literals as their text, objects as members (keys may repeat). */
export type JsonNode =
  | { readonly kind: 'raw'; readonly text: string }
  | { readonly kind: 'string'; readonly value: string }
  | { readonly kind: 'array'; readonly items: readonly JsonNode[] }
  | { readonly kind: 'object'; readonly members: readonly (readonly [string, JsonNode])[] };

const raw = (text: string): JsonNode => ({ kind: 'raw', text });
export const str = (value: string): JsonNode => ({ kind: 'string', value });

const WHITESPACE = [' ', '\n', '\t', '\r\n', '  '];

/** Writes nodes as JSON text, each choice (whitespace, escapes) taken from `dice` in turn (cycled). */
export function jsonWriter(dice: readonly number[]) {
  let n = 0;
  const roll = () => dice[n++ % dice.length]!;
  const space = () => {
    const r = roll();
    return r < 60 ? '' : WHITESPACE[r % WHITESPACE.length]!;
  };
  const char = (ch: string): string => {
    const r = roll();
    if (r >= 96 && ch === '/') return '\\/';
    if (r < 84) return JSON.stringify(ch).slice(1, -1); // as is, or the escape JSON requires
    const hex = [...Array(ch.length).keys()].map((k) => `\\u${ch.charCodeAt(k).toString(16).padStart(4, '0')}`);
    return r < 92 ? hex.join('') : hex.join('').toUpperCase().replace(/\\U/g, '\\u');
  };
  const string = (s: string) => `"${[...s].map(char).join('')}"`;
  const write = (v: JsonNode): string => {
    switch (v.kind) {
      case 'raw':
        return v.text;
      case 'string':
        return string(v.value);
      case 'array':
        return `[${space()}${v.items.map(write).join(`${space()},${space()}`)}${space()}]`;
      case 'object':
        return `{${space()}${v.members.map(([k, x]) => `${string(k)}${space()}:${space()}${write(x)}`).join(`${space()},${space()}`)}${space()}}`;
    }
  };
  return { write, space, string };
}

const NUMBER_FORMS = ['0', '-0', '1.5e3', '1E400', '-1e-400', '12345678901234567890', '0.10', '-12.50E+02', '7e-0'];
const awkwardChar = fc.constantFrom('"', '\\', '/', '\n', '\u0000', '\u007f', '\u2028', 'é', '€', '😀', '\ud800', 'a');
const text = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.string({ unit: 'binary', maxLength: 8 }),
  fc.string({ unit: awkwardChar, maxLength: 8 }),
);

const scalar: fc.Arbitrary<JsonNode> = fc.oneof(
  fc.constantFrom('true', 'false', 'null', ...NUMBER_FORMS).map(raw),
  fc.integer().map((i) => raw(String(i))),
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((d) => raw(JSON.stringify(d))),
  text.map(str),
);

/** Any value, nested a few levels. */
export const jsonNode: fc.Arbitrary<JsonNode> = fc.letrec<{ value: JsonNode }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    scalar,
    fc.array(tie('value'), { maxLength: 4 }).map((items): JsonNode => ({ kind: 'array', items })),
    fc
      .array(fc.tuple(fc.oneof(text, fc.constantFrom('event_type', 'events', 'id')), tie('value')), { maxLength: 4 })
      .map((members): JsonNode => ({ kind: 'object', members })),
  ),
})).value;

const catalogueType = fc.constantFrom(...CATALOG.map((e) => e.type), ...Object.keys(TYPE_ALIASES));
/** What an event's `event_type` holds: mostly a catalogue type, else an unknown or unicode one, or not a string. */
const typeValue: fc.Arbitrary<JsonNode> = fc.oneof(
  { weight: 8, arbitrary: catalogueType.map(str) },
  { weight: 1, arbitrary: text.map(str) },
  { weight: 1, arbitrary: fc.constantFrom('users.canvas.Entrée', 'users.messages.email.Open ').map(str) },
  { weight: 1, arbitrary: jsonNode },
);
const typeKey = fc.oneof(
  { weight: 9, arbitrary: fc.constant('event_type') },
  fc.constantFrom('Event_type', 'event_typ'),
);

/** An event: an object with zero, one or several `event_type` members among others; now and then not an object. */
export const eventNode: fc.Arbitrary<JsonNode> = fc.oneof(
  {
    weight: 9,
    arbitrary: fc
      .tuple(
        fc.array(fc.tuple(fc.oneof(fc.constantFrom('id', 'time', 'user'), text), jsonNode), { maxLength: 5 }),
        fc.array(fc.tuple(typeKey, typeValue), { minLength: 1, maxLength: 2 }),
        fc.nat(),
      )
      .map(([others, types, at]): JsonNode => {
        const members = [...others];
        members.splice(at % (members.length + 1), 0, ...types);
        return { kind: 'object', members };
      }),
  },
  { weight: 1, arbitrary: jsonNode },
);

/** An envelope as written, with each event's exact text (the `events` key written once, among other members). */
export interface WrittenEnvelope {
  readonly text: string;
  readonly eventTexts: readonly string[];
}

export const dice = fc.array(fc.nat(99), { minLength: 1, maxLength: 24 });

export const writtenEnvelope: fc.Arbitrary<WrittenEnvelope> = fc
  .tuple(
    fc.array(eventNode, { maxLength: 8 }),
    fc.array(fc.tuple(text, jsonNode), { maxLength: 2 }),
    fc.boolean(),
    dice,
  )
  .map(([events, others, eventsFirst, rolls]) => {
    const w = jsonWriter(rolls);
    const eventTexts = events.map(w.write);
    const array = `[${w.space()}${eventTexts.join(`${w.space()},${w.space()}`)}${w.space()}]`;
    const members = others.filter(([k]) => k !== 'events').map(([k, v]) => `${w.string(k)}:${w.space()}${w.write(v)}`);
    const eventsMember = `${w.string('events')}${w.space()}:${w.space()}${array}`;
    const all = eventsFirst ? [eventsMember, ...members] : [...members, eventsMember];
    return { text: `${w.space()}{${w.space()}${all.join(`${w.space()},`)}${w.space()}}${w.space()}`, eventTexts };
  });

/** Ways to break a body: a byte removed, inserted or replaced, the body cut short, a byte-order mark before it. */
export const damage = fc.tuple(
  fc.constantFrom('remove', 'insert', 'replace', 'cut', 'bom'),
  fc.nat(),
  fc.constantFrom(...Buffer.from('{}[]",:\\ \t\u000b\f0-+.eEuntrfl/a'), 0x00, 0x1f, 0x80, 0xff),
);

export function damaged(body: Buffer, [how, at, byte]: [string, number, number]): Buffer {
  const i = at % (body.length + 1);
  const b = Buffer.from([byte]);
  if (how === 'remove') return Buffer.concat([body.subarray(0, i), body.subarray(i + 1)]);
  if (how === 'insert') return Buffer.concat([body.subarray(0, i), b, body.subarray(i)]);
  if (how === 'replace') return Buffer.concat([body.subarray(0, i), b, body.subarray(i + 1)]);
  if (how === 'cut') return body.subarray(0, i);
  return Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), body]);
}

/** A whole body: an envelope as written, one with repeated or odd top-level members, or a damaged one. */
export const anyBody: fc.Arbitrary<Buffer> = fc.oneof(
  writtenEnvelope.map((e) => Buffer.from(e.text)),
  fc
    .tuple(fc.array(fc.tuple(fc.constantFrom('events', 'other', 'Events'), jsonNode), { maxLength: 3 }), dice)
    .chain(([members, rolls]) =>
      fc.array(eventNode, { maxLength: 4 }).map((events) => {
        const all: [string, JsonNode][] = [...members, ['events', { kind: 'array', items: events }]];
        return Buffer.from(jsonWriter(rolls).write({ kind: 'object', members: all.reverse() }));
      }),
    ),
  fc.tuple(writtenEnvelope, damage).map(([e, d]) => damaged(Buffer.from(e.text), d)),
  jsonNode.map((v) => Buffer.from(jsonWriter([0]).write(v))),
);
