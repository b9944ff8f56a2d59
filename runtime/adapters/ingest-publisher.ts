/**
 * Publishes one request's body to the connector's ingest topic and resolves only when Pub/Sub has acknowledged it, or
 * rejects when it failed or took longer than `timeoutMs` (the receiver then answers 503 and Braze re-sends). The
 * client's retries of the message are bounded by the same `timeoutMs`, so that its body is let go of shortly after. A
 * publish that timed out may still complete; the re-sent copy then reaches the function twice, and Segment deduplicates
 * the events by messageId.
 *
 * Concurrent requests share one client whose batching groups their messages into few publish calls (up to 100 messages
 * or 5 ms). The Pub/Sub client library is loaded on first publish, so that the receiver's cold start stays short.
 */
import { MAX_PUBLISH_TIMEOUT_MS } from '../../shared/policy';
import { LazyTopic } from './pubsub-topic';

export interface IngestPublisher {
  publish(data: Buffer, attributes: Record<string, string>): Promise<string>;
  close(): Promise<void>;
}

export class PublishTimeoutError extends Error {
  constructor(timeoutMs: number) {
    super(`Pub/Sub did not acknowledge the publish within ${timeoutMs} ms`);
    this.name = 'PublishTimeoutError';
  }
}

/** The publish timeout of the default receiver timeout (shared/policy.ts `receiverBudgets` derives it). */
export const DEFAULT_PUBLISH_TIMEOUT_MS = MAX_PUBLISH_TIMEOUT_MS;

/** Publisher batching shared by the receiver and its benchmark's floor, so that the two are compared like for like. */
export const RECEIVER_BATCHING = { maxMessages: 100, maxMilliseconds: 5, maxBytes: 9_000_000 } as const;

export class PubSubIngestPublisher implements IngestPublisher {
  private readonly topic: LazyTopic;

  constructor(private readonly opts: { projectId: string; topic: string; timeoutMs?: number }) {
    // The client's own retries are bounded by the same timeout (its default keeps retrying a message for 600 s): a
    // publish answered 503 lets go of its body soon after, so that a long Pub/Sub outage does not fill the memory.
    this.topic = new LazyTopic({
      projectId: opts.projectId,
      topic: opts.topic,
      batching: RECEIVER_BATCHING,
      gaxOpts: { timeout: opts.timeoutMs ?? DEFAULT_PUBLISH_TIMEOUT_MS },
    });
  }

  async publish(data: Buffer, attributes: Record<string, string>): Promise<string> {
    const timeoutMs = this.opts.timeoutMs ?? DEFAULT_PUBLISH_TIMEOUT_MS;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new PublishTimeoutError(timeoutMs)), timeoutMs);
    });
    try {
      const topic = await Promise.race([this.topic.get(), timeout]);
      return await Promise.race([topic.publishMessage({ data, attributes }), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  close(): Promise<void> {
    return this.topic.close();
  }
}
