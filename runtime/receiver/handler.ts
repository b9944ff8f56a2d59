/**
 * The door's request handling on Node's own request and response objects (the body is read here, within its limit,
 * not by a framework): authenticate, read, route each event to the connector of the workspace that selects its type,
 * publish every part, answer, and log one `receiver_request` line per request with the status, events counted, where
 * they went (`routed` by connector, `notSelected` by type), bytes, publish latency and outcome — never the token,
 * never event content. A request whose events go to several connectors is answered 2xx only once every part's topic
 * has acknowledged; if one publish fails the whole request is answered 503 and Braze re-sends all of it (the parts
 * already published reach their connector twice, and Segment deduplicates them by messageId).
 *
 *   GET  /healthz   200, nothing else (liveness; says nothing about the connector)
 *   POST (any path) Braze's Custom Currents Export
 *   anything else   405
 */
import { bearerToken, tokenAccepted } from '../../shared/receiver-auth';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Clock } from '../core/types';
import { describeError, type Logger } from '../log';
import type { BodyResult } from './body';
import { headerValue, readBody } from './body';
import { answers, MAX_BODY_BYTES, publishAttributes, type ReceiverAnswer, severityFor } from './core';
import type { DoorPublisher } from '../adapters/ingest-publisher';
import { routeBody } from './route';
import type { ReceiverTokenSource } from './tokens';
import type { WorkspaceDoor } from '../../shared/door';

export interface ReceiverDeps {
  /** The workspace's door: its routes (event type → connector) and fallback connector (shared/door.ts). */
  readonly door: Pick<WorkspaceDoor, 'routes' | 'fallback'>;
  readonly tokens: ReceiverTokenSource;
  readonly publisher: DoorPublisher;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly maxBodyBytes?: number;
  readonly retryAfterSeconds?: number;
  /** True once the instance is shutting down: new requests are answered 503 (Braze re-sends them). */
  readonly shuttingDown?: () => boolean;
}

/** How the body is had: read from the request stream here (normally), or already read by a framework. */
export type BodyReader = (req: IncomingMessage, limit: number) => Promise<BodyResult>;

/** What the log line of a request says besides its answer; `authenticated` once the token was accepted. */
interface Note {
  bytes: number;
  events?: number;
  publishMs?: number;
  /** Events published, by connector. */
  routed?: Record<string, number>;
  /** Events of types no connector of the workspace selects, by type (counted, not published). */
  notSelected?: Record<string, number>;
  authenticated: boolean;
}

export function createReceiver(deps: ReceiverDeps) {
  const limit = deps.maxBodyBytes ?? MAX_BODY_BYTES;
  const retryAfter = deps.retryAfterSeconds;

  async function decide(
    req: IncomingMessage,
    res: ServerResponse,
    read: BodyReader,
    note: Note,
  ): Promise<ReceiverAnswer> {
    const path = (req.url ?? '/').split('?')[0]!.replace(/\/+$/, '') || '/';
    if (req.method === 'GET' && path === '/healthz') return answers.health();
    if (deps.shuttingDown?.()) return answers.unavailable('shutting_down', retryAfter);
    if (req.method !== 'POST') return answers.methodNotAllowed();
    // 1. Authenticate first, every request, also an empty one.
    let accepted;
    try {
      accepted = await deps.tokens.digests();
    } catch (err) {
      deps.logger.error('internal_error', `receiver: ${describeError(err)}`);
      return answers.unavailable('tokens_unavailable', retryAfter);
    }
    if (accepted.length === 0) return answers.unavailable('no_token_configured', retryAfter);
    if (!tokenAccepted(bearerToken(req.headers.authorization), accepted)) return answers.unauthorized();
    note.authenticated = true;
    // 2. Read (and decompress) within the limit. A client waiting for `100 Continue` gets it only now, authenticated.
    if (CONTINUE_OWED.delete(req) && !res.headersSent && !res.destroyed) res.writeContinue();
    const body = await read(req, limit);
    note.bytes = body.receivedBytes;
    if (body.kind === 'too_large') return answers.tooLarge(limit);
    // The client went away mid-body: nothing was published, and the answer will most likely not reach it.
    if (body.kind === 'aborted') return answers.unavailable('client_aborted', retryAfter);
    const routing = routeBody(body.body, deps.door, body.kind === 'ok');
    note.events = routing.events;
    if (Object.keys(routing.notSelected).length) note.notSelected = routing.notSelected;
    if (routing.empty) return answers.empty();
    if (!routing.parts.length) return answers.notSelected(routing.events ?? 0);
    note.routed = Object.fromEntries(routing.parts.map((p) => [p.connector, p.events ?? 0]));
    // 3. Publish every part; answer 2xx only once Pub/Sub has acknowledged each of them.
    const attributes = publishAttributes({
      currentsVersion: headerValue(req, 'braze-currents-version'),
      contentType: headerValue(req, 'content-type'),
      receivedAt: deps.clock.now(),
      undecodedEncoding: body.kind === 'undecodable' ? body.encoding : undefined,
    });
    const started = deps.clock.now();
    const results = await Promise.allSettled(
      routing.parts.map((p) => deps.publisher.publish(p.connector, p.body, attributes)),
    );
    note.publishMs = deps.clock.now() - started;
    const failed = results.flatMap((r, i) =>
      r.status === 'rejected' ? [[routing.parts[i]!.connector, r.reason]] : [],
    );
    if (failed.length) {
      for (const [connector, err] of failed) {
        deps.logger.error(
          'internal_error',
          `receiver: publish to the ingest topic of '${String(connector)}' failed: ${describeError(err)}`,
        );
      }
      return answers.unavailable('publish_failed', retryAfter);
    }
    return answers.published(routing.events);
  }

  /** Handles one request; never throws (an unexpected error is answered 503, so Braze re-sends). */
  return async function handle(req: IncomingMessage, res: ServerResponse, read: BodyReader = readBody): Promise<void> {
    const note: Note = { bytes: 0, authenticated: false };
    let answer: ReceiverAnswer;
    try {
      answer = await decide(req, res, read, note);
    } catch (err) {
      deps.logger.error('internal_error', `receiver: request failed: ${describeError(err)}`);
      answer = answers.unavailable('internal_error', retryAfter);
    }
    // An authenticated body answered before it was wholly read (413 from its length): what the client still sends is
    // read and dropped first, within a bound, and only then answered — a client still writing when the answer and the
    // close arrive sees a broken pipe, not the 413 it must see to split the batch. Past the bound the connection is cut.
    if (note.authenticated && !req.complete && !req.destroyed && !res.headersSent) {
      await discard(req, AUTHENTICATED_DISCARD);
    }
    // Refused from its headers (unauthenticated): answered at once with `Connection: close`; what the client still
    // sends is read and dropped within a smaller bound after (see `discard`), never awaited before answering.
    const unread = !req.complete && !req.destroyed;
    if (!res.headersSent && !res.destroyed) {
      const payload = JSON.stringify(answer.body);
      res.writeHead(answer.status, {
        'Content-Type': 'application/json',
        'Content-Length': Buffer.byteLength(payload),
        ...(unread ? { Connection: 'close' } : {}),
        ...answer.headers,
      });
      res.end(payload);
    }
    if (answer.outcome !== 'health') {
      deps.logger.log(
        severityFor(answer.status),
        'receiver_request',
        `receiver answered ${answer.status} (${answer.outcome})`,
        {
          status: answer.status,
          outcome: answer.outcome,
          events: note.events,
          routed: note.routed,
          notSelected: note.notSelected,
          bytes: note.bytes,
          publishMs: note.publishMs,
        },
      );
    }
    if (unread) await discard(req, REFUSED_DISCARD);
  };
}

/**
 * What is read (and dropped) of an unauthenticated body answered from its headers: enough that a client sending a
 * normal request sees the answer rather than a reset, too little to hold the instance: past these bytes or this time
 * the connection is cut.
 */
export const REFUSED_DISCARD = { bytes: 1024 * 1024, ms: 5_000 } as const;

/**
 * The same for an authenticated body answered 413 from its length, read before answering: Braze must see the 413 to
 * split the batch (a reset would have it re-send the same batch forever), so up to Cloud Run's own request size limit
 * (HTTP/1) is dropped.
 */
export const AUTHENTICATED_DISCARD = { bytes: 32 * 1024 * 1024, ms: 30_000 } as const;

/** Requests that sent `Expect: 100-continue` (Node's `checkContinue`): `100 Continue` is sent once authenticated. */
const CONTINUE_OWED = new WeakSet<IncomingMessage>();

/** Marks a request as waiting for `100 Continue` (the server's `checkContinue` listener calls this, then the handler). */
export function owesContinue(req: IncomingMessage): void {
  CONTINUE_OWED.add(req);
}

/** Reads and drops what is left of a request body, within `bound`; then cuts the connection. Settles on every path. */
function discard(req: IncomingMessage, bound: { bytes: number; ms: number }): Promise<void> {
  if (req.complete || req.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    let seen = 0;
    const done = () => {
      clearTimeout(timer);
      req.removeListener('data', onData);
      resolve();
    };
    const cut = () => {
      req.destroy();
      done();
    };
    const timer = setTimeout(cut, bound.ms);
    const onData = (chunk: Buffer) => {
      seen += chunk.length;
      if (seen > bound.bytes) cut();
    };
    req.on('data', onData);
    req.once('end', done);
    req.once('close', done);
    req.resume();
  });
}

export type ReceiverHandler = ReturnType<typeof createReceiver>;
