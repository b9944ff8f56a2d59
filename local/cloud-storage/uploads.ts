/**
 * The local Cloud Storage server's uploads (`POST /upload/storage/v1/b/B/o`): `uploadType=media` (`?name=`),
 * `multipart` (what the client's `save(data, { resumable: false })` sends) and `resumable` (a session URL, then one
 * `PUT` of the whole body).
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { error, json, multipartParts, readBody } from './http';
import type { ObjectStore } from './store';

interface ObjectMetadata {
  name?: string;
  contentType?: string;
  metadata?: Record<string, string>;
}

interface Session {
  bucket: string;
  name: string;
  contentType: string;
  metadata: Record<string, string>;
}

export class Uploads {
  private readonly sessions = new Map<string, Session>();

  constructor(private readonly objects: ObjectStore) {}

  /** `PUT /upload-session/<id>`: the whole body of a resumable upload. */
  async finishSession(req: IncomingMessage, res: ServerResponse, id: string): Promise<void> {
    const s = this.sessions.get(id);
    if (!s) return error(res, 404, `no upload session ${id}`);
    const body = await readBody(req);
    this.sessions.delete(id);
    return json(res, 200, this.objects.store(s.bucket, s.name, body, s.contentType, s.metadata));
  }

  async upload(req: IncomingMessage, res: ServerResponse, bucket: string, q: URLSearchParams): Promise<void> {
    const type = q.get('uploadType');
    const contentType = String(req.headers['content-type'] ?? 'application/octet-stream');
    if (type === 'media') {
      const name = q.get('name');
      if (!name) return error(res, 400, 'uploadType=media needs ?name=');
      return json(res, 200, this.objects.store(bucket, name, await readBody(req), contentType, {}));
    }
    if (type === 'multipart') {
      const [metaPart, media] = multipartParts(await readBody(req), contentType);
      const m = JSON.parse(metaPart?.toString() || '{}') as ObjectMetadata;
      const name = m.name ?? q.get('name');
      if (!name || !media)
        return error(res, 400, 'multipart upload needs a metadata part with a name and a media part');
      const stored = this.objects.store(
        bucket,
        name,
        media,
        m.contentType ?? 'application/octet-stream',
        m.metadata ?? {},
      );
      return json(res, 200, stored);
    }
    if (type === 'resumable') {
      const m = JSON.parse((await readBody(req)).toString() || '{}') as ObjectMetadata;
      const name = m.name ?? q.get('name');
      if (!name) return error(res, 400, 'resumable upload needs a name');
      const id = randomUUID();
      this.sessions.set(id, {
        bucket,
        name,
        contentType: m.contentType ?? 'application/octet-stream',
        metadata: m.metadata ?? {},
      });
      res.writeHead(200, { location: `${this.objects.endpoint}/upload-session/${id}`, 'content-length': 0 });
      res.end();
      return;
    }
    return error(res, 501, `local storage server: uploadType=${type ?? ''} is not served`);
  }
}
