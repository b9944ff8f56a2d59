/**
 * The batch planner: packs translated events into Segment `/v1/batch` requests. Pure (no I/O, no clock).
 *
 * Every size is the UTF-8 byte length of what goes on the wire. The request body is built by concatenating the items'
 * own JSON (never re-serialized), so its length is known exactly before it is built:
 *
 *     {"batch":[<item>,<item>,...],"sentAt":"2024-01-01T00:00:00.000Z"}
 *
 * i.e. `BATCH_BODY_OVERHEAD_BYTES + sum(item bytes) + (count - 1)` for a non-empty batch.
 */
import type { DeliveryItem } from './types';

/** Segment's Tracking API limits (https://segment.com/docs/connections/sources/catalog/libraries/server/http-api/). */
export const SEGMENT_LIMITS = {
  /** Largest single call (`track` payload), in bytes. Segment answers 400 above it. */
  maxCallBytes: 32 * 1024,
  /** Largest `/v1/batch` request body, in bytes. Segment answers 400 above it. */
  maxRequestBytes: 500 * 1024,
  /** Most events in one `/v1/batch` request. */
  maxBatchEvents: 2_500,
} as const;

/**
 * The planner's default request-size ceiling: 500,000 bytes, under Segment's 500 KB whether a KB is read as 1,000 or
 * 1,024 bytes (a 2.3 % margin against the 512,000 the local server enforces). Sizes are exact, so no further margin.
 */
export const DEFAULT_MAX_REQUEST_BYTES = 500_000;

const BODY_HEAD = '{"batch":[';
const BODY_MIDDLE = '],"sentAt":"';
const BODY_TAIL = '"}';
/** Length of an ISO-8601 UTC timestamp from `Date.prototype.toISOString()` (years 0000–9999). */
const SENT_AT_LENGTH = 24;
/** Bytes of a batch body other than its items and the commas between them. */
export const BATCH_BODY_OVERHEAD_BYTES = BODY_HEAD.length + BODY_MIDDLE.length + SENT_AT_LENGTH + BODY_TAIL.length;

export interface BatchPlanOptions {
  /** Request-body ceiling in bytes. Default {@link DEFAULT_MAX_REQUEST_BYTES}; never above Segment's limit. */
  maxRequestBytes?: number;
  /** Events per request. Default and maximum 2,500 (Segment's limit; counts are exact, so no margin is needed). */
  maxBatchEvents?: number;
  /** Largest single call in bytes. Default and maximum 32 KiB. */
  maxCallBytes?: number;
}

export interface PlannedBatch<T> {
  /** The events this request carries, in input order. */
  readonly items: T[];
  /** Exact UTF-8 byte length of the request body {@link batchBody} builds for these items. */
  readonly bytes: number;
}

export interface BatchPlan<T> {
  readonly batches: PlannedBatch<T>[];
  /** Items whose call alone is over the per-call limit: never sent (the translator should have dead-lettered them). */
  readonly oversized: { readonly item: T; readonly bytes: number }[];
}

/** UTF-8 byte length of a string, without encoding it. */
export function utf8Length(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}

/** Exact request-body bytes of a batch of `count` items whose JSON totals `itemBytes` bytes. */
export function batchBodyBytes(itemBytes: number, count: number): number {
  return BATCH_BODY_OVERHEAD_BYTES + itemBytes + Math.max(0, count - 1);
}

/** The `/v1/batch` request body for these items. `sentAt` must be `Date.prototype.toISOString()` output. */
export function batchBody(items: readonly DeliveryItem[], sentAt: string): string {
  if (sentAt.length !== SENT_AT_LENGTH) throw new Error(`sentAt must be a 24-character ISO timestamp, got '${sentAt}'`);
  let body = BODY_HEAD;
  for (let i = 0; i < items.length; i++) body += i === 0 ? items[i]!.json : ',' + items[i]!.json;
  return body + BODY_MIDDLE + sentAt + BODY_TAIL;
}

function resolve(options: BatchPlanOptions): Required<BatchPlanOptions> {
  const maxRequestBytes = options.maxRequestBytes ?? DEFAULT_MAX_REQUEST_BYTES;
  const maxBatchEvents = options.maxBatchEvents ?? SEGMENT_LIMITS.maxBatchEvents;
  const maxCallBytes = options.maxCallBytes ?? SEGMENT_LIMITS.maxCallBytes;
  if (!(maxRequestBytes <= SEGMENT_LIMITS.maxRequestBytes)) throw new RangeError('maxRequestBytes above 500 KB');
  if (!(maxBatchEvents >= 1 && maxBatchEvents <= SEGMENT_LIMITS.maxBatchEvents)) {
    throw new RangeError('maxBatchEvents must be 1..2500');
  }
  if (!(maxCallBytes >= 1 && maxCallBytes <= SEGMENT_LIMITS.maxCallBytes))
    throw new RangeError('maxCallBytes must be 1..32768');
  // Any call that passes the per-call check must fit in a request alone.
  if (batchBodyBytes(maxCallBytes, 1) > maxRequestBytes) throw new RangeError('maxRequestBytes too small for one call');
  return { maxRequestBytes, maxBatchEvents, maxCallBytes };
}

/**
 * Packs items into requests, in input order (greedy: a request is closed when the next item would not fit). Every item
 * ends in exactly one batch or in `oversized`. With calls of ~1 KB the packing loss is a fraction of a percent.
 */
export function planBatches<T extends DeliveryItem>(items: readonly T[], options: BatchPlanOptions = {}): BatchPlan<T> {
  const { maxRequestBytes, maxBatchEvents, maxCallBytes } = resolve(options);
  const batches: PlannedBatch<T>[] = [];
  const oversized: { item: T; bytes: number }[] = [];
  let current: T[] = [];
  let currentItemBytes = 0;
  const close = () => {
    if (current.length) batches.push({ items: current, bytes: batchBodyBytes(currentItemBytes, current.length) });
    current = [];
    currentItemBytes = 0;
  };
  for (const item of items) {
    const bytes = utf8Length(item.json);
    if (bytes > maxCallBytes) {
      oversized.push({ item, bytes });
      continue;
    }
    if (
      current.length >= maxBatchEvents ||
      (current.length > 0 && batchBodyBytes(currentItemBytes + bytes, current.length + 1) > maxRequestBytes)
    ) {
      close();
    }
    current.push(item);
    currentItemBytes += bytes;
  }
  close();
  return { batches, oversized };
}
