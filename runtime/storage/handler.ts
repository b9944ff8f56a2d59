/**
 * The live importer's answer to one bucket notification (a Pub/Sub push), as an HTTP status for the push subscription:
 *
 *  - 204 (acknowledged): the object was imported, skipped (a type the connector does not export), already finished (a
 *    redelivered notification), ignored (not a finished `.avro` object under the prefix), or damaged — marked failed
 *    with its offset, the records before the damage published, an ERROR line `storage_import_failed` for the alert;
 *    `currents import` retries it once Braze has rewritten it;
 *  - 429 (redelivered later): another importer holds the object (a duplicate notification being handled meanwhile);
 *  - 500 (redelivered with backoff): a publish or a read failed; progress is recorded per chunk, so that the redelivery
 *    resumes after what was published.
 */
import { describeError, type Logger } from '../log';
import type { ImportResult, ObjectRef } from './import-object';
import { parseNotification } from './notification';

export interface NotificationDeps {
  readonly storage: { bucket: string; prefix: string };
  import(obj: ObjectRef): Promise<ImportResult>;
  readonly logger: Logger;
}

export async function handleNotification(
  body: unknown,
  deps: NotificationDeps,
): Promise<{ status: number; result?: ImportResult }> {
  const parsed = parseNotification(body, deps.storage);
  if ('ignored' in parsed) {
    deps.logger.info('storage_import', `notification ignored: ${parsed.ignored}`, {
      status: 'ignored',
      reason: parsed.ignored,
    });
    return { status: 204 };
  }
  const obj = parsed.object;
  let result: ImportResult;
  try {
    result = await deps.import(obj);
  } catch (err) {
    deps.logger.error('internal_error', `import of ${obj.name} interrupted; the redelivery resumes it`, {
      object: obj.name,
      error: describeError(err),
    });
    return { status: 500 };
  }
  const fields = {
    status: result.status,
    object: obj.name,
    eventType: result.eventType,
    records: result.records,
    published: result.published,
    resumedAfter: result.resumedAfter,
    reason: result.reason,
  };
  if (result.status === 'failed' && result.failure) {
    deps.logger.error(
      'storage_import_failed',
      `${obj.name}: ${result.failure.detail} at byte offset ${result.failure.offset}`,
      {
        ...fields,
        detail: result.failure.detail,
        offset: result.failure.offset,
        recordsBefore: result.failure.recordsBefore,
      },
    );
    return { status: 204, result };
  }
  deps.logger.info('storage_import', `${obj.name}: ${result.status}`, fields);
  return { status: result.status === 'busy' ? 429 : 204, result };
}
