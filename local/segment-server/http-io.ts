/** The local Segment server's HTTP plumbing: JSON answers, bounded body reads, dropped connections. */
import type { IncomingMessage, ServerResponse } from 'node:http';

/** Bodies over this many bytes are read to the end but not kept (`readBody` resolves undefined). */
export const MAX_READ_BYTES = 8 * 1024 * 1024;

/** Answers `status` with `body` as JSON (and any extra headers). */
export function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

/** The whole request body, or undefined when it is over MAX_READ_BYTES. */
export function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= MAX_READ_BYTES) chunks.push(c);
    });
    req.on('end', () => resolve(size > MAX_READ_BYTES ? undefined : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** Drops the connection without an answer (a network failure, as the client sees it). */
export function destroy(res: ServerResponse): void {
  res.socket?.destroy();
}
