/** The local Braze's public contract: what `sendLikeBraze` takes and what it reports. */

export interface BrazeSenderOptions {
  /** The receiver's URL (http or https); query parameters are kept as given. */
  url: string;
  /** Sent as `Authorization: Bearer <token>` when given. Never logged nor reported. */
  token?: string;
  /** Events per request, at most (Braze's default and the default here: 100). */
  batchSize?: number;
  /** Requests in flight at once (default 4). */
  concurrency?: number;
  /** Pacing in events per second over all requests, re-sends included (0 or absent: as fast as possible). */
  rate?: number;
  /** Compress each body with gzip and say so in `Content-Encoding` (default false). */
  gzip?: boolean;
  /** Exponential backoff with full jitter between re-sends of one batch (default 1 s doubling up to 60 s). */
  backoff?: { initialMs: number; maxMs: number };
  /**
   * Re-send deadline, counted from the call: past it nothing is re-sent (first sends still go, e.g. under slow pacing),
   * and events not answered 2xx are given up (default 300 s; 0: every batch is sent once).
   */
  giveUpAfterMs?: number;
  /** Time for one request to be answered in full; past it the request counts as a network error (default 30 s). */
  requestTimeoutMs?: number;
  /** Extra request headers; they override the sender's own (e.g. to send a wrong version header on purpose). */
  headers?: Record<string, string>;
  /** called after every answer (or network error) of every request */
  onRequest?: (r: BrazeRequestRecord) => void;
  /**
   * Ends the run early (e.g. on shutdown): nothing more is sent, requests in flight finish (a 2xx among them counts),
   * and every event not answered 2xx is reported as aborted.
   */
  signal?: AbortSignal;
  /** Random source in [0, 1) for the jitter (tests); default Math.random. */
  random?: () => number;
}

/** One request as `onRequest` sees it. `attempt` is how many times these events have been posted, this one included. */
export interface BrazeRequestRecord {
  events: readonly unknown[];
  status: number | 'network_error';
  attempt: number;
  startedAt: number;
  endedAt: number;
  /** For a network error: what failed (an error code such as ECONNREFUSED, or `timed out after N ms`). */
  detail?: string;
}

export interface BrazeSendReport {
  /** Events given to the sender. */
  events: number;
  /** Requests made, re-sends included. */
  requests: number;
  /** Requests by answer: the status code as text, or `network_error`. */
  byStatus: Record<string, number>;
  /** Events answered 2xx. */
  accepted: number;
  /** Requests that carried events already posted before (re-sends after backoff and the parts of split batches). */
  resentRequests: number;
  /** Batches split into single events after a 400. */
  splitsOn400: number;
  /** Batches split in halves after a 413. */
  splitsOn413: number;
  /** Events dropped for good: a single event answered 400 again after a split. */
  droppedOn400: number;
  /** Events dropped for good: a single event answered 413. */
  droppedOn413: number;
  /** The first 401/403/404, after which nothing more was sent, and how many events were not delivered because of it. */
  stoppedBy?: { status: number; events: number };
  /** Events given up at the re-send deadline (they needed a re-send that the deadline no longer allowed). */
  gaveUp: number;
  /** Events not delivered because the run was aborted (`signal`). */
  aborted: number;
  /** ids (event `id` field) of events that were answered 2xx */
  acceptedIds: string[];
  /** ids of events that were never answered 2xx, with why */
  notDelivered: { id: string; why: string }[];
  durationMs: number;
}
