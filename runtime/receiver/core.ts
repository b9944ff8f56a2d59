/**
 * The door's decisions, with no I/O: what each request is answered (who may post is shared/receiver-auth.ts: the
 * receiver token, compared in constant time), and what is published (route.ts: which connector of the workspace gets
 * which events). Braze acts on the answer alone, so every answer here is chosen for what Braze does with it:
 *
 * | answer | when                                                       | what Braze does                      |
 * |--------|------------------------------------------------------------|--------------------------------------|
 * | 200    | every part was published (Pub/Sub acknowledged each), or   | done                                 |
 * |        | there was nothing to publish (empty, or no type selected)  |                                      |
 * | 401    | no, malformed or unknown bearer token                      | stops; emails about the credential   |
 * | 405    | not POST                                                   | (Braze only POSTs)                   |
 * | 413    | body (after decompression) over what one message holds     | splits the batch and re-sends        |
 * | 503    | our own fault: tokens unreadable, publish failed/timed out,| re-sends with backoff, for days      |
 * |        | shutting down, no token configured                         |                                      |
 *
 * Never 400 for an authenticated body (Braze would split it and drop events): a body that is not JSON, or holds malformed
 * events, is published as it came (to the workspace's fallback connector when it cannot be routed); the function
 * dead-letters what it cannot translate, with a reason. Never 401/403/404 for a fault of our own: Braze would stop and
 * wait for a person.
 */

/** Pub/Sub's limit for one message (data plus attributes). */
export const PUBSUB_MAX_MESSAGE_BYTES = 10_000_000;
/** Room kept for the message's attributes (a few short ones; see `publishAttributes`). */
export const ATTRIBUTE_ALLOWANCE_BYTES = 8_192;
/** Largest body (after decompression) the receiver publishes; over it → 413 and Braze splits the batch. */
export const MAX_BODY_BYTES = PUBSUB_MAX_MESSAGE_BYTES - ATTRIBUTE_ALLOWANCE_BYTES;
/** Seconds Braze is asked to wait before re-sending after one of our faults (a hint: Braze has its own backoff). */
export const DEFAULT_RETRY_AFTER_SECONDS = 10;

export interface ReceiverAnswer {
  readonly status: number;
  readonly body: Readonly<Record<string, unknown>>;
  readonly headers?: Readonly<Record<string, string>>;
  /** Machine word for the log line (`outcome`). */
  readonly outcome: ReceiverOutcome;
}

export type ReceiverOutcome =
  | 'health'
  | 'published'
  | 'not_selected'
  | 'empty'
  | 'unauthorized'
  | 'method_not_allowed'
  | 'too_large'
  | 'tokens_unavailable'
  | 'no_token_configured'
  | 'publish_failed'
  | 'shutting_down'
  | 'client_aborted'
  | 'internal_error';

/** The answers, in one place. Bodies never say anything about the token (not even whether one was sent). */
export const answers = {
  health: (): ReceiverAnswer => ({ status: 200, body: { ok: true }, outcome: 'health' }),
  published: (events: number | undefined): ReceiverAnswer => ({
    status: 200,
    body: { ok: true, ...(events === undefined ? {} : { events }) },
    outcome: 'published',
  }),
  /** Every event of the request is of a type no connector of the workspace selects: counted, nothing to publish. */
  notSelected: (events: number): ReceiverAnswer => ({
    status: 200,
    body: { ok: true, events },
    outcome: 'not_selected',
  }),
  empty: (): ReceiverAnswer => ({ status: 200, body: { ok: true, events: 0 }, outcome: 'empty' }),
  unauthorized: (): ReceiverAnswer => ({
    status: 401,
    body: { error: 'unauthorized' },
    headers: { 'WWW-Authenticate': 'Bearer' },
    outcome: 'unauthorized',
  }),
  methodNotAllowed: (): ReceiverAnswer => ({
    status: 405,
    body: { error: 'only POST is accepted' },
    headers: { Allow: 'POST' },
    outcome: 'method_not_allowed',
  }),
  tooLarge: (limit: number = MAX_BODY_BYTES): ReceiverAnswer => ({
    status: 413,
    body: { error: `request body over ${limit} bytes (after decompression); send fewer events per request` },
    outcome: 'too_large',
  }),
  unavailable: (
    outcome: Extract<
      ReceiverOutcome,
      | 'tokens_unavailable'
      | 'no_token_configured'
      | 'publish_failed'
      | 'shutting_down'
      | 'client_aborted'
      | 'internal_error'
    >,
    retryAfterSeconds: number = DEFAULT_RETRY_AFTER_SECONDS,
  ): ReceiverAnswer => ({
    status: 503,
    body: { error: 'temporarily unavailable; retry later' },
    headers: { 'Retry-After': String(retryAfterSeconds) },
    outcome,
  }),
} as const;

/** Pub/Sub attribute values are at most 1024 bytes; header values are cut to fit (they are never needed whole). */
const MAX_ATTRIBUTE_VALUE = 256;

/**
 * The attributes of the message a request becomes. The body itself is published as it came (after decompression), so
 * the function decodes Braze's envelope exactly as it would any other input.
 */
export function publishAttributes(request: {
  readonly currentsVersion?: string;
  readonly contentType?: string;
  readonly receivedAt: number;
  /** Set when a compressed body could not be decompressed (it is published as received, to be dead-lettered). */
  readonly undecodedEncoding?: string;
}): Record<string, string> {
  const out: Record<string, string> = {
    source: 'receiver',
    received_at: new Date(request.receivedAt).toISOString(),
  };
  if (request.currentsVersion) out.braze_currents_version = request.currentsVersion.slice(0, MAX_ATTRIBUTE_VALUE);
  if (request.contentType) out.content_type = request.contentType.slice(0, MAX_ATTRIBUTE_VALUE);
  if (request.undecodedEncoding) out.content_encoding = request.undecodedEncoding.slice(0, MAX_ATTRIBUTE_VALUE);
  return out;
}

/** Severity of the `receiver_request` log line for an answer. */
export function severityFor(status: number): 'INFO' | 'WARNING' | 'ERROR' {
  return status >= 500 ? 'ERROR' : status >= 400 ? 'WARNING' : 'INFO';
}
