/**
 * Cloud Storage through the real `@google-cloud/storage` client: list a prefix page by page, read an object as a stream.
 * With `apiEndpoint` (or the environment's `STORAGE_EMULATOR_HOST`) it talks to the local stand-in
 * (local/storage-server.ts); otherwise to Google with Application Default Credentials. The client library is loaded on
 * first use, so that importing this module stays cheap.
 */
import type { Storage } from '@google-cloud/storage';
import type { ObjectRef } from './import-object';

export interface StorageOptions {
  readonly projectId?: string;
  /** e.g. `http://127.0.0.1:PORT` for the local stand-in. */
  readonly apiEndpoint?: string;
}

export class StorageSource {
  private client?: Promise<Storage>;

  constructor(private readonly opts: StorageOptions = {}) {}

  storage(): Promise<Storage> {
    this.client ??= import('@google-cloud/storage').then(
      ({ Storage }) =>
        new Storage({
          ...(this.opts.projectId ? { projectId: this.opts.projectId } : {}),
          ...(this.opts.apiEndpoint ? { apiEndpoint: this.opts.apiEndpoint } : {}),
        }),
    );
    return this.client;
  }

  /** Every object under `prefix`, in name order, one page (≤ 1000) at a time. */
  async *list(bucket: string, prefix: string): AsyncGenerator<ObjectRef> {
    const b = (await this.storage()).bucket(bucket);
    let pageToken: string | undefined;
    do {
      const [files, next] = await b.getFiles({ prefix, autoPaginate: false, maxResults: 1000, pageToken });
      for (const f of files) {
        yield {
          bucket,
          name: f.name,
          generation: f.metadata.generation !== undefined ? String(f.metadata.generation) : undefined,
          size: Number(f.metadata.size ?? 0),
        };
      }
      pageToken = (next as { pageToken?: string } | null | undefined)?.pageToken;
    } while (pageToken);
  }

  /** One object's metadata (generation, size), as a notification names it. */
  async stat(bucket: string, name: string): Promise<ObjectRef> {
    const [m] = await (await this.storage()).bucket(bucket).file(name).getMetadata();
    return {
      bucket,
      name,
      generation: m.generation !== undefined ? String(m.generation) : undefined,
      size: Number(m.size ?? 0),
    };
  }

  /** The object's bytes as a stream (of that generation, when known). */
  async *read(obj: ObjectRef): AsyncGenerator<Uint8Array> {
    const file = (await this.storage())
      .bucket(obj.bucket)
      .file(obj.name, obj.generation ? { generation: Number(obj.generation) } : {});
    // Whole-object checksums cannot be checked on a stream that stops early; Avro's sync markers check each block.
    yield* file.createReadStream({ validation: false }) as AsyncIterable<Buffer>;
  }
}
