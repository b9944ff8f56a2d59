/**
 * The storage importer (2nd-gen Cloud Function, HTTP, functions-framework target `importer`) of one connector: the push
 * subscription of the bucket notification's topic calls it once per new object under the connector's prefix. Configured
 * by the same environment variables as the function (shared/runtime-config.ts `importerEnvironment`); it needs only
 * read access to the bucket, the connector's Firestore database and publishing on its ingest topic.
 */
import * as ff from '@google-cloud/functions-framework';
import { IMPORTER_TARGET, storageImportNames } from '../../shared/names';
import { ENV_VARS, parseRuntimeConfig, type RuntimeConfig } from '../../shared/runtime-config';
import { createLogger } from '../log';
import { reimportAfter } from './backfill';
import { handleNotification } from './handler';
import { ConnectorImporter, importBackfillFile } from './importer';

let config: RuntimeConfig;
try {
  config = parseRuntimeConfig(process.env);
  if (!config.connector.storage)
    throw new Error(`connector '${config.connector.name}' has no 'storage' in its definition`);
} catch (err) {
  process.stdout.write(
    `${JSON.stringify({ severity: 'CRITICAL', event: 'config_error', message: (err as Error).message })}\n`,
  );
  throw err;
}

// The backfill importer (same code, its own instances) publishes on the backfill topic and honours `--reimport`.
const backfill = process.env[ENV_VARS.importerRole] === 'backfill';
const leaseMs = Number(process.env[ENV_VARS.importLeaseMs] ?? '') || undefined;
const logger = createLogger({ connector: config.connector.name, ...(backfill ? { base: { role: 'backfill' } } : {}) });
let importer: ConnectorImporter | undefined;
const get = () =>
  (importer ??= new ConnectorImporter({
    project: config.project,
    connector: config.connector,
    leaseMs,
    ...(backfill ? { topic: storageImportNames(config.connector.name).backfillTopic } : {}),
  }));

ff.http(IMPORTER_TARGET, (req, res) => {
  void handleNotification(req.body, {
    storage: config.connector.storage!,
    import: backfill ? (o) => importBackfillFile(get(), o, reimportAfter(req.body)) : (o) => get().import(o),
    logger,
  }).then(({ status }) => res.status(status).end());
});
