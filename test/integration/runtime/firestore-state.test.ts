/**
 * The connector's Firestore state (runtime/adapters/firestore-state.ts) on the real Firestore emulator. Every test uses
 * its own named database (unique id), so tests never see each other's state. Time comes from a manual clock: nothing here
 * waits for real time to pass.
 */
import { Firestore, Timestamp } from '@google-cloud/firestore';
import { randomUUID } from 'node:crypto';
import {
  FirestoreStateStore,
  type FirestoreStateOptions,
  type ParkedItem,
  parkedGroupId,
  splitIntoParts,
} from '../../../runtime/adapters/firestore-state';
import { DEFAULT_GRACE_MS, DEFAULT_PARK_TTL_MARGIN_MS } from '../../../runtime/core/expiry';
import type { Clock } from '../../../runtime/core/types';
import { FIRESTORE_LAYOUT } from '../../../shared/names';

const projectId = process.env.GOOGLE_CLOUD_PROJECT!;
const MIN = 60_000;
const HOUR = 60 * MIN;
const T0 = Date.UTC(2026, 2, 1);

function manualClock(start = T0): Clock & { set(ms: number): void; advance(ms: number): void } {
  let t = start;
  return { now: () => t, set: (ms) => (t = ms), advance: (ms) => (t += ms) };
}

const open: { close(): Promise<void> }[] = [];
afterAll(async () => {
  await Promise.all(open.map((s) => s.close()));
});

function newDatabaseId(): string {
  return `currents-t-${randomUUID().slice(0, 12)}`;
}

function store(databaseId: string, clock: Clock, extra: Partial<FirestoreStateOptions> = {}): FirestoreStateStore {
  const s = new FirestoreStateStore({ projectId, databaseId, graceMs: DEFAULT_GRACE_MS, clock, ...extra });
  open.push(s);
  return s;
}

/** A plain client on the same database, to look at what the adapter wrote. */
function inspect(databaseId: string): Firestore {
  const db = new Firestore({ projectId, databaseId });
  open.push({ close: () => db.terminate() });
  return db;
}

function items(n: number, type = 'users.messages.email.Send', size = 200, prefix = 'e'): ParkedItem[] {
  return Array.from({ length: n }, (_, i) => ({
    messageId: `${prefix}-${i}`,
    eventType: type,
    json: JSON.stringify({ type: 'track', messageId: `${prefix}-${i}`, pad: 'x'.repeat(size) }),
  }));
}

describe('steady state', () => {
  it('reads the state at most once per cache period and writes nothing per event', async () => {
    const clock = manualClock();
    const s = store(newDatabaseId(), clock);
    // A burst of concurrent admissions shares one read.
    const first = await Promise.all(Array.from({ length: 50 }, () => s.admit()));
    expect(first.every((d) => d.action === 'send' && !d.changed)).toBe(true);
    expect(s.stats).toEqual({ reads: 1, writes: 0, deletes: 0, transactions: 0 });
    for (let i = 0; i < 1000; i++) {
      clock.advance(4); // 4 s of events, one every 4 ms
      expect((await s.admit()).action).toBe('send');
      await s.recordSuccess();
    }
    expect(s.stats.reads).toBe(1);
    expect(s.stats.writes).toBe(0);
    clock.advance(1_000); // 5 s since the read: the cache period is over
    await s.admit();
    expect(s.stats.reads).toBe(2);
    expect(s.stats.writes).toBe(0);
  });

  it('writes lastDeliveryAt at most once a minute per instance, and the status shows it', async () => {
    const clock = manualClock();
    const db = newDatabaseId();
    const s = store(db, clock);
    expect(await s.noteDelivery()).toBe(true);
    for (let i = 0; i < 100; i++) {
      clock.advance(500);
      expect(await s.noteDelivery()).toBe(false);
    }
    expect(s.stats.writes).toBe(1);
    clock.advance(10_000); // 60 s after the first note
    expect(await s.noteDelivery()).toBe(true);
    expect(s.stats.writes).toBe(2);
    const status = await store(db, clock).readStatus();
    expect(status.lastDeliveryAt).toBe(T0 + 60_000);
    expect(status.state).toEqual({ status: 'active' });
    expect(status.dropped).toEqual({ total: 0, byType: {} });
    expect(status.parkedDocs).toBe(0);
  });

  it('counts unknown event types by type: at once for a type new to the instance, else at most once a minute', async () => {
    const clock = manualClock();
    const db = newDatabaseId();
    const s = store(db, clock);
    const tg = 'users.messages.telegram.Send';
    expect(await s.noteUnknownTypes({ [tg]: 3 })).toBe(true);
    for (let i = 0; i < 50; i++) {
      clock.advance(1_000);
      expect(await s.noteUnknownTypes({ [tg]: 2 })).toBe(false);
    }
    // Another type, new to this instance: written at once, with what was pending of the first.
    expect(await s.noteUnknownTypes({ 'users.messages.viber.Send': 1 })).toBe(true);
    expect(s.stats.writes).toBe(2);
    clock.advance(60_000);
    expect(await s.noteUnknownTypes({ [tg]: 4 })).toBe(true);
    const status = await store(db, clock).readStatus();
    expect(status.unknownTypes).toEqual({
      [tg]: { events: 3 + 100 + 4, firstSeenAt: T0, lastSeenAt: T0 + 110_000 },
      'users.messages.viber.Send': { events: 1, firstSeenAt: T0 + 50_000, lastSeenAt: T0 + 50_000 },
    });
  });
});

describe('credential state transitions', () => {
  it('records the first failure once; later failures keep failingSince; another instance reads the same state', async () => {
    const clock = manualClock();
    const db = newDatabaseId();
    const a = store(db, clock);
    const first = await a.recordFailure('Segment answered 401');
    expect(first.transition?.type).toBe('failing_started');
    expect(first.next).toEqual({
      status: 'failing',
      failingSince: T0,
      lastFailureAt: T0,
      detail: 'Segment answered 401',
    });
    clock.advance(HOUR);
    const again = await a.recordFailure('OAuth token request refused');
    expect(again.transition).toBeUndefined();
    expect(again.next).toMatchObject({ failingSince: T0, lastFailureAt: T0 + HOUR });
    // the cache was updated by the transaction: admit parks without another read
    const reads = a.stats.reads;
    expect((await a.admit()).action).toBe('park');
    expect(a.stats.reads).toBe(reads);

    const b = store(db, clock);
    expect(await b.current()).toEqual({
      status: 'failing',
      failingSince: T0,
      lastFailureAt: T0 + HOUR,
      detail: 'OAuth token request refused',
    });
    const raw = (await inspect(db).doc(FIRESTORE_LAYOUT.stateDocument).get()).data()!;
    expect(raw.status).toBe('failing');
    expect((raw.failingSince as Timestamp).toMillis()).toBe(T0);
  });

  it('instances racing on the first failure agree on ONE failingSince and report failing_started once', async () => {
    for (let round = 0; round < 2; round++) {
      const db = newDatabaseId();
      // Separate clients whose clocks disagree by a few seconds.
      const stores = [0, 1, 2, 3].map((i) => store(db, manualClock(T0 + i * 1000)));
      const decisions = await Promise.all(stores.map((s, i) => s.recordFailure(`failure seen by instance ${i}`)));
      expect(decisions.filter((d) => d.transition?.type === 'failing_started')).toHaveLength(1);
      const since = decisions.map((d) => (d.next.status === 'failing' ? d.next.failingSince : undefined));
      expect(new Set(since).size).toBe(1);
      const fresh = store(db, manualClock());
      const state = await fresh.current();
      expect(state.status === 'failing' && state.failingSince).toBe(since[0]);
    }
  });

  it('parks at 47h59m and drops at 48h01m; the expiry is written once even when instances race', async () => {
    const db = newDatabaseId();
    const clock = manualClock();
    await store(db, clock).recordFailure('Segment answered 401');

    clock.set(T0 + 47 * HOUR + 59 * MIN);
    const a = store(db, clock);
    const b = store(db, clock);
    expect((await a.admit()).action).toBe('park');
    expect(a.stats.writes).toBe(0);

    clock.set(T0 + 48 * HOUR + 1 * MIN);
    a.invalidateCache();
    const [da, db2] = await Promise.all([a.admit(), b.admit()]);
    expect(da.action).toBe('drop');
    expect(db2.action).toBe('drop');
    expect([da, db2].filter((d) => d.transition?.type === 'expired')).toHaveLength(1);
    expect(await store(db, clock).current()).toMatchObject({
      status: 'expired',
      failingSince: T0,
      expiredAt: T0 + 48 * HOUR + MIN,
    });
  });

  it('the probe expires past the grace period, and a successful probe recovers (once) to active', async () => {
    const db = newDatabaseId();
    const clock = manualClock();
    const s = store(db, clock);
    await s.recordFailure('Segment answered 403');
    clock.set(T0 + DEFAULT_GRACE_MS); // exactly at the boundary: still failing
    expect((await s.probe({ ok: false, detail: 'still 403' })).next.status).toBe('failing');
    expect((await s.expire()).changed).toBe(false);
    clock.advance(1);
    const expired = await s.expire();
    expect(expired.transition?.type).toBe('expired');
    expect(expired.action).toBe('drop_parked');

    clock.advance(HOUR);
    const other = store(db, clock);
    const [r1, r2] = await Promise.all([s.probe({ ok: true }), other.recordSuccess()]);
    expect([r1, r2].filter((d) => d.transition?.type === 'recovered')).toHaveLength(1);
    const after = await store(db, clock).current();
    expect(after).toEqual({ status: 'active', recoveredAt: T0 + DEFAULT_GRACE_MS + 1 + HOUR });
    // the failure fields are gone from the document
    const raw = (await inspect(db).doc(FIRESTORE_LAYOUT.stateDocument).get()).data()!;
    expect(raw.failingSince).toBeUndefined();
    expect(raw.detail).toBeUndefined();
  });
});

describe('compare-and-set on the state version', () => {
  it('every state write bumps the version; a decision on an older version is re-decided, never undoing a change', async () => {
    const db = newDatabaseId();
    const clock = manualClock();
    const a = store(db, clock, { cacheMs: 0 });
    const b = store(db, clock, { cacheMs: 0 });
    const basis = (await a.admit()).version; // active, read before a push tries the credential
    expect(basis).toBe(0);
    // The probe reads the state (its basis) and tries the credential; meanwhile a push sees a failure.
    const probeBasis = (await b.expire()).version;
    clock.advance(MIN);
    const failed = await a.recordFailure('Segment answered 401', basis);
    expect(failed.transition?.type).toBe('failing_started');
    expect(failed.version).toBe(1);
    // A success decided on the older (active) version does not recover; nor does an untested outcome.
    const stale = await b.probe({ ok: true }, probeBasis);
    expect(stale.next).toMatchObject({ status: 'failing', failingSince: T0 + MIN });
    expect(stale.changed).toBe(false);
    expect(stale.version).toBe(1);
    expect((await b.probe({ untested: true }, 1)).next.status).toBe('failing');
    const raw = (await inspect(db).doc(FIRESTORE_LAYOUT.stateDocument).get()).data()!;
    expect(raw.version).toBe(1);
    // A success decided on the current version recovers (version 2); a failure seen before it is then ignored.
    clock.advance(MIN);
    const recovered = await b.probe({ ok: true }, 1);
    expect(recovered.transition?.type).toBe('recovered');
    expect(recovered.version).toBe(2);
    const late = await a.recordFailure('Segment answered 401', 1);
    expect(late.changed).toBe(false);
    expect(late.next).toEqual({ status: 'active', recoveredAt: T0 + 2 * MIN });
    // A failure on a failing state decided on an older version keeps failingSince (same episode).
    clock.advance(MIN);
    await a.recordFailure('Segment answered 401', 2);
    clock.advance(MIN);
    const again = await b.recordFailure('OAuth token request refused', 0);
    expect(again.next).toMatchObject({ status: 'failing', failingSince: T0 + 3 * MIN, lastFailureAt: T0 + 4 * MIN });
    expect(again.transition).toBeUndefined();
  });
});

describe('parking', () => {
  it('stores one group per Pub/Sub message with createdAt, messageId, items and the TTL field; idempotent on redelivery', async () => {
    const db = newDatabaseId();
    const clock = manualClock();
    const s = store(db, clock);
    await s.recordFailure('Segment answered 401');
    clock.advance(2 * HOUR);
    const group = { pubsubMessageId: '1234567890', items: items(3) };
    const r = await s.park(group);
    expect(r).toEqual({ groupId: parkedGroupId('1234567890'), docs: 1, events: 3, alreadyParked: false });
    const writes = s.stats.writes;
    clock.advance(MIN);
    expect(await s.park(group)).toMatchObject({ docs: 0, alreadyParked: true });
    expect(s.stats.writes).toBe(writes);

    const docs = (await inspect(db).collection(FIRESTORE_LAYOUT.parkedCollection).get()).docs;
    expect(docs).toHaveLength(1);
    const d = docs[0]!.data();
    expect(d.pubsubMessageId).toBe('1234567890');
    expect((d.createdAt as Timestamp).toMillis()).toBe(T0 + 2 * HOUR);
    expect(d[FIRESTORE_LAYOUT.parkedExpiryField]).toBeInstanceOf(Timestamp);
    expect((d[FIRESTORE_LAYOUT.parkedExpiryField] as Timestamp).toMillis()).toBe(
      T0 + DEFAULT_GRACE_MS + DEFAULT_PARK_TTL_MARGIN_MS,
    );
    expect(d.items).toEqual(group.items);
    expect(d.count).toBe(3);
  });

  it('splits a group over ~800 KB into several documents and reads it back whole; deleteGroup removes every part', async () => {
    const db = newDatabaseId();
    const clock = manualClock();
    const s = store(db, clock);
    const big = items(250, 'users.behaviors.CustomEvent', 9_000); // ~2.3 MB
    const r = await s.park({ pubsubMessageId: 'big-1', items: big });
    expect(r.docs).toBe(3);
    const raw = await inspect(db).collection(FIRESTORE_LAYOUT.parkedCollection).get();
    expect(raw.size).toBe(3);
    for (const doc of raw.docs) expect(JSON.stringify(doc.data()).length).toBeLessThan(1_000_000);

    const page = await s.listParked({ limit: 1 }); // the page cuts the group: its other parts are fetched
    expect(page.groups).toHaveLength(1);
    expect(page.groups[0]!.items.map((i) => i.messageId)).toEqual(big.map((i) => i.messageId));
    expect(page.groups[0]!.parts).toBe(3);
    await s.deleteGroup(page.groups[0]!);
    expect((await inspect(db).collection(FIRESTORE_LAYOUT.parkedCollection).get()).size).toBe(0);
    expect(s.stats.deletes).toBe(3);
  });

  it('lists groups oldest first in pages, with a cursor, whatever order the ids have', async () => {
    const db = newDatabaseId();
    const clock = manualClock();
    const s = store(db, clock);
    const ids = ['m-e', 'm-a', 'm-d', 'm-b', 'm-c'];
    for (const [i, id] of ids.entries()) {
      clock.set(T0 + i * MIN);
      await s.park({
        pubsubMessageId: id,
        items: items(i === 2 ? 120 : 2, 'users.messages.email.Send', i === 2 ? 9_000 : 50, id),
      });
    }
    const seen: string[] = [];
    let cursor;
    let pages = 0;
    do {
      const page = await s.listParked({ limit: 2, after: cursor });
      seen.push(...page.groups.map((g) => g.pubsubMessageId));
      cursor = page.next;
      pages++;
    } while (cursor && pages < 10);
    expect(seen).toEqual(ids);
    const all = await s.listParked({ limit: 100 });
    expect(all.next).toBeUndefined();
    expect(all.groups.map((g) => g.createdAt)).toEqual(ids.map((_, i) => T0 + i * MIN));
    expect(all.groups[2]!.items).toHaveLength(120);
  });

  it('splitIntoParts keeps every item, in order, and each part under the limit unless one item alone exceeds it', () => {
    const list = items(30, 't', 1_000);
    const parts = splitIntoParts(list, 5_000);
    expect(parts.flat()).toEqual(list);
    expect(parts.length).toBeGreaterThan(5);
    expect(splitIntoParts(items(2, 't', 10_000), 5_000)).toHaveLength(2);
    expect(splitIntoParts([], 5_000)).toEqual([]);
  });
});

describe('dropping when expired', () => {
  async function expiredWithParked(db: string, clock: ReturnType<typeof manualClock>) {
    const s = store(db, clock, { dropPageDocs: 3 });
    await s.recordFailure('Segment answered 401');
    for (let i = 0; i < 7; i++) {
      clock.advance(MIN);
      await s.park({
        pubsubMessageId: `msg-${i}`,
        items: [
          ...items(2, 'users.messages.email.Send', 50, `a${i}`),
          ...items(i, 'users.behaviors.app.SessionStart', 50, `b${i}`),
        ],
      });
    }
    return s;
  }

  it('refuses to drop while failing; once expired drops all, returns counts by type and keeps cumulative totals', async () => {
    const db = newDatabaseId();
    const clock = manualClock();
    const s = await expiredWithParked(db, clock);
    expect(await s.dropAllParked()).toEqual({ docs: 0, events: 0, byType: {}, stopped: 'not_expired' });

    clock.set(T0 + DEFAULT_GRACE_MS + 1);
    await s.expire();
    const dropped = await s.dropAllParked();
    expect(dropped).toEqual({
      docs: 7,
      events: 14 + 21,
      byType: { 'users.messages.email.Send': 14, 'users.behaviors.app.SessionStart': 21 },
    });
    expect((await s.listParked()).groups).toEqual([]);

    await s.recordDropped({ 'users.messages.email.Send': 5 });
    const status = await s.readStatus();
    expect(status.dropped).toEqual({
      total: 40,
      byType: { 'users.messages.email.Send': 19, 'users.behaviors.app.SessionStart': 21 },
    });
    expect(status.parkedDocs).toBe(0);
    // event types with dots are single keys of byType, not nested maps
    const raw = (await inspect(db).doc(FIRESTORE_LAYOUT.stateDocument).get()).data()!;
    expect(Object.keys(raw.dropped.byType).sort()).toEqual([
      'users.behaviors.app.SessionStart',
      'users.messages.email.Send',
    ]);
  });

  it('two instances dropping at the same time never count an event twice', async () => {
    const db = newDatabaseId();
    const clock = manualClock();
    await expiredWithParked(db, clock);
    clock.set(T0 + DEFAULT_GRACE_MS + 1);
    const a = store(db, clock, { dropPageDocs: 2 });
    const b = store(db, clock, { dropPageDocs: 2 });
    expect((await a.readStatus()).parkedEvents).toBe(35);
    await a.expire();
    const [ra, rb] = await Promise.all([a.dropAllParked(), b.dropAllParked()]);
    expect(ra.events + rb.events).toBe(35);
    expect(ra.docs + rb.docs).toBe(7);
    const status = await a.readStatus();
    expect(status.dropped.total).toBe(35);
    expect(status.parkedDocs).toBe(0);
  });
});

describe('forConfig and laziness', () => {
  it('uses the connector database, project and grace period of the runtime configuration', async () => {
    const db = newDatabaseId();
    const s = FirestoreStateStore.forConfig(
      {
        project: projectId,
        names: { firestoreDatabase: db } as never,
        connector: { credentialGracePeriod: '5d' } as never,
      },
      { clock: manualClock() },
    );
    open.push(s);
    expect(s.graceMs).toBe(5 * 24 * HOUR);
    await s.recordFailure('x');
    expect(await store(db, manualClock()).current()).toMatchObject({ status: 'failing' });
  });
});
