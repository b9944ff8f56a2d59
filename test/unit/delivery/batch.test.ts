import fc from 'fast-check';
import {
  BATCH_BODY_OVERHEAD_BYTES,
  batchBody,
  batchBodyBytes,
  DEFAULT_MAX_REQUEST_BYTES,
  planBatches,
  SEGMENT_LIMITS,
} from '../../../runtime/core/batch';
import type { DeliveryItem } from '../../../runtime/core/types';
import { makeItem, makeItems } from '../../support/delivery/helpers';

const SENT_AT = '2024-05-06T07:08:09.123Z';
const item = (id: string, json: string): DeliveryItem => ({ messageId: id, json });
const bytesOf = (s: string) => Buffer.byteLength(s, 'utf8');

describe('batch body', () => {
  it('is valid JSON carrying the items verbatim, and its size is predicted exactly', () => {
    const items = [item('a', '{"messageId":"a","x":"é"}'), item('b', '{"messageId":"b","y":"😀"}')];
    const body = batchBody(items, SENT_AT);
    expect(JSON.parse(body)).toEqual({
      batch: [JSON.parse(items[0]!.json), JSON.parse(items[1]!.json)],
      sentAt: SENT_AT,
    });
    const itemBytes = items.reduce((n, i) => n + bytesOf(i.json), 0);
    expect(bytesOf(body)).toBe(batchBodyBytes(itemBytes, 2));
    expect(bytesOf(batchBody([], SENT_AT))).toBe(BATCH_BODY_OVERHEAD_BYTES);
  });

  it('refuses a sentAt that would make the predicted size wrong', () => {
    expect(() => batchBody([], '2024-05-06')).toThrow(/24-character/);
  });
});

describe('planBatches', () => {
  it('returns nothing for nothing', () => {
    expect(planBatches([])).toEqual({ batches: [], oversized: [] });
  });

  it('fills requests up to the byte ceiling exactly, never over it', () => {
    const items = makeItems(3000, 1000);
    const { batches, oversized } = planBatches(items);
    expect(oversized).toEqual([]);
    for (const b of batches) {
      expect(b.bytes).toBe(bytesOf(batchBody(b.items, SENT_AT)));
      expect(b.bytes).toBeLessThanOrEqual(DEFAULT_MAX_REQUEST_BYTES);
    }
    // Greedy: every batch but the last would overflow with the next item.
    for (let i = 0; i < batches.length - 1; i++) {
      const next = batches[i + 1]!.items[0]!;
      expect(bytesOf(batchBody([...batches[i]!.items, next], SENT_AT))).toBeGreaterThan(DEFAULT_MAX_REQUEST_BYTES);
    }
    expect(batches.flatMap((b) => b.items)).toEqual(items);
  });

  it('puts an item that makes the body exactly the ceiling in the same batch', () => {
    const a = makeItem(1, 20_000);
    const ceiling = batchBodyBytes(bytesOf(a.json) * 2, 2);
    const { batches } = planBatches([a, makeItem(2, 20_000), makeItem(3, 20_000)], { maxRequestBytes: ceiling });
    expect(batches.map((b) => b.items.length)).toEqual([2, 1]);
    expect(batches[0]!.bytes).toBe(ceiling);
    const tighter = planBatches([a, makeItem(2, 20_000)], { maxRequestBytes: ceiling - 1 });
    expect(tighter.batches.map((b) => b.items.length)).toEqual([1, 1]);
  });

  it('never puts more than 2,500 events in a request', () => {
    const tiny = Array.from({ length: 5001 }, (_, i) => item(`t${i}`, '{}'));
    const { batches } = planBatches(tiny);
    expect(batches.map((b) => b.items.length)).toEqual([2500, 2500, 1]);
    expect(planBatches(tiny.slice(0, 10), { maxBatchEvents: 3 }).batches.map((b) => b.items.length)).toEqual([
      3, 3, 3, 1,
    ]);
  });

  it('reports calls over 32 KiB (UTF-8 bytes) and never batches them; 32 KiB exactly is sent', () => {
    const exact = item('exact', `"${'a'.repeat(SEGMENT_LIMITS.maxCallBytes - 2)}"`);
    const over = item('over', `"${'a'.repeat(SEGMENT_LIMITS.maxCallBytes - 1)}"`);
    // 'é' is 2 bytes: under 32 K characters but over 32 KiB of bytes.
    const multiByte = item('mb', `"${'é'.repeat(SEGMENT_LIMITS.maxCallBytes / 2)}"`);
    const { batches, oversized } = planBatches([exact, over, makeItem(1), multiByte]);
    expect(oversized.map((o) => [o.item.messageId, o.bytes])).toEqual([
      ['over', SEGMENT_LIMITS.maxCallBytes + 1],
      ['mb', SEGMENT_LIMITS.maxCallBytes + 2],
    ]);
    expect(batches.flatMap((b) => b.items.map((i) => i.messageId))).toEqual(['exact', 'm-1']);
  });

  it('rejects limits above Segment’s', () => {
    expect(() => planBatches([], { maxRequestBytes: SEGMENT_LIMITS.maxRequestBytes + 1 })).toThrow(RangeError);
    expect(() => planBatches([], { maxBatchEvents: 2501 })).toThrow(RangeError);
    expect(() => planBatches([], { maxBatchEvents: 0 })).toThrow(RangeError);
    expect(() => planBatches([], { maxCallBytes: 32 * 1024 + 1 })).toThrow(RangeError);
    expect(() => planBatches([], { maxRequestBytes: 1000 })).toThrow(/too small/);
  });

  it('property: every item lands exactly once, in order, and every batch is within all limits', () => {
    const arbItem = fc.record({
      len: fc.oneof(fc.integer({ min: 0, max: 2000 }), fc.integer({ min: 30_000, max: 34_000 })),
      ch: fc.constantFrom('a', 'é', '😀', '\\n'),
    });
    fc.assert(
      fc.property(
        fc.array(arbItem, { maxLength: 120 }),
        fc.integer({ min: 40_000, max: SEGMENT_LIMITS.maxRequestBytes }),
        fc.integer({ min: 1, max: 50 }),
        (specs, maxRequestBytes, maxBatchEvents) => {
          const items = specs.map((s, i) => item(`id${i}`, `"${s.ch.repeat(Math.ceil(s.len / bytesOf(s.ch)))}"`));
          const { batches, oversized } = planBatches(items, { maxRequestBytes, maxBatchEvents });
          const seen = [...batches.flatMap((b) => b.items), ...oversized.map((o) => o.item)];
          expect(seen.map((i) => i.messageId).sort()).toEqual(items.map((i) => i.messageId).sort());
          expect(batches.flatMap((b) => b.items)).toEqual(
            items.filter((i) => bytesOf(i.json) <= SEGMENT_LIMITS.maxCallBytes),
          );
          for (const o of oversized) expect(o.bytes).toBeGreaterThan(SEGMENT_LIMITS.maxCallBytes);
          for (const b of batches) {
            expect(b.items.length).toBeGreaterThan(0);
            expect(b.items.length).toBeLessThanOrEqual(maxBatchEvents);
            expect(b.bytes).toBe(bytesOf(batchBody(b.items, SENT_AT)));
            expect(b.bytes).toBeLessThanOrEqual(maxRequestBytes);
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});
