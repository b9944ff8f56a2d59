/**
 * Reads a request body within a byte limit, and decompresses it (`Content-Encoding: gzip`, `deflate` or `br`) within the
 * same limit, so that neither a huge upload nor a small compressed bomb can take the instance's memory: reading stops
 * as soon as the limit is passed, and decompression is capped (`maxOutputLength`), never inflating past the limit.
 *
 * A compressed body that cannot be decompressed is returned as received (`undecodable`): it is published as is and the
 * function dead-letters it with a reason, so that nothing Braze sent is lost to a bad encoding.
 */
import type { IncomingMessage } from 'node:http';
import { promisify } from 'node:util';
import * as zlib from 'node:zlib';

export type BodyResult =
  | { readonly kind: 'ok'; readonly body: Buffer; readonly receivedBytes: number }
  | { readonly kind: 'too_large'; readonly receivedBytes: number }
  | { readonly kind: 'undecodable'; readonly body: Buffer; readonly encoding: string; readonly receivedBytes: number }
  | { readonly kind: 'aborted'; readonly receivedBytes: number };

const DECOMPRESS: Record<string, (buf: Buffer, opts: zlib.ZlibOptions) => Promise<Buffer>> = {
  gzip: promisify(zlib.gunzip),
  'x-gzip': promisify(zlib.gunzip),
  deflate: promisify(zlib.inflate),
  br: promisify(zlib.brotliDecompress) as (buf: Buffer, opts: zlib.ZlibOptions) => Promise<Buffer>,
};

/** Decompresses `raw` by its Content-Encoding within `limit` bytes of output. */
export async function decodeBody(raw: Buffer, encodingHeader: string | undefined, limit: number): Promise<BodyResult> {
  const encoding = (encodingHeader ?? 'identity').trim().toLowerCase();
  if (encoding === '' || encoding === 'identity') {
    return raw.length > limit
      ? { kind: 'too_large', receivedBytes: raw.length }
      : { kind: 'ok', body: raw, receivedBytes: raw.length };
  }
  const decompress = DECOMPRESS[encoding];
  if (!decompress) return { kind: 'undecodable', body: raw, encoding, receivedBytes: raw.length };
  try {
    const body = await decompress(raw, { maxOutputLength: limit });
    return { kind: 'ok', body, receivedBytes: raw.length };
  } catch (err) {
    if ((err as { code?: unknown }).code === 'ERR_BUFFER_TOO_LARGE') {
      return { kind: 'too_large', receivedBytes: raw.length };
    }
    return { kind: 'undecodable', body: raw, encoding, receivedBytes: raw.length };
  }
}

/** Reads the request's bytes (at most `limit`), then decodes them. Stops reading as soon as the limit is passed. */
export function readBody(req: IncomingMessage, limit: number): Promise<BodyResult> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    return Promise.resolve({ kind: 'too_large', receivedBytes: 0 });
  }
  return new Promise<BodyResult>((resolve) => {
    const chunks: Buffer[] = [];
    let received = 0;
    let done = false;
    const finish = (r: BodyResult | Promise<BodyResult>) => {
      if (done) return;
      done = true;
      req.removeListener('data', onData);
      resolve(r);
    };
    const onData = (chunk: Buffer) => {
      received += chunk.length;
      if (received > limit) {
        finish({ kind: 'too_large', receivedBytes: received });
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.once('end', () =>
      finish(decodeBody(Buffer.concat(chunks, received), headerValue(req, 'content-encoding'), limit)),
    );
    req.once('aborted', () => finish({ kind: 'aborted', receivedBytes: received }));
    req.once('error', () => finish({ kind: 'aborted', receivedBytes: received }));
    req.once('close', () => finish({ kind: 'aborted', receivedBytes: received }));
  });
}

export function headerValue(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v.join(', ') : v;
}
