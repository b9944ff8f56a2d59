/**
 * One Pub/Sub topic to publish to, with its client created on first use (the client library is loaded then, so that a
 * cold start does not pay for it) and shared by every publish, so that its batching groups concurrent messages.
 */
import type { PublishOptions } from '@google-cloud/pubsub';

export interface TopicLike {
  publishMessage(message: { data: Buffer; attributes: Record<string, string> }): Promise<string>;
}

export class LazyTopic {
  private topic?: Promise<TopicLike>;
  private client?: { close(): Promise<void> };

  constructor(
    private readonly opts: {
      projectId: string;
      topic: string;
      batching: PublishOptions['batching'];
      /** Call options of each publish (`timeout` also bounds the client's retries of it). */
      gaxOpts?: PublishOptions['gaxOpts'];
    },
  ) {}

  /** The topic, its client created on the first call. */
  get(): Promise<TopicLike> {
    this.topic ??= import('@google-cloud/pubsub').then(({ PubSub }) => {
      const pubsub = new PubSub({ projectId: this.opts.projectId });
      this.client = pubsub;
      return pubsub.topic(this.opts.topic, {
        batching: this.opts.batching,
        ...(this.opts.gaxOpts ? { gaxOpts: this.opts.gaxOpts } : {}),
      });
    });
    return this.topic;
  }

  /** Closes the client, if one was created (a later `get` creates a new one). */
  async close(): Promise<void> {
    if (!this.topic) return;
    await this.topic.catch(() => undefined);
    await this.client?.close();
    this.topic = undefined;
    this.client = undefined;
  }
}
