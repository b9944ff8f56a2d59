/**
 * The local Braze's HTTP side: one POST of a batch the way Braze's Custom Currents Export makes it, read into an
 * Answer. The body is `{"events":[…]}` (gzip-compressed when asked, with `Content-Encoding: gzip`), with the headers
 * `Braze-Currents-Version: 1`, `Content-Type: application/json` and, when a token is given, `Authorization: Bearer`.
 * A request not answered in full within the timeout, or failing on the network, is a `network_error` answer.
 */
import { receiverAuthHeaders } from '../../shared/receiver-auth';
import { promisify } from 'node:util';
import { gzip as gzipCallback } from 'node:zlib';
import type { Agent } from 'undici';
import { parseRetryAfter } from '../../runtime/adapters/segment/http';
import type { Answer } from './core';

const gzip = promisify(gzipCallback);

export interface PosterOptions {
  readonly url: string;
  readonly token?: string;
  readonly gzip: boolean;
  readonly timeoutMs: number;
  readonly headers?: Record<string, string>;
  /** Connections kept to the receiver (the sender's concurrency). */
  readonly connections: number;
}

export interface Poster {
  post(events: readonly unknown[]): Promise<Answer>;
  close(): Promise<void>;
}

/** The request headers of every post (the token only inside `Authorization`). */
export function brazeHeaders(options: Pick<PosterOptions, 'token' | 'gzip' | 'headers'>): Record<string, string> {
  return {
    'content-type': 'application/json',
    'braze-currents-version': '1',
    ...receiverAuthHeaders(options.token),
    ...(options.gzip ? { 'content-encoding': 'gzip' } : {}),
    ...Object.fromEntries(Object.entries(options.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v])),
  };
}

/** What failed, without the request (no header, so no token): an error code, or the error's name. */
function failure(err: unknown): string {
  const e = err as { code?: string; name?: string; message?: string; cause?: { code?: string } };
  if (e instanceof TimeoutError) return e.message;
  return e.code ?? e.cause?.code ?? e.name ?? 'error';
}

class TimeoutError extends Error {}

export function createPoster(options: PosterOptions): Poster {
  const url = new URL(options.url);
  const headers = brazeHeaders(options);
  // undici is loaded on first use; one agent per sender, closed with it, so no socket outlives a run.
  let undiciPromise: Promise<{ agent: Agent; request: typeof import('undici').request }> | undefined;
  const undici = () =>
    (undiciPromise ??= import('undici').then(({ Agent: UndiciAgent, request }) => ({
      agent: new UndiciAgent({ connections: options.connections, keepAliveTimeout: 10_000, pipelining: 1 }),
      request,
    })));
  return {
    async post(events) {
      const json = Buffer.from(JSON.stringify({ events }));
      const body = options.gzip ? await gzip(json) : json;
      const { agent, request } = await undici();
      const abort = new AbortController();
      const timer = setTimeout(
        () => abort.abort(new TimeoutError(`timed out after ${options.timeoutMs} ms`)),
        options.timeoutMs,
      );
      try {
        const res = await request(url, {
          method: 'POST',
          headers,
          body,
          dispatcher: agent,
          signal: abort.signal,
        });
        await res.body.arrayBuffer(); // the whole answer, within the timeout
        const status = res.statusCode;
        const retryAfterMs = parseRetryAfter(res.headers['retry-after'], Date.now());
        return retryAfterMs !== undefined ? { status, retryAfterMs } : { status };
      } catch (err) {
        return { status: 'network_error', detail: failure(abort.signal.aborted ? abort.signal.reason : err) };
      } finally {
        clearTimeout(timer);
      }
    },
    async close() {
      if (undiciPromise) await (await undiciPromise).agent.close();
    },
  };
}
