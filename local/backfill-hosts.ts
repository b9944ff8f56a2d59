/**
 * A backfill's own path, locally, as infra/connector/backfill.ts and infra/storage-import.ts declare it: the backfill
 * topic pushed (the connector's push policy) to a second host of the connector's function (the backfill function), the
 * backfill-files topic pushed to N hosts of the backfill importer (CURRENTS_IMPORTER_ROLE=backfill), each served by the
 * real functions-framework in its own process. Cloud Run's load balancing in front of the importer's instances is a
 * small dispatcher here: each push goes to an idle host (an importer takes one file at a time, as deployed); with none
 * idle it holds the push up to 30 s, then answers 429 and Pub/Sub redelivers later, as Cloud Run does at its instance
 * limit; a host that dies
 * mid-request makes it 503 (redelivered, and resumed by another host once the dead one's claim has lapsed).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setPriority } from 'node:os';
import type { PubSub } from '@google-cloud/pubsub';
import type { Connector, Environment } from '../shared/connector';
import { storageImportNames } from '../shared/names';
import { ENV_VARS, importerEnvironment } from '../shared/runtime-config';
import { startFunctionHost, type FunctionHost } from './function-host';
import { ensure, provisionPush } from './provision';

export interface BackfillHosts {
  /** The backfill function (the connector's function again, its own process). */
  readonly function: FunctionHost;
  readonly importers: readonly FunctionHost[];
  /** Pushes answered per importer host (index as `importers`). */
  readonly handled: readonly number[];
  /** Hosts busy with a push right now, with the object each is importing. */
  busy(): Array<{ host: FunctionHost; object: string }>;
  stop(): Promise<void>;
}

export interface BackfillHostsOptions {
  readonly pubsub: PubSub;
  readonly environment: Pick<Environment, 'name' | 'project'>;
  readonly connector: Connector;
  /** The live function's environment (local/connector-runner.ts `env`): the backfill function gets the same. */
  readonly functionEnv: Readonly<Record<string, string>>;
  readonly emulatorEnv: Readonly<Record<string, string>>;
  /** The local Cloud Storage stand-in's endpoint. */
  readonly storageEndpoint: string;
  readonly hosts: number;
  /** Claim lease of the importers, ms (short, so that a killed host's file is resumed soon). */
  readonly leaseMs?: number;
  readonly onLog?: (line: string) => void;
  /**
   * Scheduling priority (nice, 0–19) of the backfill's processes. Deployed, the backfill function and importers run on
   * instances of their own; on one machine a positive value lets them take only the CPU the live path leaves (the bench).
   */
  readonly nice?: number;
}

export async function startBackfillHosts(o: BackfillHostsOptions): Promise<BackfillHosts> {
  const names = storageImportNames(o.connector.name);
  const started: FunctionHost[] = [];
  let dispatcher: Server | undefined;
  const stop = async () => {
    await Promise.allSettled([
      o.pubsub.subscription(names.backfillFilesSubscription).delete(),
      o.pubsub.subscription(names.backfillPushSubscription).delete(),
    ]);
    await new Promise((r) => (dispatcher ? dispatcher.close(r) : r(undefined)));
    await Promise.allSettled(started.map((h) => h.stop()));
  };
  try {
    const fn = await startFunctionHost({ env: { ...o.functionEnv }, onLine: o.onLog });
    started.push(fn);
    // Local backoffs: a redelivery after seconds, not the deployed 10 s to 10 min.
    const quick = { minimumBackoffSeconds: 1, maximumBackoffSeconds: 5 };
    await provisionPush(
      o.pubsub,
      o.connector,
      { topic: names.backfillTopic, subscription: names.backfillPushSubscription },
      { pushEndpoint: fn.pushEndpoint, ...quick },
    );
    const importerEnv = {
      ...o.emulatorEnv,
      ...importerEnvironment(o.environment, o.connector),
      STORAGE_EMULATOR_HOST: o.storageEndpoint,
      [ENV_VARS.importerRole]: 'backfill',
      [ENV_VARS.importLeaseMs]: String(o.leaseMs ?? 3000),
    };
    const importers = await Promise.all(
      Array.from({ length: o.hosts }, () =>
        startFunctionHost({ serve: 'importer', env: importerEnv, onLine: o.onLog }),
      ),
    );
    started.push(...importers);
    const handled = importers.map(() => 0);
    const inUse = new Map<FunctionHost, string>();
    let freed: Array<() => void> = [];
    const release = (host: FunctionHost) => {
      inUse.delete(host);
      const waiting = freed;
      freed = [];
      waiting.forEach((w) => w());
    };
    /** An idle host, waiting up to 30 s for one (Cloud Run holds a request a while at its instance limit). */
    const idle = async (): Promise<number> => {
      const until = Date.now() + 30_000;
      for (;;) {
        const i = importers.findIndex((h) => !h.exited && !inUse.has(h));
        if (i >= 0 || Date.now() > until) return i;
        await new Promise<void>((r) => {
          freed.push(r);
          setTimeout(r, 1000);
        });
      }
    };
    dispatcher = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', async () => {
        const i = await idle();
        if (i < 0) return void res.writeHead(429).end();
        const host = importers[i]!;
        const body = Buffer.concat(chunks);
        inUse.set(host, objectOf(body));
        fetch(`${host.url}/`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body,
        })
          .then(
            (r) => {
              handled[i]!++;
              res.writeHead(r.status).end();
            },
            () => res.writeHead(503).end(),
          )
          .finally(() => release(host));
      });
    });
    if (o.nice) for (const h of started) setPriority(h.pid, o.nice);
    await new Promise<void>((r) => dispatcher!.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(dispatcher.address() as AddressInfo).port}/`;
    await ensure(() => o.pubsub.createTopic(names.backfillFilesTopic));
    await ensure(() =>
      o.pubsub.topic(names.backfillFilesTopic).createSubscription(names.backfillFilesSubscription, {
        pushConfig: { pushEndpoint: url },
        ackDeadlineSeconds: 600,
        retryPolicy: { minimumBackoff: { seconds: 1 }, maximumBackoff: { seconds: 5 } },
      }),
    );
    return {
      function: fn,
      importers,
      handled,
      busy: () => [...inUse].map(([host, object]) => ({ host, object })),
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** The object a push body names (its `objectId` attribute), or '' when it names none. */
function objectOf(body: Buffer): string {
  try {
    const parsed = JSON.parse(body.toString('utf8')) as { message?: { attributes?: { objectId?: unknown } } };
    const id = parsed.message?.attributes?.objectId;
    return typeof id === 'string' ? id : '';
  } catch {
    return '';
  }
}
