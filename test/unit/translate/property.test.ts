/** Property-based: random and malformed input never throws, and every event gets exactly one outcome. */
import fc from 'fast-check';
import { CATALOG } from '../../../shared/catalog';
import { fieldsOf } from '../../../shared/catalog-fields';
import { nestEvent, sampleEvent } from '../../../common/samples';
import { ALL_TYPES, createTranslator } from '../../../runtime/core/translate';
import type { TranslationResult } from '../../../runtime/core/types';

const all = createTranslator(ALL_TYPES);
const some = createTranslator({
  events: ['email', 'canvas'],
  includeAnonymousUsers: true,
  fields: { redact: ['url'], hash: ['email_address'] },
});
// Every type, the opt-in ones named, and the types the catalogue does not know exported generically.
const generic = createTranslator({ events: CATALOG.map((e) => e.type), exportUnknownTypes: true });
const total = (r: TranslationResult) => r.send.length + r.skipped.length + r.deadLetters.length;
const RUNS = { numRuns: 300 };

const typeArb = fc.constantFrom(
  ...CATALOG.map((e) => e.type),
  'users_canvas_abort',
  'users.behaviors.CustomEvent',
  'users.UserOrphan',
  'users.messages.telegram.Send',
  'nope',
);
/** A realistic event of a random type with random fields replaced, removed or added with random JSON values. */
const mutatedEvent = fc
  .record({
    type: typeArb,
    seed: fc.nat(),
    nested: fc.boolean(),
    edits: fc.array(fc.tuple(fc.nat(), fc.oneof(fc.jsonValue(), fc.constant(undefined))), { maxLength: 4 }),
    extra: fc.dictionary(
      fc.string({ maxLength: 8 }).filter((k) => k !== 'events'),
      fc.jsonValue(),
      { maxKeys: 3 },
    ),
  })
  .map(({ type, seed, nested, edits, extra }) => {
    const known = CATALOG.some((e) => e.type === type) || type === 'users_canvas_abort';
    const base: Record<string, unknown> = known
      ? sampleEvent(type, {}, seed)
      : { event_type: type, id: `id-${seed}`, time: 1_717_000_000 };
    const names = known ? fieldsOf(sampleEvent(type).event_type).map((f) => f.name) : Object.keys(base);
    for (const [i, v] of edits) {
      const name = names[i % names.length]!;
      if (v === undefined) delete base[name];
      else base[name] = v;
    }
    Object.assign(base, extra);
    return nested ? nestEvent(base) : base;
  });

describe('property: never throws, one outcome per event', () => {
  it('random JSON values as events (envelope): one outcome each', () => {
    fc.assert(
      fc.property(fc.array(fc.jsonValue(), { maxLength: 20 }), (events) => {
        for (const t of [all, some, generic])
          expect(total(t.translateMessage(JSON.stringify({ events })))).toBe(events.length);
      }),
      RUNS,
    );
  });

  it('mutated realistic events: one outcome each, good events beside them unaffected', () => {
    const good = sampleEvent('users.messages.email.Open', { id: 'the-good-one' });
    fc.assert(
      fc.property(fc.array(mutatedEvent, { maxLength: 10 }), (events) => {
        const r = all.translateMessage(JSON.stringify({ events: [...events, good] }));
        expect(total(r)).toBe(events.length + 1);
        expect(r.send.map((s) => s.messageId)).toContain('the-good-one');
        for (const s of r.send) {
          expect(JSON.parse(s.json)).toEqual(s.call);
          expect(Buffer.byteLength(s.json)).toBeLessThanOrEqual(32768);
          expect(s.call.userId ?? s.call.anonymousId).toBeDefined();
        }
        for (const d of r.deadLetters) expect(d.detail.length).toBeGreaterThan(0);
      }),
      RUNS,
    );
  });

  it('arbitrary bytes and strings as a body: never throws; no outcome only for an empty list', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ maxLength: 200 }),
          fc.string({ maxLength: 200 }),
          fc.string({ unit: 'binary', maxLength: 100 }),
        ),
        (body) => {
          const data = typeof body === 'string' ? body : Buffer.from(body);
          const r = all.translateMessage(data);
          if (total(r) === 0) {
            // Only a JSON empty list or an envelope with no events carries no event at all.
            const parsed: unknown = JSON.parse(typeof data === 'string' ? data : data.toString('utf8'));
            expect(Array.isArray(parsed) ? parsed : (parsed as { events: unknown[] }).events).toEqual([]);
          }
        },
      ),
      RUNS,
    );
  });

  it('JSON Lines of random values and garbage: one outcome per event or bad line', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            mutatedEvent.map((e) => JSON.stringify(e)),
            fc.constant('{oops'),
            fc.constant(''),
          ),
          { minLength: 2, maxLength: 8 },
        ),
        (lines) => {
          const r = all.translateMessage(lines.join('\n'));
          const events = lines.filter((l) => l !== '' && l !== '{oops').length;
          const bad = lines.filter((l) => l === '{oops').length;
          expect(total(r)).toBe(events === 0 ? 1 : events + bad);
        },
      ),
      RUNS,
    );
  });
});
