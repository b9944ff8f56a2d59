/**
 * The local Cloud Storage server's objects: buckets in memory, each upload a new generation announced to the
 * `onFinalize` listeners (the local bucket notification), objects described as the JSON API does, pages of a listing,
 * and media answers with ranges.
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { CRC32C } from '@google-cloud/storage';

export interface StoredObject {
  readonly bucket: string;
  readonly name: string;
  readonly generation: string;
  readonly size: number;
  readonly contentType: string;
}

export interface Entry {
  data: Buffer;
  generation: number;
  contentType: string;
  metadata: Record<string, string>;
  updated: string;
  md5: string;
  crc32c: string;
}

/** Most objects in one page of a listing. */
const PAGE_MAX = 1000;

export class ObjectStore {
  readonly buckets = new Map<string, Map<string, Entry>>();
  readonly listeners: Array<(o: StoredObject) => void> = [];
  readonly stats = { requests: 0, mediaBytes: 0 };
  private generation = Date.now() * 1000;
  /** The server's URL, once it listens (the objects' links). */
  endpoint = '';

  createBucket(name: string): void {
    if (!this.buckets.has(name)) this.buckets.set(name, new Map());
  }

  /** An object's resource, as the JSON API describes it. */
  meta(bucket: string, name: string, e: Entry) {
    const endpoint = this.endpoint;
    return {
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
    };
  }

  /** Stores a finished upload as a new generation, announces it after the answer, and returns its resource. */
  store(bucket: string, name: string, data: Buffer, contentType: string, metadata: Record<string, string>) {
    const objects = this.buckets.get(bucket)!;
    const crc = new CRC32C();
    crc.update(data);
    const e: Entry = {
      data,
      generation: ++this.generation,
      contentType,
      metadata,
      updated: new Date().toISOString(),
      md5: createHash('md5').update(data).digest('base64'),
      crc32c: crc.toString(),
    };
    objects.set(name, e);
    const announced: StoredObject = { bucket, name, generation: String(e.generation), size: data.length, contentType };
    // After the answer, like a notification: listeners never delay the uploader.
    setImmediate(() => this.listeners.forEach((l) => l(announced)));
    return this.meta(bucket, name, e);
  }

  /** One page of a bucket's objects (`prefix`, `maxResults`, `pageToken`), in name order. */
  list(bucket: string, objects: Map<string, Entry>, q: URLSearchParams) {
    const prefix = q.get('prefix') ?? '';
    const max = Math.min(Number(q.get('maxResults') ?? PAGE_MAX) || PAGE_MAX, PAGE_MAX);
    const after = q.get('pageToken') ? Buffer.from(q.get('pageToken')!, 'base64url').toString() : undefined;
    const names = [...objects.keys()].filter((n) => n.startsWith(prefix) && (after === undefined || n > after)).sort();
    const page = names.slice(0, max);
    return {
      kind: 'storage#objects',
      items: page.map((n) => this.meta(bucket, n, objects.get(n)!)),
      ...(names.length > max ? { nextPageToken: Buffer.from(page[page.length - 1]!).toString('base64url') } : {}),
    };
  }

  /** Answers an object's media: whole (200), a range (206: `bytes=a-b`, `a-` or `-n`), or 416. */
  sendMedia(req: IncomingMessage, res: ServerResponse, e: Entry): void {
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
      this.stats.mediaBytes += size;
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
    this.stats.mediaBytes += end - start + 1;
    res.end(e.data.subarray(start, end + 1));
  }
}
