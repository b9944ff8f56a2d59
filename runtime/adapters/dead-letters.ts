/**
 * Publishes dead letters to the connector's dead-letter topic (kept for inspection and replay by its hold subscription).
 *
 * One Pub/Sub message per event:
 *  - data: the original event as JSON, or, for an undecodable message, its raw text (or bytes) as is;
 *  - attributes: `reason` (invalid | too_large | rejected), `detail` (what is wrong; never a secret, never personal data),
 *    `connector`, and when known `event_type` and `event_id`.
 *
 * `publish()` resolves only when Pub/Sub has acknowledged every message, and rejects if any publish failed (after the
 * others settled), so that the caller can nack the incoming message and let Pub/Sub redeliver it.
 *
 * The Pub/Sub client is loaded lazily (first publish) and created once per publisher, with batching enabled.
 */
import { stringifyDeep } from '../core/json-depth';
import type { DeadLetter } from '../core/types';
import type { DeadLetterPublishResult, DeadLetterSink } from '../ports';
import { LazyTopic } from './pubsub-topic';

/** Pub/Sub attribute values are limited to 1024 bytes. */
const MAX_ATTRIBUTE_BYTES = 1024;

export type { DeadLetterPublishResult, DeadLetterSink } from '../ports';

export class DeadLetterPublishError extends Error {
  constructor(
    readonly failed: number,
    readonly total: number,
    readonly firstError: unknown,
  ) {
    const e = firstError as { code?: unknown; message?: unknown } | undefined;
    super(
      `${failed} of ${total} dead letter(s) could not be published` +
        (e ? ` (${e.code !== undefined ? `code ${String(e.code)}: ` : ''}${String(e.message ?? e)})` : ''),
    );
    this.name = 'DeadLetterPublishError';
  }
}

export interface PubSubDeadLettersOptions {
  readonly projectId: string;
  /** Topic id (ConnectorResourceNames.deadLetterTopic) or full `projects/P/topics/T` name. */
  readonly topic: string;
  /** Connector name, written in the `connector` attribute. */
  readonly connector: string;
  /** Publisher batching; default up to 100 messages or 10 ms. */
  readonly batching?: { maxMessages?: number; maxMilliseconds?: number; maxBytes?: number };
}

function truncateBytes(text: string, max = MAX_ATTRIBUTE_BYTES): string {
  if (Buffer.byteLength(text) <= max) return text;
  let out = Buffer.from(text)
    .subarray(0, max - 3)
    .toString('utf8');
  // The cut may have split a multi-byte character (decoded as U+FFFD): drop it.
  out = out.replace(/\uFFFD$/, '');
  while (Buffer.byteLength(out) > max - 3) out = out.slice(0, -1);
  return `${out}...`;
}

/**
 * The message data of a dead letter: raw text/bytes as is, anything else as JSON, whatever its depth (never
 * `[object Object]`, never a throw that would fail the whole message). A value no JSON holds (a circular structure:
 * nothing parsed from input is one) is said so in JSON.
 */
export function deadLetterData(raw: unknown): Buffer {
  if (typeof raw === 'string') return Buffer.from(raw, 'utf8');
  if (raw instanceof Uint8Array) return Buffer.from(raw);
  if (raw === undefined) return Buffer.alloc(0);
  try {
    return Buffer.from(JSON.stringify(raw) ?? '', 'utf8');
  } catch {
    try {
      return Buffer.from(stringifyDeep(raw), 'utf8');
    } catch (err) {
      return Buffer.from(JSON.stringify({ unserializable: (err as Error).message }), 'utf8');
    }
  }
}

/** The message attributes of a dead letter (empty and unknown values left out; each within Pub/Sub's limit). */
export function deadLetterAttributes(letter: DeadLetter, connector: string): Record<string, string> {
  const attributes: Record<string, string> = {
    reason: letter.reason,
    detail: truncateBytes(letter.detail || letter.reason),
    connector,
  };
  if (letter.eventType) attributes.event_type = truncateBytes(letter.eventType);
  if (letter.id) attributes.event_id = truncateBytes(letter.id);
  return attributes;
}

export class PubSubDeadLetters implements DeadLetterSink {
  private readonly topic: LazyTopic;

  constructor(private readonly opts: PubSubDeadLettersOptions) {
    this.topic = new LazyTopic({
      projectId: opts.projectId,
      topic: opts.topic,
      batching: { maxMessages: 100, maxMilliseconds: 10, ...opts.batching },
    });
  }

  async publish(letters: readonly DeadLetter[]): Promise<DeadLetterPublishResult> {
    const byReason: Record<string, number> = {};
    for (const l of letters) byReason[l.reason] = (byReason[l.reason] ?? 0) + 1;
    if (letters.length === 0) return { published: 0, messageIds: [], byReason };
    const topic = await this.topic.get();
    const settled = await Promise.allSettled(
      letters.map((l) =>
        topic.publishMessage({ data: deadLetterData(l.raw), attributes: deadLetterAttributes(l, this.opts.connector) }),
      ),
    );
    const failed = settled.filter((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed.length) throw new DeadLetterPublishError(failed.length, letters.length, failed[0]!.reason);
    return {
      published: letters.length,
      messageIds: settled.map((s) => (s as PromiseFulfilledResult<string>).value),
      byReason,
    };
  }

  close(): Promise<void> {
    return this.topic.close();
  }
}
