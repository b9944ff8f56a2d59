/**
 * The connector's state in its own NAMED Firestore database (databaseId = the connector's resource name): one object
 * for the function, the probe and the status command, over two rooms of one concern each:
 *  - ./firestore/credential-state.ts: the credential state machine's state in `connector/state` (cached reads,
 *    compare-and-set transitions, delivery and drop counters);
 *  - ./firestore/parked.ts: the events parked while the credential fails, in `parked/<group>-<part>`, and their dropping.
 * The document layout is shared/names.ts FIRESTORE_LAYOUT; ./firestore/documents.ts reads and writes the state document.
 * The Firestore client library is loaded lazily, on first use (./firestore/connection.ts), so that importing this module
 * stays cheap. `stats` counts this instance's document reads, writes and deletes (transaction retries included).
 *
 * How the function uses it (sketch):
 *  - per incoming message: `admit()` → send | park | drop. On a credential failure while sending:
 *    `recordFailure(detail, admission.version)` (log its transition), then `park()` what was not delivered.
 *    `drop` → `recordDropped(countsByType)` and log `events_dropped`. After deliveries: `noteDelivery()`.
 *  - the scheduled probe: re-read the secret (`invalidateCache()`), `expire()` (its version is the basis), try the oldest
 *    group from `listParked({ limit: 1 })`, then `probe(outcome, basis)`; when it says deliver: `listParked` page by page,
 *    send, `deleteGroup` each delivered group; when it says drop: `dropAllParked()` and log its counts. A `failing` state
 *    cached by another instance may park for up to one cache period after a recovery; the next probe delivers those
 *    groups (it delivers even when already active).
 */
import type { Settings } from '@google-cloud/firestore';
import { durationMs } from '../../shared/duration';
import type { RuntimeConfig } from '../../shared/runtime-config';
import {
  type AdmitAction,
  type CredentialState,
  type Decision,
  DEFAULT_PARK_TTL_MARGIN_MS,
  type FollowUp,
  parkedExpireAt,
  type ProbeOutcome,
} from '../core/expiry';
import { type Clock, systemClock } from '../core/types';
import type {
  ConnectorStatus,
  DropResult,
  OwnedStateStore,
  ParkedGroup,
  ParkGroupInput,
  ParkResult,
  StoredDecision,
  StoreStats,
} from '../ports';
import { FirestoreConnection } from './firestore/connection';
import {
  CredentialStateDocument,
  DEFAULT_LAST_DELIVERY_INTERVAL_MS,
  DEFAULT_STATE_CACHE_MS,
  type StaleStateUse,
} from './firestore/credential-state';
import { droppedFromDoc, millis, stateFromDoc } from './firestore/documents';
import { UnknownTypeCounts, unknownTypesFromDoc } from './firestore/unknown-types';
import {
  DEFAULT_MAX_PARKED_DOC_BYTES,
  type ParkedCursor,
  ParkedEvents,
  type ParkedPage,
  parkedGroupId,
} from './firestore/parked';

export type {
  ConnectorStatus,
  DropResult,
  ParkedGroup,
  ParkedItem,
  ParkGroupInput,
  ParkResult,
  StoredDecision,
  StoreStats,
} from '../ports';
export {
  DEFAULT_LAST_DELIVERY_INTERVAL_MS,
  DEFAULT_STATE_CACHE_MS,
  type StaleStateUse,
} from './firestore/credential-state';
export { stateFromDoc, versionFromDoc } from './firestore/documents';
export {
  DEFAULT_MAX_PARKED_DOC_BYTES,
  type ParkedCursor,
  type ParkedPage,
  parkedGroupId,
  splitIntoParts,
} from './firestore/parked';

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
  /** How long the last known `active` state is used when the state cannot be read. Default cacheMs × 12. */
  readonly staleActiveMs?: number;
  /** A read of the state slower than this counts as failed. Default 2 s. */
  readonly readTimeoutMs?: number;
  /** Told each time the last known `active` state is used because the state could not be read. */
  readonly onStaleState?: (use: StaleStateUse) => void;
  /** Told when the state cannot be read and no known state may be used instead. */
  readonly onUnreadable?: (failure: { ageMs?: number; limitMs: number; detail: string }) => void;
}

export class FirestoreStateStore implements OwnedStateStore {
  readonly stats: StoreStats;
  readonly graceMs: number;
  private readonly clock: Clock;
  private readonly ttlMarginMs: number;
  private readonly conn: FirestoreConnection;
  private readonly credential: CredentialStateDocument;
  private readonly parked: ParkedEvents;
  private readonly unknownTypes: UnknownTypeCounts;

  constructor(opts: FirestoreStateOptions) {
    this.graceMs = opts.graceMs;
    this.clock = opts.clock ?? systemClock;
    this.ttlMarginMs = opts.ttlMarginMs ?? DEFAULT_PARK_TTL_MARGIN_MS;
    this.conn = new FirestoreConnection(opts);
    this.stats = this.conn.stats;
    this.credential = new CredentialStateDocument(this.conn, {
      graceMs: opts.graceMs,
      clock: this.clock,
      cacheMs: opts.cacheMs ?? DEFAULT_STATE_CACHE_MS,
      lastDeliveryIntervalMs: opts.lastDeliveryIntervalMs ?? DEFAULT_LAST_DELIVERY_INTERVAL_MS,
      staleActiveMs: opts.staleActiveMs,
      readTimeoutMs: opts.readTimeoutMs,
      onStaleState: opts.onStaleState,
      onUnreadable: opts.onUnreadable,
    });
    this.unknownTypes = new UnknownTypeCounts(this.conn, {
      clock: this.clock,
      intervalMs: opts.lastDeliveryIntervalMs ?? DEFAULT_LAST_DELIVERY_INTERVAL_MS,
    });
    this.parked = new ParkedEvents(this.conn, {
      clock: this.clock,
      maxDocBytes: opts.maxDocBytes ?? DEFAULT_MAX_PARKED_DOC_BYTES,
      dropPageDocs: opts.dropPageDocs ?? 20,
    });
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

  // ---------- the credential state (./firestore/credential-state.ts) ----------

  /** The state, read at most once per cache period (concurrent callers share one read). The hot path: no write. */
  current(): Promise<CredentialState> {
    return this.credential.current();
  }

  /** Forgets the cached state: the next `current()` reads it again. */
  invalidateCache(): void {
    this.credential.invalidateCache();
  }

  /** Runs a pure decision on the fresh state in a transaction (compare-and-set on `basis`); see CredentialStateDocument. */
  transact<A extends string>(
    decide: (state: CredentialState, now: number, basisHolds: boolean) => Decision<A>,
    basis?: number,
  ): Promise<StoredDecision<A>> {
    return this.credential.transact(decide, basis);
  }

  /** What to do with a new event batch (send / park / drop); its `version` is the basis of a failure seen sending. */
  admit(): Promise<StoredDecision<AdmitAction>> {
    return this.credential.admit();
  }

  /** A credential failure was seen, decided on `basis` (the version from `admit()`). */
  recordFailure(detail: string, basis?: number): Promise<StoredDecision<FollowUp>> {
    return this.credential.recordFailure(detail, basis);
  }

  /** The credential worked (free when the cached state is `active`). */
  recordSuccess(basis?: number): Promise<StoredDecision<FollowUp>> {
    return this.credential.recordSuccess(basis);
  }

  /** The scheduled probe's outcome, decided on `basis` (the version `expire()` returned). */
  probe(outcome: ProbeOutcome, basis?: number): Promise<StoredDecision<FollowUp>> {
    return this.credential.probe(outcome, basis);
  }

  /** failing → expired once past the grace period. Its `version` is the probe's basis. */
  expire(): Promise<StoredDecision<FollowUp>> {
    return this.credential.expire();
  }

  /** Records `lastDeliveryAt`, at most once per interval per instance; true when it wrote. */
  noteDelivery(): Promise<boolean> {
    return this.credential.noteDelivery();
  }

  /** Counts events of unknown types for status: a write for a type new to this instance, else at most once a minute. */
  noteUnknownTypes(byType: Readonly<Record<string, number>>): Promise<boolean> {
    return this.unknownTypes.note(byType);
  }

  /** Adds events dropped on arrival (connector expired) to the cumulative counts (one write). */
  recordDropped(byType: Readonly<Record<string, number>>): Promise<void> {
    return this.credential.recordDropped(byType);
  }

  // ---------- parked events (./firestore/parked.ts) ----------

  /**
   * Parks the events of one incoming Pub/Sub message as one group (idempotent), expiring at failingSince + grace +
   * margin of the current state.
   */
  async park(group: ParkGroupInput): Promise<ParkResult> {
    if (group.items.length === 0) {
      return { groupId: parkedGroupId(group.pubsubMessageId), docs: 0, events: 0, alreadyParked: false };
    }
    const now = this.clock.now();
    const state = await this.credential.current();
    return this.parked.park(group, now, parkedExpireAt(state, now, this.graceMs, this.ttlMarginMs));
  }

  /** Parked groups, oldest first, `limit` groups per page at most, each whole. */
  listParked(opts: { limit?: number; after?: ParkedCursor } = {}): Promise<ParkedPage> {
    return this.parked.listParked(opts);
  }

  /** Deletes a parked group (all its parts, atomically): only after every one of its events was delivered. */
  deleteGroup(group: Pick<ParkedGroup, 'groupId' | 'parts'>): Promise<void> {
    return this.parked.deleteGroup(group);
  }

  /** Drops every parked event while the connector is `expired`, counting them once; returns what this call dropped. */
  dropAllParked(): Promise<DropResult> {
    return this.parked.dropAllParked();
  }

  // ---------- both ----------

  /** Fresh state, cumulative drops, last delivery and parked counts (for the status command). */
  async readStatus(): Promise<ConnectorStatus> {
    const { fs, stateRef, parked } = await this.conn.refs();
    const [snap, agg] = await Promise.all([
      stateRef.get(),
      parked.aggregate({ docs: fs.AggregateField.count(), events: fs.AggregateField.sum('count') }).get(),
    ]);
    this.stats.reads += 2;
    const data = snap.data();
    return {
      state: stateFromDoc(data),
      dropped: droppedFromDoc(data),
      unknownTypes: unknownTypesFromDoc(data),
      lastDeliveryAt: millis(data?.lastDeliveryAt),
      updatedAt: millis(data?.updatedAt),
      parkedDocs: agg.data().docs,
      parkedEvents: agg.data().events ?? 0,
    };
  }

  /** Closes the Firestore client (tests, shutdown). */
  close(): Promise<void> {
    return this.conn.close();
  }
}
