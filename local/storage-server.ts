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
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { error, json, readBody } from './cloud-storage/http';
import { ObjectStore, type StoredObject } from './cloud-storage/store';
import { Uploads } from './cloud-storage/uploads';

export type { StoredObject } from './cloud-storage/store';

export interface LocalStorageServer {
  /** `http://127.0.0.1:PORT`: the client's `apiEndpoint` or `STORAGE_EMULATOR_HOST`. */
  readonly apiEndpoint: string;
  createBucket(name: string): void;
  /** Called after every finished upload (the local bucket notification). */
  onFinalize(listener: (obj: StoredObject) => void): void;
  readonly stats: { requests: number; mediaBytes: number };
  close(): Promise<void>;
}

const notServed = (res: ServerResponse, method: string, url: URL) =>
  error(res, 501, `local storage server: ${method} ${url.pathname} is not served`);

/** The path under the API's root (both URL forms, with and without `/storage/v1`), split and decoded. */
function route(url: URL): { upload: boolean; seg: string[] } {
  let path = url.pathname;
  const upload = path.startsWith('/upload/storage/v1/');
  if (path.startsWith('/upload/storage/v1')) path = path.slice('/upload/storage/v1'.length);
  else if (path.startsWith('/download/storage/v1')) path = path.slice('/download/storage/v1'.length);
  else if (path.startsWith('/storage/v1')) path = path.slice('/storage/v1'.length);
  return { upload, seg: path.split('/').filter(Boolean).map(decodeURIComponent) };
}

async function handle(store: ObjectStore, uploads: Uploads, req: IncomingMessage, res: ServerResponse): Promise<void> {
  store.stats.requests++;
  const url = new URL(req.url ?? '/', 'http://local');
  const q = url.searchParams;
  const method = req.method ?? 'GET';
  const { upload, seg } = route(url);

  if (method === 'PUT' && seg[0] === 'upload-session' && seg[1]) return uploads.finishSession(req, res, seg[1]);
  if (seg[0] !== 'b') return notServed(res, method, url);
  if (seg.length === 1 && method === 'POST') {
    const body = JSON.parse((await readBody(req)).toString() || '{}') as { name?: string };
    if (!body.name) return error(res, 400, 'bucket name missing');
    if (store.buckets.has(body.name)) return error(res, 409, `bucket ${body.name} already exists`);
    store.createBucket(body.name);
    return json(res, 200, { kind: 'storage#bucket', name: body.name, id: body.name, location: 'US' });
  }
  const bucket = seg[1];
  const objects = bucket !== undefined ? store.buckets.get(bucket) : undefined;
  if (!bucket || !objects) return error(res, 404, `bucket ${bucket ?? ''} not found`);
  if (seg.length === 2 && method === 'GET') return json(res, 200, { kind: 'storage#bucket', name: bucket, id: bucket });
  if (seg[2] !== 'o') return notServed(res, method, url);
  if (upload && method === 'POST' && seg.length === 3) return uploads.upload(req, res, bucket, q);
  if (seg.length === 3 && method === 'GET') return json(res, 200, store.list(bucket, objects, q));

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
  if (method === 'GET' && q.get('alt') === 'media') return store.sendMedia(req, res, e);
  if (method === 'GET') return json(res, 200, store.meta(bucket, name, e));
  return notServed(res, method, url);
}

export async function startStorageServer(
  opts: { port?: number; buckets?: readonly string[] } = {},
): Promise<LocalStorageServer> {
  const store = new ObjectStore();
  const uploads = new Uploads(store);
  for (const b of opts.buckets ?? []) store.createBucket(b);

  const server: Server = createServer((req, res) => {
    handle(store, uploads, req, res).catch((e: unknown) => {
      if (!res.headersSent) error(res, 500, `local storage server: ${(e as Error).message}`);
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve) => server.listen(opts.port ?? 0, '127.0.0.1', resolve));
  store.endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    apiEndpoint: store.endpoint,
    createBucket: (name) => store.createBucket(name),
    onFinalize: (l) => void store.listeners.push(l),
    stats: store.stats,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
