/**
 * Parses a Pub/Sub push request body (the push envelope). Pure: no I/O.
 *
 * ```json
 * {"message": {"data": "<base64>", "attributes": {...}, "messageId": "1", "publishTime": "..."},
 *  "subscription": "projects/P/subscriptions/S", "deliveryAttempt": 3}
 * ```
 */
import { isObject } from './decode';

export interface PushMessage {
  /** Decoded message body (may be empty). */
  readonly data: Buffer;
  readonly attributes: Record<string, string>;
  readonly messageId: string;
  readonly publishTime?: string;
  readonly subscription?: string;
  /** Present when the subscription has a dead-letter policy (not sent by every emulator version). */
  readonly deliveryAttempt?: number;
}

export type PushParseResult = { ok: true; message: PushMessage } | { ok: false; error: string };

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** Accepts the parsed JSON body (or its text); never throws; errors name what is wrong. */
export function parsePushEnvelope(body: unknown): PushParseResult {
  let value = body;
  if (typeof body === 'string' || Buffer.isBuffer(body)) {
    const text = body.toString();
    if (!text.trim()) return { ok: false, error: 'empty request body: expected a Pub/Sub push envelope' };
    try {
      value = JSON.parse(text);
    } catch {
      return { ok: false, error: 'request body is not JSON: expected a Pub/Sub push envelope' };
    }
  }
  if (!isObject(value)) return { ok: false, error: 'push envelope must be a JSON object with a `message` field' };
  const message = value.message;
  if (!isObject(message)) return { ok: false, error: 'push envelope has no `message` object' };
  const messageId = message.messageId ?? message.message_id;
  if (typeof messageId !== 'string' || !messageId) {
    return { ok: false, error: 'push envelope `message.messageId` is missing or not a string' };
  }
  const rawData = message.data ?? '';
  if (typeof rawData !== 'string') return { ok: false, error: '`message.data` must be a base64 string' };
  const compact = rawData.replace(/\s+/g, '');
  if (!BASE64.test(compact) || compact.length % 4 === 1) {
    return { ok: false, error: '`message.data` is not valid base64' };
  }
  const attributes: Record<string, string> = {};
  if (message.attributes !== undefined && message.attributes !== null) {
    if (!isObject(message.attributes)) return { ok: false, error: '`message.attributes` must be an object' };
    for (const [k, v] of Object.entries(message.attributes)) {
      if (typeof v !== 'string') return { ok: false, error: `attribute '${k}' must be a string` };
      attributes[k] = v;
    }
  }
  const attempt = value.deliveryAttempt;
  return {
    ok: true,
    message: {
      data: Buffer.from(compact, 'base64'),
      attributes,
      messageId,
      publishTime: typeof message.publishTime === 'string' ? message.publishTime : undefined,
      subscription: typeof value.subscription === 'string' ? value.subscription : undefined,
      deliveryAttempt: typeof attempt === 'number' && Number.isInteger(attempt) ? attempt : undefined,
    },
  };
}

/** Builds a push envelope (for the local run, tests and benchmarks); `publishTime` when the caller has one (pure). */
export function pushEnvelope(
  data: Buffer | string,
  attributes: Record<string, string> = {},
  messageId = '1',
  publishTime?: string,
): Record<string, unknown> {
  return {
    message: {
      data: Buffer.from(data).toString('base64'),
      attributes,
      messageId,
      ...(publishTime === undefined ? {} : { publishTime }),
    },
    subscription: 'projects/local/subscriptions/local',
  };
}

/** Why a push could not be handled (the `reason` of its `internal_error` line and of its 503), by the step it failed. */
export const PUSH_FAILURE_REASONS = {
  translate: 'internal_error',
  state: 'state_unavailable',
  segment: 'internal_error',
  dead_letters: 'dead_letters_unavailable',
  park: 'parking_unavailable',
  trace: 'trace_unavailable',
} as const;
