/**
 * The ports of the connector app (runtime/app.ts): everything it needs of the outside world, declared here, in the
 * app's own terms, and implemented by the adapters (runtime/adapters/*). The app imports this module, runtime/core and
 * runtime/log only (lint-enforced); runtime/runtime.ts wires the real adapters to these ports, tests wire the same
 * adapters to the emulators and the local Segment server.
 */
import type { AdmitAction, CredentialState, Decision, FollowUp, ProbeOutcome } from './core/expiry';
import type { DeadLetter, DeliveryItem } from './core/types';

export type { CredentialCheck, CredentialCheckResult } from './core/credential-check';

// ---------- the state store (runtime/adapters/firestore-state.ts) ----------

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

/** Events of types the catalogue does not know, by type (a lower bound), with when each was first and last seen. */
export type UnknownTypeTotals = Readonly<
  Record<string, { readonly events: number; readonly firstSeenAt?: number; readonly lastSeenAt?: number }>
>;

/** What the status command shows. */
export interface ConnectorStatus {
  readonly state: CredentialState;
  readonly dropped: DroppedTotals;
  readonly unknownTypes: UnknownTypeTotals;
  readonly lastDeliveryAt?: number;
  readonly updatedAt?: number;
  /** Parked documents and events (aggregation queries). */
  readonly parkedDocs: number;
  readonly parkedEvents: number;
}

/**
 * A decision as the store made it: `version` is the stored state's version after it (the one `next` is stored with).
 * A caller that goes on to try the credential names it as the basis of what it then observes.
 */
export type StoredDecision<A extends string> = Decision<A> & { readonly version: number };

/**
 * What the app needs of the connector's state store. Every credential observation names its basis: the state version
 * the app decided on before it tried the credential (compare-and-set, runtime/core/expiry.ts).
 */
export interface StateStore {
  admit(): Promise<StoredDecision<AdmitAction>>;
  recordFailure(detail: string, basis: number): Promise<StoredDecision<FollowUp>>;
  probe(outcome: ProbeOutcome, basis: number): Promise<StoredDecision<FollowUp>>;
  expire(): Promise<StoredDecision<FollowUp>>;
  noteDelivery(): Promise<boolean>;
  recordDropped(byType: Readonly<Record<string, number>>): Promise<void>;
  /** Counts events of types the catalogue does not know, for `status` (no write per event; never rejects). */
  noteUnknownTypes(byType: Readonly<Record<string, number>>): Promise<boolean>;
  park(group: ParkGroupInput): Promise<ParkResult>;
  listParked(opts?: { limit?: number }): Promise<{ groups: readonly ParkedGroup[] }>;
  deleteGroup(group: Pick<ParkedGroup, 'groupId' | 'parts'>): Promise<void>;
  dropAllParked(): Promise<DropResult>;
  invalidateCache(): void;
  readStatus(): Promise<ConnectorStatus>;
}

/** Document operations a store made (a query counts its documents, at least 1; an aggregation counts 1). */
export interface StoreStats {
  reads: number;
  /** Documents created or updated. */
  writes: number;
  deletes: number;
  transactions: number;
}

/** The state store as the runtime's owner holds it (tests, benchmarks, the local host): also its reads and close. */
export interface OwnedStateStore extends StateStore {
  readonly stats: StoreStats;
  current(): Promise<CredentialState>;
  close(): Promise<void>;
}

// ---------- Segment (runtime/adapters/segment) ----------

/** Where each item of a `deliver` call ended: every item passed in ends in exactly one list. */
export interface DeliveryReport<T> {
  /** Carried by a request Segment answered 2xx. */
  delivered: T[];
  /**
   * Refused for good: 400 for the event alone (after splitting), 413 for the event alone, 501/505 for its request
   * (Segment cannot take the request as made; retrying cannot help), or `status` 0 for an event over 32 KB that was
   * never sent. The caller dead-letters these (reason `rejected`). `detail` names the cause, never a secret.
   */
  rejected: { item: T; status: number; detail: string }[];
  /** Not delivered within the budget (5xx, 429, network, timeout, an unexpected status): let Pub/Sub redeliver. */
  retryLater: T[];
  /** Not sent, or refused with 401/403, because the credential does not work (see `credentialError`). */
  credentialFailure: T[];
  /** Why the credential failed, without any secret value. */
  credentialError?: string;
  /** Tracking API HTTP requests made (token requests not included). */
  requests: number;
  /** Segment's answers to those requests by HTTP status (`network` for no answer: refused, reset, timed out). */
  statuses: Record<string, number>;
}

/** What the app needs of the Segment client. */
export interface Delivery {
  /** Sends the items within `budgetMs` (retries included). Never throws for a delivery problem. */
  deliver<T extends DeliveryItem>(items: readonly T[], options: { budgetMs: number }): Promise<DeliveryReport<T>>;
  /** Checks the credential without sending an event (the probe, when nothing is parked). */
  verifyCredential(options: { budgetMs: number }): Promise<ProbeOutcome & { inconclusive?: boolean }>;
}

// ---------- dead letters (runtime/adapters/dead-letters.ts) ----------

export interface DeadLetterPublishResult {
  /** Number of messages acknowledged by Pub/Sub. */
  readonly published: number;
  /** Pub/Sub message ids of the dead letters, in the order given. */
  readonly messageIds: readonly string[];
  /** Count by reason (for the `dead_lettered` log line). */
  readonly byReason: Readonly<Record<string, number>>;
}

/** Where events that can never be delivered go (kept for inspection and replay). */
export interface DeadLetterSink {
  /** Resolves when every letter is acknowledged; rejects when any could not be published. */
  publish(letters: readonly DeadLetter[]): Promise<DeadLetterPublishResult>;
}

// ---------- traces (runtime/adapters/firestore-trace.ts) ----------

/** Records the outcome of a traced message (`currents_trace` attribute), for `currents send-test`. */
export interface TraceSink {
  record(traceId: string, outcome: Record<string, unknown>): Promise<void>;
}
