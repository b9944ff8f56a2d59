/**
 * A stand-in for Cloud Run's front end in the soak: the push subscription delivers to this loopback proxy, which
 * forwards each request to the function's process. While no process listens (killed, starting again) it holds the
 * request and retries, as Cloud Run holds requests while an instance starts; a request whose process dies while
 * handling it is answered 503 (or reset), as Cloud Run does for a crashed instance. It never refuses a connection.
 *
 * Why: pushes that fail while the endpoint is down make the Pub/Sub emulator (0.8.x) stop redelivering some of those
 * messages for minutes (they are neither pushed again within the subscription's maximum backoff nor returned to a
 * pull), which real Pub/Sub does not do. It also records, per Pub/Sub message, how often it was pushed and the last
 * answer, so that a missing event can be told apart: in a message the function acknowledged (lost by the product) or
 * in one it never acknowledged (still owed by Pub/Sub).
 */
import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { PushRecord } from './soak-reconcile';

/** How long a request waits for the function's process to listen again before it is answered 503. */
const HOLD_MS = 15_000;

export interface SoakFrontEnd {
  readonly url: string;
  /** Requests answered 503 (or reset) because the function's process died while handling them, or stayed down. */
  readonly unavailable: () => number;
  /** Times a request was held because no process was listening (retried every 200 ms, up to 15 s). */
  readonly held: () => number;
  /** Per Pub/Sub message id: how often it was pushed, the last answer (status, or 'reset') and when, any 2xx. */
  readonly pushes: () => ReadonlyMap<string, PushRecord>;
  close(): Promise<void>;
}

export async function startSoakFrontEnd(upstream: string): Promise<SoakFrontEnd> {
  const target = new URL(upstream);
  let unavailable = 0;
  let held = 0;
  const pushes = new Map<string, PushRecord>();
  const note = (id: string | undefined, answer: string) => {
    if (!id) return;
    const p = pushes.get(id);
    pushes.set(id, {
      count: (p?.count ?? 0) + 1,
      last: answer,
      acknowledged: p?.acknowledged === true || /^2\d\d$/.test(answer),
      lastAt: Date.now(),
    });
  };
  const fail = (res: ServerResponse, id: string | undefined) => {
    unavailable++;
    note(id, res.headersSent ? 'reset' : '503 (function down)');
    if (!res.headersSent) {
      res.writeHead(503, { 'content-type': 'application/json' });
      res.end('{"error":"the function is not available"}');
    } else res.destroy();
  };
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      let id: string | undefined;
      try {
        id = (JSON.parse(body.toString('utf8')) as { message?: { messageId?: string } }).message?.messageId;
      } catch {
        /* not a push */
      }
      const headers = { ...req.headers, host: target.host, 'content-length': String(body.length) };
      const holdUntil = Date.now() + HOLD_MS;
      const forward = () => {
        const up = request(
          { hostname: target.hostname, port: target.port, method: req.method, path: req.url, headers },
          (upRes) => {
            res.writeHead(upRes.statusCode ?? 502, upRes.headers);
            upRes.pipe(res);
            upRes.on('end', () => note(id, String(upRes.statusCode)));
            upRes.on('error', () => fail(res, id));
            upRes.on('aborted', () => fail(res, id));
          },
        );
        up.on('error', (err: NodeJS.ErrnoException) => {
          // No process listening (killed, starting again): hold the request as Cloud Run holds requests while an
          // instance starts, then answer 503 if it does not come back in time.
          if (err.code === 'ECONNREFUSED' && Date.now() < holdUntil) {
            held++;
            setTimeout(forward, 200);
          } else fail(res, id);
        });
        up.end(body);
      };
      forward();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    unavailable: () => unavailable,
    held: () => held,
    pushes: () => pushes,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
