/**
 * The live storage import, locally: what a bucket notification and its push subscription do in Google Cloud. Every object
 * finished in the local Cloud Storage stand-in (anyone's upload with the real client) becomes the notification's push
 * body, handed to the importer of each connector whose `storage` names that bucket (runtime/storage/handler.ts, the
 * deployed function's code); answers other than 2xx are redelivered with backoff, as the push subscription would.
 */
import type { Connector } from '../shared/connector';
import { createLogger, type LogSink } from '../runtime/log';
import { handleNotification } from '../runtime/storage/handler';
import type { ImportResult } from '../runtime/storage/import-object';
import { ConnectorImporter } from '../runtime/storage/importer';
import { notificationBody } from '../runtime/storage/notification';
import type { LocalStorageServer, StoredObject } from './storage-server';

export interface LiveImport {
  /** Results of every handled notification, in order. */
  readonly results: Array<{ connector: string; object: string; status: number; result?: ImportResult }>;
  /** Resolves when no notification is being handled or waiting for redelivery. */
  idle(): Promise<void>;
  close(): Promise<void>;
}

export function startLiveImport(opts: {
  server: LocalStorageServer;
  project: string;
  connectors: readonly Connector[];
  sink?: LogSink;
  /** Delay before the first redelivery (doubles up to 10 s). Default 500 ms. */
  retryMs?: number;
}): LiveImport {
  const targets = opts.connectors
    .filter((c) => c.storage)
    .map((c) => ({
      connector: c,
      storage: c.storage!,
      importer: new ConnectorImporter({ project: opts.project, connector: c, apiEndpoint: opts.server.apiEndpoint }),
      logger: createLogger({ connector: c.name, ...(opts.sink ? { sink: opts.sink } : {}) }),
    }));
  for (const t of targets) opts.server.createBucket(t.storage.bucket);
  const results: LiveImport['results'] = [];
  let pending = 0;
  let waiters: Array<() => void> = [];
  let closed = false;
  const settle = () => {
    if (pending === 0) {
      waiters.forEach((w) => w());
      waiters = [];
    }
  };

  const deliver = async (t: (typeof targets)[number], o: StoredObject) => {
    let delay = opts.retryMs ?? 500;
    const body = notificationBody({ bucket: o.bucket, name: o.name, generation: o.generation, size: o.size });
    while (!closed) {
      const { status, result } = await handleNotification(body, {
        storage: t.storage,
        import: (obj) => t.importer.import(obj),
        logger: t.logger,
      });
      results.push({ connector: t.connector.name, object: o.name, status, result });
      if (status < 300) return;
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 10_000);
    }
  };

  opts.server.onFinalize((o) => {
    for (const t of targets) {
      if (t.storage.bucket !== o.bucket) continue;
      pending++;
      void deliver(t, o).finally(() => {
        pending--;
        settle();
      });
    }
  });

  return {
    results,
    idle: () => (pending === 0 ? Promise.resolve() : new Promise<void>((r) => waiters.push(r))),
    close: async () => {
      closed = true;
      await Promise.allSettled(targets.map((t) => t.importer.close()));
    },
  };
}
