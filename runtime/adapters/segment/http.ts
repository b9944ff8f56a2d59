/**
 * The one-method HTTP port the Segment client and the OAuth token endpoint send through (`HttpClient.post`), its
 * default implementation on undici (`undiciHttp`), and the two rules of reading an answer they share: a passing failure
 * is a `TransientError`, and `Retry-After` is read by `parseRetryAfter`. Tests of the retry, split and budget logic inject
 * their own `HttpClient`; the integration tests keep the real one against the local Segment server.
 */
import type { Agent } from 'undici';

/** A passing failure (network, timeout, 429, 5xx): worth retrying. */
export class TransientError extends Error {
  constructor(
    message: string,
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'TransientError';
  }
}

/** Parses `Retry-After` (delta seconds or HTTP date) into ms, or undefined. */
export function parseRetryAfter(value: string | string[] | undefined, nowMs: number): number | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (v === undefined || v.trim() === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(v.trim())) return Math.round(Number(v) * 1000);
  const date = Date.parse(v);
  return Number.isNaN(date) ? undefined : Math.max(0, date - nowMs);
}

/** What a POST read of an answer: its status, headers (lower-case names) and whole body as text. */
export interface PostAnswer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly text: string;
}

export interface PostRequest {
  readonly url: URL;
  readonly headers: Record<string, string>;
  readonly body: string;
  /** The whole exchange (headers, then body) must end within this. */
  readonly timeoutMs: number;
  /** What is being sent, for the timeout's message (`[what ]timed out after N ms`); may be empty. */
  readonly what: string;
}

/**
 * The HTTP port: POSTs a request and reads the whole answer within `timeoutMs`. A timeout rejects with a TransientError
 * saying `[what ]timed out after N ms`; other failures (connection refused, reset…) reject with an error whose `code`
 * (or `name`) says what happened and which never holds the request's headers or body.
 */
export interface HttpClient {
  post(request: PostRequest): Promise<PostAnswer>;
}

/** The default HTTP client: an undici Agent created on first use, so that loading undici is not paid at import. */
export interface UndiciHttp extends HttpClient {
  /** Closes the keep-alive connections (if the agent was ever created). */
  close(): Promise<void>;
}

/** An undici-backed HTTP client keeping up to `connections` keep-alive connections per origin. */
export function undiciHttp(opts: { connections: number }): UndiciHttp {
  let agentPromise: Promise<Agent> | undefined;
  const agent = () =>
    (agentPromise ??= import('undici').then(
      ({ Agent: UndiciAgent }) =>
        new UndiciAgent({ connections: opts.connections, keepAliveTimeout: 30_000, pipelining: 1 }),
    ));
  return {
    // undici's own headers/body timeouts tick at about 1 s, so a timer of our own keeps short timeouts exact.
    async post({ url, headers, body, timeoutMs, what }) {
      const abort = new AbortController();
      const timer = setTimeout(
        () => abort.abort(new TransientError(`${what ? `${what} ` : ''}timed out after ${timeoutMs} ms`)),
        timeoutMs,
      );
      try {
        const res = await (
          await agent()
        ).request({
          signal: abort.signal,
          origin: url.origin,
          path: url.pathname,
          method: 'POST',
          headers,
          body,
          headersTimeout: timeoutMs,
          bodyTimeout: timeoutMs,
        });
        return { status: res.statusCode, headers: res.headers, text: await res.body.text() };
      } finally {
        clearTimeout(timer);
      }
    },
    async close() {
      if (agentPromise) await (await agentPromise).close();
    },
  };
}
