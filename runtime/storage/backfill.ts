/**
 * A remote backfill's messages (`currents import --remote`), with no I/O but the progress lookup the caller passes in.
 *
 * The CLI hands each file of the period to the deployed backfill importer as a message shaped like a bucket
 * notification (the same attributes, so that the importer's one parser reads both), published on the connector's
 * backfill-files topic, plus two attributes of its own: `currentsBackfill` (the run's id, for the logs) and, with
 * `--reimport`, `reimportAfter` (the run's start, ms since the epoch). A file finished after that instant was imported
 * since the run began (by this run, before a redelivery or a resume, or live): it is not imported again, so that a
 * redelivered or re-sent message of a reimport never imports a file twice.
 */
import { isObject } from '../core/decode';
import type { ObjectRef } from './import-object';
import { notificationBody } from './notification';

export const BACKFILL_ATTRIBUTES = { run: 'currentsBackfill', reimportAfter: 'reimportAfter' } as const;

export interface BackfillMessage {
  readonly data: Buffer;
  readonly attributes: Record<string, string>;
}

/** The message that hands `obj` to the backfill importer. */
export function backfillMessage(obj: ObjectRef, run: { id: string; reimportAfter?: number }): BackfillMessage {
  const { attributes, data } = notificationBody(obj).message;
  return {
    data: Buffer.from(data, 'base64'),
    attributes: {
      ...attributes,
      [BACKFILL_ATTRIBUTES.run]: run.id,
      ...(run.reimportAfter !== undefined ? { [BACKFILL_ATTRIBUTES.reimportAfter]: String(run.reimportAfter) } : {}),
    },
  };
}

/** The push body's `reimportAfter` (undefined: not a reimport, or not a number). */
export function reimportAfter(body: unknown): number | undefined {
  const message = isObject(body) && isObject(body.message) ? body.message : undefined;
  const attributes = message && isObject(message.attributes) ? message.attributes : undefined;
  const raw = attributes?.[BACKFILL_ATTRIBUTES.reimportAfter];
  const n = typeof raw === 'string' && /^\d+$/.test(raw) ? Number(raw) : undefined;
  return n !== undefined && Number.isSafeInteger(n) ? n : undefined;
}

/** What the progress store holds of a file, as far as a reimport asks. */
export interface FinishedRecord {
  readonly status: string;
  readonly generation: string | null;
  readonly finishedAt?: number;
}

/** Whether a reimport imports `obj` again: not when it was finished (done or skipped) at or after `after`. */
export function importAgain(
  obj: Pick<ObjectRef, 'generation'>,
  record: FinishedRecord | undefined,
  after: number | undefined,
): boolean {
  if (after === undefined) return false;
  if (!record || (record.status !== 'done' && record.status !== 'skipped')) return true;
  const sameFile = obj.generation === undefined || record.generation === obj.generation;
  return !(sameFile && (record.finishedAt ?? 0) >= after);
}
