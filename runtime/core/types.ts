/**
 * The types the pure core and the adapters exchange. Every event that enters the function ends in exactly one outcome:
 * delivered, skipped (on purpose), dead-lettered, parked, or dropped by the expiry rule.
 */

/** A Segment `track` call exactly as it goes into `/v1/batch`'s `batch` array. */
export interface SegmentTrackCall {
  type: 'track';
  event: string;
  userId?: string;
  anonymousId?: string;
  messageId: string;
  timestamp: string;
  context: Record<string, unknown>;
  properties: Record<string, unknown>;
}

/** Events skipped on purpose, counted and never an error. */
export type SkipReason = 'not_selected' | 'not_exportable' | 'no_external_user_id';

/** Events that go to the connector's dead-letter topic. */
export type DeadLetterReason = 'invalid' | 'too_large' | 'rejected';

/** The minimum the batch planner and the delivery client need of an event. */
export interface DeliveryItem {
  /** Segment messageId (the Currents `id`, or its prefixed hash when longer than 100 characters). */
  readonly messageId: string;
  /** The serialized Segment call (JSON). Its UTF-8 byte length is what Segment's limits count. */
  readonly json: string;
}

/** A translated event ready to send. */
export interface TranslatedEvent extends DeliveryItem {
  /** Canonical Currents event type. */
  readonly eventType: string;
  readonly call: SegmentTrackCall;
  /** The original Currents event (for parking and dead letters). */
  readonly raw: unknown;
}

export interface SkippedEvent {
  readonly reason: SkipReason;
  /** The type as written in the input, when there was one. */
  readonly eventType?: string;
  readonly id?: string;
  /** `not_exportable`: why the type is not exported, and what a connector can do about it. */
  readonly detail?: string;
}

export interface DeadLetter {
  readonly reason: DeadLetterReason;
  /** Human-readable detail naming what is wrong (e.g. the field), never a secret and never personal data. */
  readonly detail: string;
  readonly eventType?: string;
  readonly id?: string;
  /** The original event (or the undecodable message text) to keep for inspection and replay. */
  readonly raw: unknown;
}

/** What translating one Pub/Sub message yields: every event of the message lands in exactly one list. */
export interface TranslationResult {
  readonly send: TranslatedEvent[];
  readonly skipped: SkippedEvent[];
  readonly deadLetters: DeadLetter[];
  /** Events of types the catalogue does not know, by type, whatever their outcome (absent when there were none). */
  readonly unknownTypes?: Readonly<Record<string, number>>;
}

/** The credential value a connector's secret holds, combined with the kind its definition declares. */
export type SegmentSecret =
  | { readonly kind: 'writeKey'; readonly writeKey: string }
  | { readonly kind: 'oauth'; readonly appId: string; readonly keyId: string; readonly privateKeyPem: string };

/** Where the delivery client gets its credential. `invalidate()` makes the next `get()` re-read the secret. */
export interface CredentialSource {
  get(): Promise<SegmentSecret>;
  invalidate(): void;
}

/**
 * The credential cannot be had at all (secret missing, disabled, destroyed, unreadable, or not of the declared kind): a
 * credential failure like a 401. Its message never contains the secret value.
 */
export class CredentialUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CredentialUnavailableError';
  }
}

/** Injectable time, so that 47h59m and 48h01m can both be tested in milliseconds. */
export interface Clock {
  now(): number;
}
export const systemClock: Clock = { now: () => Date.now() };

/** What stands in for a value that must not be shown (a redacted field, a secret in a log line or an error). */
export const REDACTED = '[REDACTED]';
