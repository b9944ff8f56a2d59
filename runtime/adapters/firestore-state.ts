/**
 * The connector's state in its own NAMED Firestore database (databaseId = the connector's resource name): the credential
 * state machine's state, and the events parked while the credential fails.
 *
 * Layout (shared/names.ts FIRESTORE_LAYOUT):
 *  - `connector/state`: { status, failingSince?, lastFailureAt?, detail?, expiredAt?, recoveredAt?, version, updatedAt,
 *    dropped: { total, byType: { <event type>: n } }, lastDeliveryAt?, lastDropAt? } (times are Timestamps). `version`
 *    counts the writes of the credential state (absent = 0): the basis a credential observation names;
 *  - `parked/<group>-<part>`: one incoming Pub/Sub message's events, split into parts under ~800 KB (documents are at most
 *    1 MiB): { group, pubsubMessageId, part, parts, count, createdAt, expireAt, items: [{ messageId, eventType, json }] }.
 *    `expireAt` (the TTL policy's field) = failingSince + grace + margin (24 h), so that the probe, which counts what it
 *    drops, does the dropping and the TTL only cleans up what it somehow missed.
 *
 * Costs:
 *  - steady state (`active`): `current()`/`admit()` read the state doc at most once per cache period (5 s) per instance,
 *    shared by concurrent callers, and write NOTHING per event; `noteDelivery()` writes `lastDeliveryAt` at most once a
 *    minute per instance;
 *  - state changes run the pure decisions of runtime/core/expiry.ts in a transaction on the fresh state, so that
 *    concurrent instances agree on one `failingSince` and report each transition once. A credential observation (a
 *    failure, the probe's outcome) names the `version` it was decided on (its basis: from `admit()` for a push, from
 *    `expire()` for the probe); the transaction tells the decision whether the stored version is still that basis
 *    (compare-and-set), so that a decision made on a stale read never undoes a change made meanwhile.
 *  - `stats` counts this instance's document reads, writes and deletes (transaction retries included).
 *
 * The Firestore client library is loaded lazily, on first use, so that importing this module stays cheap.
 *
 * How the function uses it (sketch):
 *  - per incoming message: `admit()` → send | park | drop. On a credential failure while sending:
 *    `recordFailure(detail, admission.version)` (log its transition), then `park()` what was not delivered. `park` → `park({ pubsubMessageId, items })`.
 *    `drop` → `recordDropped(countsByType)` and log `events_dropped`. After deliveries: `noteDelivery()`.
 *  - the scheduled probe: re-read the secret (`invalidate()`), `expire()` (its version is the basis), try the oldest group
 *    from `listParked({ limit: 1 })`, then `probe(outcome, basis)`; on `drain`: `listParked` page by page, send, `deleteGroup` each delivered group; on `drop_parked`:
 *    `dropAllParked()` and log its counts. A `failing` state cached by another instance may park for up to one cache
 *    period after a recovery; the next probe (action `drain` even when already active) delivers those groups.
 */
import { createHash } from 'node:crypto';
import type {
  CollectionReference,
  DocumentReference,
  DocumentSnapshot,
  Firestore,
  Settings,
} from '@google-cloud/firestore';
import { durationMs } from '../../shared/duration';
import { FIRESTORE_LAYOUT } from '../../shared/names';
import type { RuntimeConfig } from '../../shared/runtime-config';
import {
  admit,
  type AdmitAction,
  type CredentialState,
  type Decision,
  DEFAULT_PARK_TTL_MARGIN_MS,
  expire,
  type FollowUp,
  INITIAL_STATE,
  onCredentialFailure,
  onCredentialSuccess,
  onProbe,
  parkedExpireAt,
  type ProbeOutcome,
} from '../core/expiry';
import { type Clock, systemClock } from '../core/types';

type FirestoreModule = typeof import('@google-cloud/firestore');

/** One parked event: enough to send it later without translating again. */
export interface ParkedItem {
  /** Segment messageId (deduplication key). */
  readonly messageId: string;
  /** Canonical Currents event type (for counting what is dropped). */
  readonly eventType: string;
  /** The serialized Segment call. */
  readonly json: string;
}

/** The events of one incoming Pub/Sub message to park together. */
export interface ParkGroupInput {
  /** The Pub/Sub message id: the group's identity, so that a redelivery parks nothing twice. */
  readonly pubsubMessageId: string;
  readonly items: readonly ParkedItem[];
}

export interface ParkResult {
  readonly groupId: string;
  /** Documents written (0 when already parked or empty). */
  readonly docs: number;
  readonly events: number;
  /** True when this Pub/Sub message had been parked before (a redelivery): nothing was written. */
  readonly alreadyParked: boolean;
}

/** A parked group read back (all its parts joined, items in their original order). */
export interface ParkedGroup {
  readonly groupId: string;
  readonly pubsubMessageId: string;
  readonly createdAt: number;
  readonly expireAt: number;
  readonly items: readonly ParkedItem[];
  /** Number of parts (documents) the group was stored as. */
  readonly parts: number;
}

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

export interface DropResult {
  /** Parked documents dropped. */
  readonly docs: number;
  /** Parked events dropped, in total and by event type. */
  readonly events: number;
  readonly byType: Readonly<Record<string, number>>;
  /** Set when dropping stopped because the connector is no longer expired (e.g. recovered meanwhile). */
  readonly stopped?: 'not_expired';
}

export interface DroppedTotals {
  readonly total: number;
  readonly byType: Readonly<Record<string, number>>;
}

/** What the status command shows. */
export interface ConnectorStatus {
  readonly state: CredentialState;
  readonly dropped: DroppedTotals;
  readonly lastDeliveryAt?: number;
  readonly updatedAt?: number;
  /** Parked documents and events (aggregation queries). */
  readonly parkedDocs: number;
  readonly parkedEvents: number;
}

export interface StoreStats {
  /** Documents read (a query counts its documents, at least 1; an aggregation counts 1). */
  reads: number;
  /** Documents created or updated. */
  writes: number;
  deletes: number;
  transactions: number;
}

export interface FirestoreStateOptions {
  readonly projectId: string;
  /** The connector's database (ConnectorResourceNames.firestoreDatabase). */
  readonly databaseId: string;
  /** The connector's grace period in ms (parse `credentialGracePeriod` with durationMs). */
  readonly graceMs: number;
  readonly clock?: Clock;
  /** How long a read of the state is reused. Default 5 s. */
  readonly cacheMs?: number;
  /** Minimum time between two `lastDeliveryAt` writes of this instance. Default 60 s. */
  readonly lastDeliveryIntervalMs?: number;
  /** Added to failingSince + grace for a parked group's TTL. Default 24 h. */
  readonly ttlMarginMs?: number;
  /** Estimated size above which a group is split into another document. Default 800 KB (documents are ≤ 1 MiB). */
  readonly maxDocBytes?: number;
  /** Parked documents dropped per transaction. Default 20. */
  readonly dropPageDocs?: number;
  /** Extra Firestore client settings (e.g. preferRest). */
  readonly settings?: Settings;
}

/**
 * A decision as the store made it: `version` is the stored state's version after it (the one `next` is stored with).
 * A caller that goes on to try the credential names it as the basis of what it then observes.
 */
export type StoredDecision<A extends string> = Decision<A> & { readonly version: number };

export const DEFAULT_STATE_CACHE_MS = 5_000;
export const DEFAULT_LAST_DELIVERY_INTERVAL_MS = 60_000;
export const DEFAULT_MAX_PARKED_DOC_BYTES = 800_000;

/** Firestore's ABORTED / ALREADY_EXISTS gRPC codes. */
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

function millis(v: unknown): number | undefined {
  if (v && typeof (v as { toMillis?: unknown }).toMillis === 'function')
    return (v as { toMillis(): number }).toMillis();
  if (typeof v === 'number') return v;
  return undefined;
}

/** Reads the state machine's state out of the state document (a missing or unreadable one is `active`). */
export function stateFromDoc(data: Record<string, unknown> | undefined): CredentialState {
  if (!data) return INITIAL_STATE;
  const status = data.status;
  const failingSince = millis(data.failingSince);
  const lastFailureAt = millis(data.lastFailureAt) ?? failingSince;
  const detail = typeof data.detail === 'string' ? data.detail : '';
  if ((status === 'failing' || status === 'expired') && failingSince !== undefined) {
    if (status === 'failing') return { status, failingSince, lastFailureAt: lastFailureAt!, detail };
    return { status, failingSince, lastFailureAt: lastFailureAt!, detail, expiredAt: millis(data.expiredAt) ?? 0 };
  }
  const recoveredAt = millis(data.recoveredAt);
  return recoveredAt !== undefined ? { status: 'active', recoveredAt } : INITIAL_STATE;
}

/** The version of the stored credential state (0 before its first write). */
export function versionFromDoc(data: Record<string, unknown> | undefined): number {
  const v = data?.version;
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 ? v : 0;
}

function droppedFromDoc(data: Record<string, unknown> | undefined): DroppedTotals {
  const d = (data?.dropped ?? {}) as { total?: unknown; byType?: unknown };
  const byType: Record<string, number> = {};
  if (d.byType && typeof d.byType === 'object') {
    for (const [k, v] of Object.entries(d.byType as Record<string, unknown>)) if (typeof v === 'number') byType[k] = v;
  }
  return { total: typeof d.total === 'number' ? d.total : 0, byType };
}

export class FirestoreStateStore {
  readonly stats: StoreStats = { reads: 0, writes: 0, deletes: 0, transactions: 0 };
  readonly graceMs: number;
  private readonly clock: Clock;
  private readonly cacheMs: number;
  private readonly deliveryIntervalMs: number;
  private readonly ttlMarginMs: number;
  private readonly maxDocBytes: number;
  private readonly dropPageDocs: number;
  private ready?: Promise<{ db: Firestore; fs: FirestoreModule }>;
  private cached?: { state: CredentialState; version: number; at: number };
  private inflight?: Promise<{ state: CredentialState; version: number }>;
  private cacheGeneration = 0;
  private lastDeliveryNoted?: number;

  constructor(private readonly opts: FirestoreStateOptions) {
    this.graceMs = opts.graceMs;
    this.clock = opts.clock ?? systemClock;
    this.cacheMs = opts.cacheMs ?? DEFAULT_STATE_CACHE_MS;
    this.deliveryIntervalMs = opts.lastDeliveryIntervalMs ?? DEFAULT_LAST_DELIVERY_INTERVAL_MS;
    this.ttlMarginMs = opts.ttlMarginMs ?? DEFAULT_PARK_TTL_MARGIN_MS;
    this.maxDocBytes = opts.maxDocBytes ?? DEFAULT_MAX_PARKED_DOC_BYTES;
    this.dropPageDocs = opts.dropPageDocs ?? 20;
  }

  /** The store of a deployed (or local) function: the connector's database, project and grace period. */
  static forConfig(
    config: Pick<RuntimeConfig, 'project' | 'names' | 'connector'>,
    opts: Omit<FirestoreStateOptions, 'projectId' | 'databaseId' | 'graceMs'> = {},
  ): FirestoreStateStore {
    return new FirestoreStateStore({
      ...opts,
      projectId: config.project,
      databaseId: config.names.firestoreDatabase,
      graceMs: durationMs(config.connector.credentialGracePeriod),
    });
  }

  private client(): Promise<{ db: Firestore; fs: FirestoreModule }> {
    this.ready ??= import('@google-cloud/firestore').then((fs) => ({
      fs,
      db: new fs.Firestore({
        ...this.opts.settings,
        projectId: this.opts.projectId,
        databaseId: this.opts.databaseId,
        ignoreUndefinedProperties: true,
      }),
    }));
    return this.ready;
  }

  private async refs(): Promise<{
    db: Firestore;
    fs: FirestoreModule;
    stateRef: DocumentReference;
    parked: CollectionReference;
  }> {
    const { db, fs } = await this.client();
    return {
      db,
      fs,
      stateRef: db.doc(FIRESTORE_LAYOUT.stateDocument),
      parked: db.collection(FIRESTORE_LAYOUT.parkedCollection),
    };
  }

  // ---------- the credential state ----------

  /**
   * The state, read at most once per cache period (concurrent callers share one read). This is the hot path: no write.
   */
  async current(): Promise<CredentialState> {
    return (await this.currentVersioned()).state;
  }

  /** `current()` with the version it was read at. */
  private currentVersioned(): Promise<{ state: CredentialState; version: number }> {
    const now = this.clock.now();
    if (this.cached && now - this.cached.at < this.cacheMs) return Promise.resolve(this.cached);
    if (!this.inflight) {
      const gen = this.cacheGeneration;
      const p = (async () => {
        const { stateRef } = await this.refs();
        const snap = await stateRef.get();
        this.stats.reads++;
        const data = snap.data();
        const read = { state: stateFromDoc(data), version: versionFromDoc(data) };
        if (gen === this.cacheGeneration) this.cached = { ...read, at: this.clock.now() };
        return read;
      })();
      this.inflight = p;
      const clear = () => {
        if (this.inflight === p) this.inflight = undefined;
      };
      p.then(clear, clear);
    }
    return this.inflight;
  }

  /** Forgets the cached state: the next `current()` reads it again. */
  invalidateCache(): void {
    this.cached = undefined;
    this.inflight = undefined;
    this.cacheGeneration++;
  }

  /**
   * Runs a pure decision on the FRESH state inside a Firestore transaction and persists its `next` state when it changed,
   * with the version incremented. The decision may run more than once (transaction retries); the one returned is the one
   * committed. Concurrent callers therefore see each other's commits: only one of them reports a given transition.
   * `basis` is the version the caller decided on before it tried the credential: the decision is told whether the stored
   * state is still that one (`basisHolds`; always true without a basis).
   */
  async transact<A extends string>(
    decide: (state: CredentialState, now: number, basisHolds: boolean) => Decision<A>,
    basis?: number,
  ): Promise<StoredDecision<A>> {
    const { db, fs, stateRef } = await this.refs();
    const decision = await db.runTransaction(async (tx) => {
      this.stats.transactions++;
      const snap = (await tx.get(stateRef)) as DocumentSnapshot;
      this.stats.reads++;
      const data = snap.data();
      const stored = versionFromDoc(data);
      const d = decide(stateFromDoc(data), this.clock.now(), basis === undefined || basis === stored);
      if (!d.changed) return { ...d, version: stored };
      tx.set(stateRef, { ...this.stateFields(fs, d.next), version: stored + 1 }, { merge: true });
      return { ...d, version: stored + 1 };
    });
    if (decision.changed) this.stats.writes++;
    this.cached = { state: decision.next, version: decision.version, at: this.clock.now() };
    this.cacheGeneration++;
    this.inflight = undefined;
    return decision;
  }

  private stateFields(fs: FirestoreModule, s: CredentialState): Record<string, unknown> {
    const ts = (ms: number | undefined) => (ms === undefined ? fs.FieldValue.delete() : fs.Timestamp.fromMillis(ms));
    return {
      status: s.status,
      failingSince: ts(s.status === 'active' ? undefined : s.failingSince),
      lastFailureAt: ts(s.status === 'active' ? undefined : s.lastFailureAt),
      detail: s.status === 'active' ? fs.FieldValue.delete() : s.detail,
      expiredAt: ts(s.status === 'expired' ? s.expiredAt : undefined),
      recoveredAt: ts(s.status === 'active' ? s.recoveredAt : undefined),
      updatedAt: fs.Timestamp.fromMillis(this.clock.now()),
    };
  }

  /**
   * What to do with a new event batch (send / park / drop), decided on the cached state. Only when the decision changes
   * the state (failing past the grace period → expired) is it re-decided and written in a transaction, so that the
   * `expired` transition is reported once across instances. Its `version` is the basis of a failure seen sending.
   */
  async admit(): Promise<StoredDecision<AdmitAction>> {
    const { state, version } = await this.currentVersioned();
    const d = admit(state, this.clock.now(), this.graceMs);
    if (!d.changed) return { ...d, version };
    return this.transact((s, now) => admit(s, now, this.graceMs));
  }

  /**
   * A credential failure was seen (transaction: failing_started only for the first of all instances). `basis`: the
   * version the sender decided on (from `admit()`); without it the failure is taken as seen on the current state.
   */
  recordFailure(detail: string, basis?: number): Promise<StoredDecision<FollowUp>> {
    return this.transact((s, now, holds) => onCredentialFailure(s, now, detail, holds), basis);
  }

  /**
   * The credential worked. When the cached state is `active` this costs nothing (no read, no write); otherwise the
   * recovery is decided in a transaction (on `basis`, as `recordFailure`).
   */
  async recordSuccess(basis?: number): Promise<StoredDecision<FollowUp>> {
    const { state, version } = await this.currentVersioned();
    const d = onCredentialSuccess(state, this.clock.now());
    if (!d.changed) return { ...d, version };
    return this.transact((s, now, holds) => onCredentialSuccess(s, now, holds), basis);
  }

  /** The scheduled probe's outcome (transaction), decided on `basis` (the version `expire()` returned). */
  probe(outcome: ProbeOutcome, basis?: number): Promise<StoredDecision<FollowUp>> {
    return this.transact((s, now, holds) => onProbe(s, now, this.graceMs, outcome, holds), basis);
  }

  /** failing → expired once past the grace period (transaction). Its `version` is the probe's basis. */
  expire(): Promise<StoredDecision<FollowUp>> {
    return this.transact((s, now) => expire(s, now, this.graceMs));
  }

  /**
   * Records that events were delivered, as `lastDeliveryAt`, at most once per interval per instance (not per event).
   * Returns true when it wrote.
   */
  async noteDelivery(): Promise<boolean> {
    const now = this.clock.now();
    if (this.lastDeliveryNoted !== undefined && now - this.lastDeliveryNoted < this.deliveryIntervalMs) return false;
    this.lastDeliveryNoted = now;
    const { fs, stateRef } = await this.refs();
    await stateRef.set({ lastDeliveryAt: fs.Timestamp.fromMillis(now) }, { merge: true });
    this.stats.writes++;
    return true;
  }

  /** Adds events dropped on arrival (connector expired) to the cumulative counts in the state document (one write). */
  async recordDropped(byType: Readonly<Record<string, number>>): Promise<void> {
    const { fs, stateRef } = await this.refs();
    const total = Object.values(byType).reduce((a, b) => a + b, 0);
    if (total === 0) return;
    await stateRef.set(this.droppedIncrement(fs, byType, total), { merge: true });
    this.stats.writes++;
  }

  private droppedIncrement(fs: FirestoreModule, byType: Readonly<Record<string, number>>, total: number) {
    // Set with merge takes map keys literally, so event types with dots stay single keys.
    const inc: Record<string, unknown> = {};
    for (const [t, n] of Object.entries(byType)) if (n) inc[t] = fs.FieldValue.increment(n);
    return {
      dropped: { total: fs.FieldValue.increment(total), byType: inc },
      lastDropAt: fs.Timestamp.fromMillis(this.clock.now()),
    };
  }

  /** Fresh state, cumulative drops, last delivery and parked counts (for the status command). */
  async readStatus(): Promise<ConnectorStatus> {
    const { fs, stateRef, parked } = await this.refs();
    const [snap, agg] = await Promise.all([
      stateRef.get(),
      parked.aggregate({ docs: fs.AggregateField.count(), events: fs.AggregateField.sum('count') }).get(),
    ]);
    this.stats.reads += 2;
    const data = snap.data();
    return {
      state: stateFromDoc(data),
      dropped: droppedFromDoc(data),
      lastDeliveryAt: millis(data?.lastDeliveryAt),
      updatedAt: millis(data?.updatedAt),
      parkedDocs: agg.data().docs,
      parkedEvents: agg.data().events ?? 0,
    };
  }

  // ---------- parked events ----------

  /**
   * Parks the events of one incoming Pub/Sub message as one group (one or more documents, written atomically). Idempotent:
   * a redelivery of the same message finds the group's documents and writes nothing.
   */
  async park(group: ParkGroupInput): Promise<ParkResult> {
    const groupId = parkedGroupId(group.pubsubMessageId);
    if (group.items.length === 0) return { groupId, docs: 0, events: 0, alreadyParked: false };
    const now = this.clock.now();
    const state = await this.current();
    const expireAtMs = parkedExpireAt(state, now, this.graceMs, this.ttlMarginMs);
    const { db, fs, parked } = await this.refs();
    const parts = splitIntoParts(group.items, this.maxDocBytes);
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
    this.stats.writes += parts.length;
    return { groupId, docs: parts.length, events: group.items.length, alreadyParked: false };
  }

  /**
   * Parked groups, oldest first (by createdAt, then document id), `limit` groups per page at most. A group stored in
   * several parts is returned whole.
   */
  async listParked(opts: { limit?: number; after?: ParkedCursor } = {}): Promise<ParkedPage> {
    const limit = Math.max(1, opts.limit ?? 20);
    const { fs, parked } = await this.refs();
    let q = parked.orderBy('createdAt').orderBy(fs.FieldPath.documentId());
    if (opts.after) q = q.startAfter(fs.Timestamp.fromMillis(opts.after.createdAt), opts.after.docId);
    const snap = await q.limit(limit).get();
    this.stats.reads += Math.max(1, snap.size);
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
        this.stats.reads += more.length;
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
    const { db, parked } = await this.refs();
    const batch = db.batch();
    for (let i = 0; i < group.parts; i++) batch.delete(parked.doc(partDocId(group.groupId, i)));
    await batch.commit();
    this.stats.deletes += group.parts;
  }

  /**
   * Drops every parked event while the connector is `expired`, page by page, each page in a transaction that checks the
   * state, deletes the page's documents and adds their counts to the state document's `dropped` totals, so that
   * concurrent droppers never count an event twice. Returns what THIS call dropped, by event type, for the caller to log
   * (`events_dropped`) and report. Stops (stopped: 'not_expired') if the connector is not expired.
   */
  async dropAllParked(): Promise<DropResult> {
    const { db, fs, stateRef, parked } = await this.refs();
    const byType: Record<string, number> = {};
    let docs = 0;
    let events = 0;
    for (;;) {
      const page = await db.runTransaction(async (tx) => {
        this.stats.transactions++;
        const stateSnap = (await tx.get(stateRef)) as DocumentSnapshot;
        this.stats.reads++;
        if (stateFromDoc(stateSnap.data()).status !== 'expired') return { stopped: true as const };
        const snap = await tx.get(parked.orderBy('createdAt').limit(this.dropPageDocs));
        this.stats.reads += Math.max(1, snap.size);
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
          tx.set(stateRef, this.droppedIncrement(fs, counts, n), { merge: true });
        }
        return { stopped: false as const, counts, n, size: snap.size };
      });
      if (page.stopped) {
        return { docs, events, byType, stopped: 'not_expired' };
      }
      this.stats.deletes += page.size;
      if (page.n > 0) this.stats.writes++;
      docs += page.size;
      events += page.n;
      for (const [t, c] of Object.entries(page.counts)) byType[t] = (byType[t] ?? 0) + c;
      if (page.size < this.dropPageDocs) return { docs, events, byType };
    }
  }

  /** Closes the Firestore client (tests, shutdown). */
  async close(): Promise<void> {
    if (!this.ready) return;
    const { db } = await this.ready;
    await db.terminate();
    this.ready = undefined;
  }
}
