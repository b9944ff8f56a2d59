/**
 * A Cloud Storage notification as the importer receives it (a Pub/Sub push body), with no I/O. The bucket notification
 * publishes one message per finished object with the attributes `eventType` (`OBJECT_FINALIZE` for a new object or a
 * new generation), `bucketId`, `objectId` and `objectGeneration`; the JSON payload (object metadata) carries `size`.
 * Only finished `.avro` objects under the connector's prefix are imported; every other message is acknowledged with the
 * reason it was ignored (a redelivered notification of a finished file is recognised later, by its progress record).
 */
import { isObject } from '../core/decode';
import type { ObjectRef } from './import-object';

export type NotificationResult = { object: ObjectRef } | { ignored: string };

export function parseNotification(body: unknown, storage: { bucket: string; prefix: string }): NotificationResult {
  const message = isObject(body) && isObject(body.message) ? body.message : undefined;
  const attributes = message && isObject(message.attributes) ? message.attributes : undefined;
  if (!attributes) return { ignored: 'not a Pub/Sub push body with message attributes' };
  const { eventType, bucketId, objectId, objectGeneration } = attributes;
  if (eventType !== 'OBJECT_FINALIZE') return { ignored: `notification ${String(eventType)} is not OBJECT_FINALIZE` };
  if (typeof bucketId !== 'string' || typeof objectId !== 'string') {
    return { ignored: 'notification without bucketId or objectId' };
  }
  if (bucketId !== storage.bucket) return { ignored: `bucket ${bucketId} is not the connector's (${storage.bucket})` };
  const prefix = storage.prefix ? `${storage.prefix}/` : '';
  if (!objectId.startsWith(prefix)) return { ignored: `object is not under the prefix '${prefix}'` };
  if (!objectId.endsWith('.avro')) return { ignored: 'object is not an .avro file' };
  let size: number | undefined;
  if (typeof message!.data === 'string' && message!.data) {
    try {
      const meta = JSON.parse(Buffer.from(message!.data, 'base64').toString('utf8')) as { size?: unknown };
      if (meta.size !== undefined) size = Number(meta.size);
    } catch {
      /* the payload is optional (payloadFormat NONE) */
    }
  }
  return {
    object: {
      bucket: bucketId,
      name: objectId,
      ...(typeof objectGeneration === 'string' ? { generation: objectGeneration } : {}),
      ...(size !== undefined && Number.isFinite(size) ? { size } : {}),
    },
  };
}

/** The push body a bucket notification delivers (the local run and tests build it the same way). */
export function notificationBody(obj: ObjectRef): {
  message: { attributes: Record<string, string>; data: string; messageId: string };
} {
  return {
    message: {
      attributes: {
        eventType: 'OBJECT_FINALIZE',
        payloadFormat: 'JSON_API_V1',
        bucketId: obj.bucket,
        objectId: obj.name,
        ...(obj.generation ? { objectGeneration: obj.generation } : {}),
      },
      data: Buffer.from(JSON.stringify({ name: obj.name, bucket: obj.bucket, size: String(obj.size ?? 0) })).toString(
        'base64',
      ),
      messageId: `${obj.bucket}/${obj.name}#${obj.generation ?? ''}`,
    },
  };
}
