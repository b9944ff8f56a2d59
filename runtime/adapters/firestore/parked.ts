/**
 * The events parked while the credential fails, in the `parked` collection: `parked/<group>-<part>` holds one incoming
 * Pub/Sub message's events, split into parts under ~800 KB (documents are at most 1 MiB): { group, pubsubMessageId, part,
 * parts, count, createdAt, expireAt, items: [{ messageId, eventType, json }] }. `expireAt` (the TTL policy's field) =
 * failingSince + grace + margin (24 h), so that the probe, which counts what it drops, does the dropping and the TTL only
 * cleans up what it somehow missed.
 */
import { createHash } from 'node:crypto';
import type { DocumentSnapshot } from '@google-cloud/firestore';
import { FIRESTORE_LAYOUT } from '../../../shared/names';
import type { Clock } from '../../core/types';
import type { DropResult, ParkedGroup, ParkedItem, ParkGroupInput, ParkResult } from '../../ports';
import type { FirestoreConnection } from './connection';
import { droppedIncrement, millis, stateFromDoc } from './documents';

export type { DropResult, ParkedGroup, ParkedItem, ParkGroupInput, ParkResult } from '../../ports';

/** Where the next page of parked groups starts. */
export interface ParkedCursor {
  readonly createdAt: number;
  readonly docId: string;
}

export interface ParkedPage {
  readonly groups: readonly ParkedGroup[];
  /** Present when there may be more groups after this page. */
  readonly next?: ParkedCursor;
}

export const DEFAULT_MAX_PARKED_DOC_BYTES = 800_000;

/** Firestore's ALREADY_EXISTS gRPC code. */
const ALREADY_EXISTS = 6;

/** Estimated Firestore storage size of a parked item (strings count UTF-8 bytes + 1, field names too). */
function itemSize(item: ParkedItem): number {
  return (
    10 + // "messageId" + 1
    10 + // "eventType" + 1
    5 + // "json" + 1
    Buffer.byteLength(item.messageId) +
    Buffer.byteLength(item.eventType) +
    Buffer.byteLength(item.json) +
    3 +
    32
  );
}

/** The deterministic group id of a Pub/Sub message (its ids may hold characters unfit for document ids). */
export function parkedGroupId(pubsubMessageId: string): string {
  return `g-${createHash('sha256').update(pubsubMessageId).digest('hex').slice(0, 40)}`;
}

function partDocId(groupId: string, part: number): string {
  return `${groupId}-${String(part).padStart(4, '0')}`;
}

/** Splits items into parts whose estimated size stays under maxBytes (an item bigger than that gets a part alone). */
export function splitIntoParts(items: readonly ParkedItem[], maxBytes: number): ParkedItem[][] {
  const parts: ParkedItem[][] = [];
  let current: ParkedItem[] = [];
  let size = 0;
  for (const item of items) {
    const s = itemSize(item);
    if (current.length && size + s > maxBytes) {
      parts.push(current);
      current = [];
      size = 0;
    }
    current.push(item);
    size += s;
  }
  if (current.length) parts.push(current);
  return parts;
}

export interface ParkedEventsOptions {
  readonly clock: Clock;
  /** Estimated size above which a group is split into another document. */
  readonly maxDocBytes: number;
  /** Parked documents dropped per transaction. */
  readonly dropPageDocs: number;
}

export class ParkedEvents {
  constructor(
    private readonly conn: FirestoreConnection,
    private readonly opts: ParkedEventsOptions,
  ) {}

  /**
   * Parks the events of one incoming Pub/Sub message as one group (one or more documents, written atomically), created at
   * `now` and expiring at `expireAtMs`. Idempotent: a redelivery of the same message finds the group's documents and
   * writes nothing.
   */
  async park(group: ParkGroupInput, now: number, expireAtMs: number): Promise<ParkResult> {
    const groupId = parkedGroupId(group.pubsubMessageId);
    const { db, fs, parked } = await this.conn.refs();
    const parts = splitIntoParts(group.items, this.opts.maxDocBytes);
    const createdAt = fs.Timestamp.fromMillis(now);
    const expireAt = fs.Timestamp.fromMillis(expireAtMs);
    const batch = db.batch();
    parts.forEach((items, part) => {
      batch.create(parked.doc(partDocId(groupId, part)), {
        group: groupId,
        pubsubMessageId: group.pubsubMessageId,
        part,
        parts: parts.length,
        count: items.length,
        createdAt,
        [FIRESTORE_LAYOUT.parkedExpiryField]: expireAt,
        items: items.map((i) => ({ messageId: i.messageId, eventType: i.eventType, json: i.json })),
      });
    });
    try {
      await batch.commit();
    } catch (err) {
      if ((err as { code?: unknown }).code === ALREADY_EXISTS) {
        return { groupId, docs: 0, events: group.items.length, alreadyParked: true };
      }
      throw err;
    }
    this.conn.stats.writes += parts.length;
    return { groupId, docs: parts.length, events: group.items.length, alreadyParked: false };
  }

  /**
   * Parked groups, oldest first (by createdAt, then document id), `limit` groups per page at most. A group stored in
   * several parts is returned whole.
   */
  async listParked(opts: { limit?: number; after?: ParkedCursor } = {}): Promise<ParkedPage> {
    const limit = Math.max(1, opts.limit ?? 20);
    const { fs, parked } = await this.conn.refs();
    let q = parked.orderBy('createdAt').orderBy(fs.FieldPath.documentId());
    if (opts.after) q = q.startAfter(fs.Timestamp.fromMillis(opts.after.createdAt), opts.after.docId);
    const snap = await q.limit(limit).get();
    this.conn.stats.reads += Math.max(1, snap.size);
    const byGroup = new Map<string, DocumentSnapshot[]>();
    for (const doc of snap.docs) {
      const g = String(doc.get('group'));
      const list = byGroup.get(g) ?? [];
      list.push(doc);
      byGroup.set(g, list);
    }
    const groups: ParkedGroup[] = [];
    let lastDoc: { createdAt: number; docId: string } | undefined;
    for (const [groupId, docs] of byGroup) {
      const parts = Number(docs[0]!.get('parts')) || 1;
      let all = docs;
      if (docs.length < parts) {
        // The page cut the group (or started inside it): fetch its other parts by id.
        const have = new Set(docs.map((d) => d.id));
        const missing = Array.from({ length: parts }, (_, i) => partDocId(groupId, i)).filter((id) => !have.has(id));
        const more = await parked.firestore.getAll(...missing.map((id) => parked.doc(id)));
        this.conn.stats.reads += more.length;
        all = [...docs, ...more.filter((d) => d.exists)];
      }
      all.sort((a, b) => Number(a.get('part')) - Number(b.get('part')));
      const first = all[0]!;
      groups.push({
        groupId,
        pubsubMessageId: String(first.get('pubsubMessageId')),
        createdAt: millis(first.get('createdAt')) ?? 0,
        expireAt: millis(first.get(FIRESTORE_LAYOUT.parkedExpiryField)) ?? 0,
        items: all.flatMap((d) => (d.get('items') as ParkedItem[] | undefined) ?? []),
        parts,
      });
      const last = all[all.length - 1]!;
      lastDoc = { createdAt: millis(last.get('createdAt')) ?? 0, docId: last.id };
    }
    return snap.size < limit || !lastDoc ? { groups } : { groups, next: lastDoc };
  }

  /** Deletes a parked group (all its parts, atomically): call it only after every one of its events was delivered. */
  async deleteGroup(group: Pick<ParkedGroup, 'groupId' | 'parts'>): Promise<void> {
    const { db, parked } = await this.conn.refs();
    const batch = db.batch();
    for (let i = 0; i < group.parts; i++) batch.delete(parked.doc(partDocId(group.groupId, i)));
    await batch.commit();
    this.conn.stats.deletes += group.parts;
  }

  /**
   * Drops every parked event while the connector is `expired`, page by page, each page in a transaction that checks the
   * state, deletes the page's documents and adds their counts to the state document's `dropped` totals, so that
   * concurrent droppers never count an event twice. Returns what THIS call dropped, by event type, for the caller to log
   * (`events_dropped`) and report. Stops (stopped: 'not_expired') if the connector is not expired.
   */
  async dropAllParked(): Promise<DropResult> {
    const { db, fs, stateRef, parked } = await this.conn.refs();
    const { stats } = this.conn;
    const { dropPageDocs, clock } = this.opts;
    const byType: Record<string, number> = {};
    let docs = 0;
    let events = 0;
    for (;;) {
      const page = await retryClosedTransaction(() =>
        db.runTransaction(async (tx) => {
          stats.transactions++;
          const stateSnap = (await tx.get(stateRef)) as DocumentSnapshot;
          stats.reads++;
          if (stateFromDoc(stateSnap.data()).status !== 'expired') return { stopped: true as const };
          const snap = await tx.get(parked.orderBy('createdAt').limit(dropPageDocs));
          stats.reads += Math.max(1, snap.size);
          const counts: Record<string, number> = {};
          let n = 0;
          for (const doc of snap.docs) {
            for (const item of (doc.get('items') as ParkedItem[] | undefined) ?? []) {
              counts[item.eventType] = (counts[item.eventType] ?? 0) + 1;
              n++;
            }
            tx.delete(doc.ref);
          }
          if (n > 0) {
            tx.set(stateRef, droppedIncrement(fs, counts, n, clock.now()), { merge: true });
          }
          return { stopped: false as const, counts, n, size: snap.size };
        }),
      );
      if (page.stopped) {
        return { docs, events, byType, stopped: 'not_expired' };
      }
      stats.deletes += page.size;
      if (page.n > 0) stats.writes++;
      docs += page.size;
      events += page.n;
      for (const [t, c] of Object.entries(page.counts)) byType[t] = (byType[t] ?? 0) + c;
      if (page.size < dropPageDocs) return { docs, events, byType };
    }
  }
}

/**
 * Runs a transaction again when Firestore answers INVALID_ARGUMENT "Transaction is invalid or closed": what the emulator
 * answers a transaction that lost a race for the same documents (production Firestore answers ABORTED, which the
 * client retries by itself). The transaction is re-run from the start, so it decides again on what it reads.
 */
export async function retryClosedTransaction<T>(run: () => Promise<T>, attempts = 5): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await run();
    } catch (err) {
      const e = err as { code?: unknown; message?: unknown };
      const closed = e.code === 3 && /Transaction is invalid or closed/.test(String(e.message));
      if (!closed || i >= attempts) throw err;
      await new Promise((r) => setTimeout(r, 20 * i));
    }
  }
}
