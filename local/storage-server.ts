/**
 * The project's local Cloud Storage stand-in (Google offers no emulator): an in-memory server over real HTTP speaking the
 * parts of the Cloud Storage JSON API the product and its tests use, driven through the real `@google-cloud/storage`
 * client with `apiEndpoint: server.apiEndpoint` (or `STORAGE_EMULATOR_HOST=server.apiEndpoint`; both URL forms, with and
 * without `/storage/v1`, are served):
 *
 *  - buckets: insert (`POST /b`), get (`GET /b/B`);
 *  - objects: list (`GET /b/B/o?prefix&maxResults&pageToken`, in name order), get metadata (`GET /b/B/o/O`), get media
 *    (`?alt=media`, with `Range: bytes=a-b`, `a-` or `-n`; also under `/download/storage/v1`), delete;
 *  - uploads (`POST /upload/storage/v1/b/B/o`): `uploadType=media` (`?name=`), `multipart` (what the client's
 *    `save(data, { resumable: false })` sends) and `resumable` (a session URL, then one `PUT` of the whole body).
 *
 * Every finished upload gets a new generation and is announced to `onFinalize` listeners, like a bucket notification
 * (`OBJECT_FINALIZE`) would be. Anything else is answered 501 with the route named, so that a gap shows at once.
 */
import { createHash, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CRC32C } from '@google-cloud/storage';

export interface StoredObject {
  readonly bucket: string;
  readonly name: string;
  readonly generation: string;
  readonly size: number;
  readonly contentType: string;
}

export interface LocalStorageServer {
  /** `http://127.0.0.1:PORT`: the client's `apiEndpoint` or `STORAGE_EMULATOR_HOST`. */
  readonly apiEndpoint: string;
  createBucket(name: string): void;
  /** Called after every finished upload (the local bucket notification). */
  onFinalize(listener: (obj: StoredObject) => void): void;
  readonly stats: { requests: number; mediaBytes: number };
  close(): Promise<void>;
}

interface Entry {
  data: Buffer;
  generation: number;
  contentType: string;
  metadata: Record<string, string>;
  updated: string;
  md5: string;
  crc32c: string;
}

const PAGE_MAX = 1000;

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => resolve(Buffer.concat(parts)));
    req.on('error', reject);
  });
}

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=UTF-8',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

function error(res: ServerResponse, status: number, message: string): void {
  json(res, status, {
    error: { code: status, message, errors: [{ message, reason: status === 404 ? 'notFound' : 'invalid' }] },
  });
}

/** Splits a `multipart/related` body into its parts' bodies (metadata JSON first, then the media). */
function multipartParts(body: Buffer, contentType: string): Buffer[] {
  const m = /boundary="?([^";]+)"?/.exec(contentType);
  if (!m) return [];
  const delimiter = Buffer.from(`--${m[1]}`);
  const parts: Buffer[] = [];
  let pos = body.indexOf(delimiter);
  while (pos >= 0) {
    const start = pos + delimiter.length;
    if (body.subarray(start, start + 2).toString() === '--') break;
    const next = body.indexOf(delimiter, start);
    if (next < 0) break;
    const part = body.subarray(start, next);
    const headEnd = part.indexOf('\r\n\r\n');
    let content = headEnd >= 0 ? part.subarray(headEnd + 4) : part;
    if (content.subarray(content.length - 2).toString() === '\r\n') content = content.subarray(0, content.length - 2);
    parts.push(content);
    pos = next;
  }
  return parts;
}

export async function startStorageServer(
  opts: { port?: number; buckets?: readonly string[] } = {},
): Promise<LocalStorageServer> {
  const buckets = new Map<string, Map<string, Entry>>();
  const listeners: Array<(o: StoredObject) => void> = [];
  const sessions = new Map<
    string,
    { bucket: string; name: string; contentType: string; metadata: Record<string, string> }
  >();
  const stats = { requests: 0, mediaBytes: 0 };
  let generation = Date.now() * 1000;
  let endpoint = '';

  const createBucket = (name: string) => {
    if (!buckets.has(name)) buckets.set(name, new Map());
  };
  for (const b of opts.buckets ?? []) createBucket(b);

  const meta = (bucket: string, name: string, e: Entry) => ({
    kind: 'storage#object',
    id: `${bucket}/${name}/${e.generation}`,
    selfLink: `${endpoint}/storage/v1/b/${bucket}/o/${encodeURIComponent(name)}`,
    mediaLink: `${endpoint}/download/storage/v1/b/${bucket}/o/${encodeURIComponent(name)}?generation=${e.generation}&alt=media`,
    name,
    bucket,
    generation: String(e.generation),
    metageneration: '1',
    contentType: e.contentType,
    storageClass: 'STANDARD',
    size: String(e.data.length),
    md5Hash: e.md5,
    crc32c: e.crc32c,
    etag: e.md5,
    timeCreated: e.updated,
    updated: e.updated,
    ...(Object.keys(e.metadata).length ? { metadata: e.metadata } : {}),
  });

  const store = (bucket: string, name: string, data: Buffer, contentType: string, metadata: Record<string, string>) => {
    const objects = buckets.get(bucket)!;
    const crc = new CRC32C();
    crc.update(data);
    const e: Entry = {
      data,
      generation: ++generation,
      contentType,
      metadata,
      updated: new Date().toISOString(),
      md5: createHash('md5').update(data).digest('base64'),
      crc32c: crc.toString(),
    };
    objects.set(name, e);
    const announced: StoredObject = { bucket, name, generation: String(e.generation), size: data.length, contentType };
    // After the answer, like a notification: listeners never delay the uploader.
    setImmediate(() => listeners.forEach((l) => l(announced)));
    return meta(bucket, name, e);
  };

  const sendMedia = (req: IncomingMessage, res: ServerResponse, e: Entry) => {
    const size = e.data.length;
    const range = /^bytes=(\d*)-(\d*)$/.exec(String(req.headers.range ?? ''));
    const headers = {
      'content-type': e.contentType,
      'x-goog-generation': String(e.generation),
      'x-goog-stored-content-length': String(size),
      'x-goog-stored-content-encoding': 'identity',
      'accept-ranges': 'bytes',
    };
    if (!range || (range[1] === '' && range[2] === '')) {
      res.writeHead(200, { ...headers, 'content-length': size, 'x-goog-hash': `crc32c=${e.crc32c},md5=${e.md5}` });
      stats.mediaBytes += size;
      res.end(e.data);
      return;
    }
    let start = range[1] === '' ? Math.max(0, size - Number(range[2])) : Number(range[1]);
    let end = range[1] === '' || range[2] === '' ? size - 1 : Math.min(Number(range[2]), size - 1);
    if (start >= size || start > end) {
      res.writeHead(416, { 'content-range': `bytes */${size}` });
      res.end();
      return;
    }
    start = Math.max(0, start);
    end = Math.max(start, end);
    res.writeHead(206, {
      ...headers,
      'content-length': end - start + 1,
      'content-range': `bytes ${start}-${end}/${size}`,
    });
    stats.mediaBytes += end - start + 1;
    res.end(e.data.subarray(start, end + 1));
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    stats.requests++;
    const url = new URL(req.url ?? '/', 'http://local');
    const q = url.searchParams;
    const method = req.method ?? 'GET';
    let path = url.pathname;
    const upload = path.startsWith('/upload/storage/v1/');
    if (path.startsWith('/upload/storage/v1')) path = path.slice('/upload/storage/v1'.length);
    else if (path.startsWith('/download/storage/v1')) path = path.slice('/download/storage/v1'.length);
    else if (path.startsWith('/storage/v1')) path = path.slice('/storage/v1'.length);
    const seg = path.split('/').filter(Boolean).map(decodeURIComponent);

    if (method === 'PUT' && seg[0] === 'upload-session' && seg[1]) {
      const s = sessions.get(seg[1]);
      if (!s) return error(res, 404, `no upload session ${seg[1]}`);
      const body = await readBody(req);
      sessions.delete(seg[1]);
      return json(res, 200, store(s.bucket, s.name, body, s.contentType, s.metadata));
    }
    if (seg[0] !== 'b') return error(res, 501, `local storage server: ${method} ${url.pathname} is not served`);
    if (seg.length === 1 && method === 'POST') {
      const body = JSON.parse((await readBody(req)).toString() || '{}') as { name?: string };
      if (!body.name) return error(res, 400, 'bucket name missing');
      if (buckets.has(body.name)) return error(res, 409, `bucket ${body.name} already exists`);
      createBucket(body.name);
      return json(res, 200, { kind: 'storage#bucket', name: body.name, id: body.name, location: 'US' });
    }
    const bucket = seg[1];
    const objects = bucket !== undefined ? buckets.get(bucket) : undefined;
    if (!bucket || !objects) return error(res, 404, `bucket ${bucket ?? ''} not found`);
    if (seg.length === 2 && method === 'GET')
      return json(res, 200, { kind: 'storage#bucket', name: bucket, id: bucket });
    if (seg[2] !== 'o') return error(res, 501, `local storage server: ${method} ${url.pathname} is not served`);

    if (upload && method === 'POST' && seg.length === 3) {
      const type = q.get('uploadType');
      const contentType = String(req.headers['content-type'] ?? 'application/octet-stream');
      if (type === 'media') {
        const name = q.get('name');
        if (!name) return error(res, 400, 'uploadType=media needs ?name=');
        return json(res, 200, store(bucket, name, await readBody(req), contentType, {}));
      }
      if (type === 'multipart') {
        const [metaPart, media] = multipartParts(await readBody(req), contentType);
        const m = JSON.parse(metaPart?.toString() || '{}') as {
          name?: string;
          contentType?: string;
          metadata?: Record<string, string>;
        };
        const name = m.name ?? q.get('name');
        if (!name || !media)
          return error(res, 400, 'multipart upload needs a metadata part with a name and a media part');
        return json(
          res,
          200,
          store(bucket, name, media, m.contentType ?? 'application/octet-stream', m.metadata ?? {}),
        );
      }
      if (type === 'resumable') {
        const m = JSON.parse((await readBody(req)).toString() || '{}') as {
          name?: string;
          contentType?: string;
          metadata?: Record<string, string>;
        };
        const name = m.name ?? q.get('name');
        if (!name) return error(res, 400, 'resumable upload needs a name');
        const id = randomUUID();
        sessions.set(id, {
          bucket,
          name,
          contentType: m.contentType ?? 'application/octet-stream',
          metadata: m.metadata ?? {},
        });
        res.writeHead(200, { location: `${endpoint}/upload-session/${id}`, 'content-length': 0 });
        res.end();
        return;
      }
      return error(res, 501, `local storage server: uploadType=${type ?? ''} is not served`);
    }

    if (seg.length === 3 && method === 'GET') {
      const prefix = q.get('prefix') ?? '';
      const max = Math.min(Number(q.get('maxResults') ?? PAGE_MAX) || PAGE_MAX, PAGE_MAX);
      const after = q.get('pageToken') ? Buffer.from(q.get('pageToken')!, 'base64url').toString() : undefined;
      const names = [...objects.keys()]
        .filter((n) => n.startsWith(prefix) && (after === undefined || n > after))
        .sort();
      const page = names.slice(0, max);
      return json(res, 200, {
        kind: 'storage#objects',
        items: page.map((n) => meta(bucket, n, objects.get(n)!)),
        ...(names.length > max ? { nextPageToken: Buffer.from(page[page.length - 1]!).toString('base64url') } : {}),
      });
    }
    const name = seg.slice(3).join('/');
    const e = objects.get(name);
    if (!e || (q.get('generation') && q.get('generation') !== String(e.generation))) {
      return error(res, 404, `no such object: ${bucket}/${name}`);
    }
    if (method === 'DELETE') {
      objects.delete(name);
      res.writeHead(204);
      res.end();
      return;
    }
    if (method === 'GET' && q.get('alt') === 'media') return sendMedia(req, res, e);
    if (method === 'GET') return json(res, 200, meta(bucket, name, e));
    return error(res, 501, `local storage server: ${method} ${url.pathname} is not served`);
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      if (!res.headersSent) error(res, 500, `local storage server: ${(e as Error).message}`);
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve) => server.listen(opts.port ?? 0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    apiEndpoint: endpoint,
    createBucket,
    onFinalize: (l) => void listeners.push(l),
    stats,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
