import type { SegmentRegion } from '../../shared/connector';

/** An OAuth app registered with the local token server (its public key only; the private key stays with the client). */
export interface OAuthAppRegistration {
  /** The app id: the JWT's `sub` (and accepted as its `iss`). */
  readonly appId: string;
  /** The public key's id: the JWT header's `kid`. */
  readonly keyId: string;
  /** SPKI PEM (`-----BEGIN PUBLIC KEY-----`). */
  readonly publicKeyPem: string;
}

export interface SegmentServerOptions {
  /** TCP port; 0 (default) picks a free one. */
  port?: number;
  /** Interface to bind; default 127.0.0.1. */
  host?: string;
  /** Which Segment region this instance stands for (a label, echoed in stats and accepted audiences). Default 'us'. */
  region?: SegmentRegion;
  /**
   * Write keys of this region's workspace, each the one key of its own enabled source (id `source-<n>`, n its index
   * here). A batch sent with any other key is answered 200 and its events discarded, as Segment does.
   */
  writeKeys?: readonly string[];
  /** More sources (after those of `writeKeys`), each with its id, write keys and enabled flag (default true). */
  sources?: readonly LocalSourceDefinition[];
  /** Bearer tokens the Public API route (`GET /sources/{id}`) accepts; any other token gets 401. */
  publicApiTokens?: readonly string[];
  /** OAuth apps whose JWT client assertions the token endpoint accepts. */
  oauthApps?: readonly OAuthAppRegistration[];
  /** Lifetime of issued access tokens, in seconds. Default 3,600. */
  tokenTtlSeconds?: number;
  /** The server's clock (token expiry, credential revocation time, JWT `exp`). Default Date.now. */
  now?: () => number;
  /** Keep each accepted call's parsed body (default true). False keeps ids and counts only (benchmarks). */
  recordCalls?: boolean;
  /** Seed of the random generator used by probabilistic faults (default 1), so fault runs are reproducible. */
  seed?: number;
}

/** A Segment source of the local workspace: what the Public API's `GET /sources/{id}` describes. */
export interface LocalSourceDefinition {
  readonly id: string;
  readonly writeKeys: readonly string[];
  /** Default true. A disabled source's events are answered 200 and discarded. */
  readonly enabled?: boolean;
}

/** Why events answered 200 were discarded (as Segment does, without telling the client). */
export type DiscardReason = 'unknown_write_key' | 'revoked_write_key' | 'source_disabled';

/** An event the server accepted (first receipt; later receipts of the same messageId only count). */
export interface AcceptedEvent {
  readonly messageId: string;
  /**
   * Which credential sent it: `writeKey:<n>` (the n-th source: the source of `writeKeys[n]`, then those of `sources`;
   * a rotated key keeps its source's label) or `oauth:<appId>`. Never the secret itself.
   */
  readonly source: string;
  readonly path: '/v1/batch' | '/v1/track';
  /** Server clock at first receipt. */
  readonly receivedAt: number;
  /** How many times this messageId arrived in accepted requests (1 = no duplicate). */
  readonly receipts: number;
  /** The call as received (absent when `recordCalls` is false). */
  readonly call?: Record<string, unknown>;
}

export interface SegmentServerStats {
  readonly region: SegmentRegion;
  /** Tracking API requests (/v1/batch and /v1/track), whatever their outcome. Admin and token requests excluded. */
  readonly requests: number;
  /** Tracking API requests by answer: status code as a string, or 'closed' for a connection destroyed by a fault. */
  readonly requestsByStatus: Readonly<Record<string, number>>;
  /** Request-body bytes of all tracking requests. */
  readonly bytesReceived: number;
  /** Events carried by requests answered 2xx (duplicates included, invalid ones included). */
  readonly eventsReceived: number;
  /** Distinct (source, messageId) pairs accepted: `accepted().length`. */
  readonly acceptedUnique: number;
  /** Receipts of an already accepted (source, messageId). */
  readonly duplicates: number;
  /** Events answered 200 but dropped as Segment does (no userId/anonymousId, or a track without `event`). */
  readonly droppedInvalid: number;
  /**
   * Events answered 200 but discarded because of the write key, by reason: a key no source of this region has (unknown,
   * or a key of the other region), a key removed or rotated away or revoked, or a disabled source. Never accepted.
   */
  readonly discarded: Readonly<Partial<Record<DiscardReason, number>>>;
  /** Public API (`GET /sources/{id}`) requests by answer, as `requestsByStatus`. */
  readonly publicApiRequestsByStatus: Readonly<Record<string, number>>;
  /** Token endpoint requests by answer, as `requestsByStatus`. */
  readonly tokenRequestsByStatus: Readonly<Record<string, number>>;
  readonly tokensIssued: number;
  /** Requests a fault rule acted on (latency, status or closed connection). */
  readonly faultsInjected: number;
  /** Most Tracking API requests being handled at the same time (a client's concurrency, seen from here). */
  readonly maxInFlight: number;
}

/**
 * A fault rule. Rules are checked in the order added, for each request of their target; a rule fires with its
 * `probability`, at most `times` times. The first firing rule that closes the connection or sets a status decides the
 * answer, and later such rules are then skipped (they neither fire nor use up `times`); the latency of every firing
 * rule is added. A request no rule answers is handled normally.
 */
export interface FaultRule {
  /** Answer with this status, or with one picked at random from the list. */
  status?: number | readonly number[];
  /** `Retry-After` header (seconds) sent with the status (meant for 429, sent with any). */
  retryAfterSeconds?: number;
  /** Delay the answer by this many ms. */
  latencyMs?: number;
  /** Destroy the socket after reading the request, before any answer (the client sees a reset / hang-up). */
  destroyConnection?: boolean;
  /**
   * Accept the request (events recorded) and then destroy the socket instead of answering: the client cannot know it
   * was delivered, and a retry shows up as a duplicate.
   */
  destroyAfterAccept?: boolean;
  /** Chance that the rule fires on a request, 0..1. Default 1. */
  probability?: number;
  /** Fire at most this many times. Default unlimited. */
  times?: number;
  /** Which requests: Tracking API (default), the token endpoint, the Public API, or all of them. */
  target?: 'tracking' | 'token' | 'publicApi' | 'all';
}

export interface CredentialRevocation {
  /** Server-clock time from which the credential is refused (default: now). */
  at?: number;
  /** Revoke only this write key. */
  writeKey?: string;
  /** Revoke only this OAuth app (its token requests and its tokens). */
  appId?: string;
}

export interface FaultControls {
  /** Adds a rule; returns its id. */
  add(rule: FaultRule): string;
  /** Removes one rule, or all of them. */
  remove(id: string): void;
  clear(): void;
  list(): (FaultRule & { id: string; fired: number })[];
  /** Answer 400 to any request that carries one of these messageIds (as Segment does for a malformed event). */
  rejectMessageIds(ids: Iterable<string>): void;
  /**
   * A credential (or all, when neither writeKey nor appId is given) stops working from time `at`. An OAuth app's token
   * requests and tokens get 401 from then on; a write key's batches are answered 200 and discarded (as Segment does: a
   * write key failure is visible only through the Public API, see `SourceControls`).
   */
  revokeCredentials(revocation?: CredentialRevocation): void;
  /** Lift every revocation. */
  restoreCredentials(): void;
  /** Forget every issued access token (clients then get 401 and must fetch a new one). */
  expireTokens(): void;
}

/** The local workspace's sources, as a person changes them in Segment's app (the Public API then shows the change). */
export interface SourceControls {
  /** The source as the Public API describes it, or undefined. */
  get(id: string): { id: string; enabled: boolean; writeKeys: string[] } | undefined;
  /** Enables or disables a source (a disabled source's events are answered 200 and discarded). */
  setEnabled(id: string, enabled: boolean): void;
  /**
   * Gives the source a new write key (`newKey`, or a generated one) and, unless `keepOld`, removes its other keys (their
   * batches are then discarded). Returns the new key.
   */
  rotateWriteKey(id: string, options?: { newKey?: string; keepOld?: boolean }): string;
  /** Removes one write key from the source (its batches are then discarded). */
  removeWriteKey(id: string, writeKey: string): void;
}
