/**
 * A scripted stand-in for a receiver, over real HTTP on 127.0.0.1: records every request (headers, raw and decoded
 * body, the event ids) and answers each by a rule of the test's: a status (with headers), or `close` to drop the
 * connection without answering.
 */
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';

export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly raw: Buffer;
  /** The body, gunzipped when `Content-Encoding: gzip`, parsed. */
  readonly body: { events: Array<{ id?: string }> };
  readonly ids: string[];
  /** What it was answered: a status, or `close`. Set when the answer is decided. */
  answer?: number | 'close';
}

export type Answer = { status: number; headers?: Record<string, string> } | 'close';
export type Rule = (req: RecordedRequest, index: number) => Answer | Promise<Answer>;

export interface ScriptedReceiver {
  readonly url: string;
  readonly requests: RecordedRequest[];
  /** Ids of the events of every request answered 2xx, in order. */
  acceptedIds(): string[];
  close(): Promise<void>;
}

export const ok: Rule = () => ({ status: 200 });

export async function startScriptedReceiver(rule: Rule = ok): Promise<ScriptedReceiver> {
  const requests: RecordedRequest[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void (async () => {
        const raw = Buffer.concat(chunks);
        const text = (req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw).toString('utf8');
        const body = JSON.parse(text) as RecordedRequest['body'];
        const recorded: RecordedRequest = {
          method: req.method ?? '',
          path: req.url ?? '',
          headers: req.headers,
          raw,
          body,
          ids: body.events.map((e) => String(e.id)),
        };
        const index = requests.push(recorded) - 1;
        const answer = await rule(recorded, index);
        if (answer === 'close') {
          recorded.answer = 'close';
          req.socket.destroy();
          return;
        }
        recorded.answer = answer.status;
        res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
        res.end(JSON.stringify({ status: answer.status }));
      })();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/currents?connector=test`,
    requests,
    acceptedIds: () => requests.filter((r) => typeof r.answer === 'number' && r.answer < 300).flatMap((r) => r.ids),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** `n` events shaped like Currents events, with ids `<prefix>-<i>`. */
export function events(n: number, prefix = 'e'): Array<{ id: string; event_type: string; time: number }> {
  return Array.from({ length: n }, (_, i) => ({
    id: `${prefix}-${i}`,
    event_type: 'users.messages.email.Open',
    time: 1_700_000_000 + i,
  }));
}
