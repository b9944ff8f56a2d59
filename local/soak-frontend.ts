/**
 * A stand-in for Cloud Run's front end in the soak: the push subscription delivers to this loopback proxy, which
 * forwards each request to the function's process and, when the process is down or dies mid-request, answers 503, as
 * Cloud Run does for a crashed instance (it never refuses the connection).
 *
 * Why: the Pub/Sub emulator (0.8.x) stops pushing some messages that it tried to push while the endpoint refused
 * connections (a killed process) — it neither redelivers them nor gives them back to a pull — which real Pub/Sub does
 * not do. With this front end, a kill shows up as 503s and a reset, which the emulator retries properly.
 */
import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SoakFrontEnd {
  readonly url: string;
  /** Requests answered 503 because the function's process was down or died while handling them. */
  readonly unavailable: () => number;
  /** Per Pub/Sub message id: how often it was pushed, the last answer (status, or 'reset'), and whether any was 2xx. */
  readonly pushes: () => ReadonlyMap<string, { count: number; last: string; acknowledged: boolean }>;
  close(): Promise<void>;
}

export async function startSoakFrontEnd(upstream: string): Promise<SoakFrontEnd> {
  const target = new URL(upstream);
  let unavailable = 0;
  const pushes = new Map<string, { count: number; last: string; acknowledged: boolean }>();
  const note = (id: string | undefined, answer: string) => {
    if (!id) return;
    const p = pushes.get(id) ?? { count: 0, last: '', acknowledged: false };
    p.count++;
    p.last = answer;
    if (/^2\d\d$/.test(answer)) p.acknowledged = true;
    pushes.set(id, p);
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
      up.on('error', () => fail(res, id));
      up.end(body);
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
    pushes: () => pushes,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
