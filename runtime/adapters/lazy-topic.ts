/**
 * A Pub/Sub topic handle whose client library is loaded and whose client is created on first use (so that importing
 * an adapter stays cheap for the function's and the receiver's cold start), with batching settings, and closed once.
 */
export interface TopicLike {
  publishMessage(message: { data: Buffer; attributes: Record<string, string> }): Promise<string>;
}

export interface PublisherBatching {
  maxMessages?: number;
  maxMilliseconds?: number;
  maxBytes?: number;
}

export class LazyTopic {
  private topic?: Promise<TopicLike>;
  private client?: { close(): Promise<void> };

  constructor(private readonly opts: { projectId: string; topic: string; batching: PublisherBatching }) {}

  get(): Promise<TopicLike> {
    this.topic ??= import('@google-cloud/pubsub').then(({ PubSub }) => {
      const pubsub = new PubSub({ projectId: this.opts.projectId });
      this.client = pubsub;
      return pubsub.topic(this.opts.topic, { batching: this.opts.batching });
    });
    return this.topic;
  }

  async close(): Promise<void> {
    if (!this.topic) return;
    await this.topic.catch(() => undefined);
    await this.client?.close();
    this.topic = undefined;
    this.client = undefined;
  }
}
