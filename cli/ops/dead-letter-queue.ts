/**
 * Reading, releasing and replaying a connector's dead letters, kept in the dead-letter hold subscription. Works against
 * the emulator (PUBSUB_EMULATOR_HOST) and a real project (Application Default Credentials) alike.
 *
 * Two kinds of dead letter arrive there:
 * - one event the function could not send (reason `invalid`, `too_large` or `rejected`, with `detail`, `event_type`,
 *   `event_id` and `connector` attributes; data = the original event);
 * - a whole message Pub/Sub moved there after the subscription's maximum delivery attempts (attributes
 *   `CloudPubSubDeadLetterSource*`; data = the original message): reason `delivery_attempts_exhausted`.
 * Replaying republishes the data to the ingest topic (messageIds inside are unchanged, so Segment deduplicates), and
 * acknowledges each dead letter only after its republish succeeded.
 */
import type { v1 } from '@google-cloud/pubsub';

type SubscriberClient = v1.SubscriberClient;
type PublisherClient = v1.PublisherClient;

export interface DeadLetterView {
  readonly ackId: string;
  /** The dead letter's own Pub/Sub message id. */
  readonly messageId: string;
  readonly reason: string;
  readonly detail: string;
  readonly eventType?: string;
  readonly eventId?: string;
  readonly publishTime?: string;
  readonly attributes: Record<string, string>;
  readonly data: Buffer;
}

export interface DeadLetterFilter {
  reason?: string;
  type?: string;
  /** Matches the event id or the dead letter's message id. */
  id?: string;
}

/**
 * Client options that point the low-level clients at the emulator when PUBSUB_EMULATOR_HOST is set. `projectId`
 * defaults to GOOGLE_CLOUD_PROJECT (resource names passed to the calls are full paths, so it matters little).
 */
export async function pubsubClientOptions(
  projectId?: string,
): Promise<NonNullable<ConstructorParameters<typeof v1.SubscriberClient>[0]>> {
  const host = process.env.PUBSUB_EMULATOR_HOST;
  if (!host) return {};
  const { credentials } = await import('@grpc/grpc-js');
  const [servicePath, port] = host.split(':');
  return {
    servicePath,
    port: Number(port),
    sslCreds: credentials.createInsecure(),
    projectId: projectId ?? process.env.GOOGLE_CLOUD_PROJECT,
  };
}

export async function createClients(
  projectId?: string,
): Promise<{ subscriber: SubscriberClient; publisher: PublisherClient }> {
  const { v1 } = await import('@google-cloud/pubsub');
  const options = await pubsubClientOptions(projectId);
  return { subscriber: new v1.SubscriberClient(options), publisher: new v1.PublisherClient(options) };
}

function view(received: {
  ackId?: string | null;
  message?: {
    messageId?: string | null;
    data?: Uint8Array | string | null;
    attributes?: Record<string, string> | null;
    publishTime?: { seconds?: number | string | Long | null; nanos?: number | null } | null;
  } | null;
}): DeadLetterView {
  const m = received.message ?? {};
  const attributes = { ...(m.attributes ?? {}) };
  const exhausted = Object.keys(attributes).some((k) => k.startsWith('CloudPubSubDeadLetterSource'));
  const seconds = m.publishTime?.seconds;
  return {
    ackId: received.ackId ?? '',
    messageId: m.messageId ?? '',
    reason: attributes.reason ?? (exhausted ? 'delivery_attempts_exhausted' : 'unknown'),
    detail:
      attributes.detail ??
      (exhausted
        ? `not accepted after ${attributes.CloudPubSubDeadLetterSourceDeliveryCount ?? 'max'} delivery attempts`
        : ''),
    eventType: attributes.event_type,
    eventId: attributes.event_id,
    publishTime:
      seconds !== undefined && seconds !== null
        ? new Date(Number(String(seconds)) * 1000 + Math.floor((m.publishTime?.nanos ?? 0) / 1e6)).toISOString()
        : undefined,
    attributes,
    data: Buffer.from(m.data ?? ''),
  };
}

interface Long {
  toString(): string;
}

export function matches(d: DeadLetterView, f: DeadLetterFilter): boolean {
  return (
    (f.reason === undefined || d.reason === f.reason) &&
    (f.type === undefined || d.eventType === f.type) &&
    (f.id === undefined || d.eventId === f.id || d.messageId === f.id)
  );
}

/**
 * Leases every dead letter currently waiting (up to `max`), without acknowledging any. The caller must `release` or
 * `acknowledge` them. Leases last `leaseSeconds`.
 */
export async function leaseAll(
  subscriber: SubscriberClient,
  subscription: string,
  options: { max?: number; leaseSeconds?: number } = {},
): Promise<DeadLetterView[]> {
  const max = options.max ?? 10_000;
  // By message id: a letter whose lease ran out while pulling comes again, with a new ackId (the one to keep).
  const out = new Map<string, DeadLetterView>();
  let emptyPulls = 0;
  while (out.size < max && emptyPulls < 2) {
    const [res] = await subscriber.pull(
      { subscription, maxMessages: Math.min(1000, max - out.size), returnImmediately: true },
      { timeout: 10_000 },
    );
    const got = res.receivedMessages ?? [];
    if (got.length === 0) {
      emptyPulls++;
      continue;
    }
    emptyPulls = 0;
    const views = got.map(view);
    if (options.leaseSeconds) {
      await subscriber.modifyAckDeadline({
        subscription,
        ackIds: views.map((v) => v.ackId),
        ackDeadlineSeconds: options.leaseSeconds,
      });
    }
    let fresh = 0;
    for (const v of views) {
      if (!out.has(v.messageId)) fresh++;
      out.set(v.messageId, v);
    }
    // Only redeliveries: everything waiting has been seen.
    if (fresh === 0) break;
  }
  return [...out.values()];
}

/**
 * Every dead letter waiting, read without consuming any (Pub/Sub has no peek: each is leased for `leaseSeconds`, 10 by
 * default, and released at once). While leased, nobody else sees them.
 */
export async function peekAll(
  subscriber: SubscriberClient,
  subscription: string,
  options: { max?: number; leaseSeconds?: number } = {},
): Promise<DeadLetterView[]> {
  const letters = await leaseAll(subscriber, subscription, { leaseSeconds: 10, ...options });
  await release(subscriber, subscription, letters);
  return letters;
}

/** Counts by reason. */
export function countByReason(letters: readonly DeadLetterView[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const l of letters) out[l.reason] = (out[l.reason] ?? 0) + 1;
  return out;
}

export async function release(subscriber: SubscriberClient, subscription: string, letters: DeadLetterView[]) {
  for (let i = 0; i < letters.length; i += 1000) {
    const ackIds = letters.slice(i, i + 1000).map((l) => l.ackId);
    if (ackIds.length) await subscriber.modifyAckDeadline({ subscription, ackIds, ackDeadlineSeconds: 0 });
  }
}

export async function acknowledge(subscriber: SubscriberClient, subscription: string, letters: DeadLetterView[]) {
  for (let i = 0; i < letters.length; i += 1000) {
    const ackIds = letters.slice(i, i + 1000).map((l) => l.ackId);
    if (ackIds.length) await subscriber.acknowledge({ subscription, ackIds });
  }
}

/** The attributes a replayed message carries: the original ones, minus Pub/Sub's and the dead-letter bookkeeping. */
export function replayAttributes(d: DeadLetterView): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(d.attributes)) {
    if (k.startsWith('CloudPubSubDeadLetterSource') || ['reason', 'detail', 'connector', 'event_id'].includes(k))
      continue;
    out[k] = v;
  }
  out.replayed_from = d.messageId;
  return out;
}

export interface ReplayProgress {
  done: number;
  total: number;
}

/**
 * Republishes each dead letter to `topic`, acknowledging it only after its publish succeeded. Returns what was
 * replayed and what failed (failed ones are released for a later attempt).
 */
export async function replay(
  clients: { subscriber: SubscriberClient; publisher: PublisherClient },
  subscription: string,
  topic: string,
  letters: DeadLetterView[],
  onProgress?: (p: ReplayProgress) => void,
): Promise<{ replayed: DeadLetterView[]; failed: { letter: DeadLetterView; error: string }[] }> {
  const replayed: DeadLetterView[] = [];
  const failed: { letter: DeadLetterView; error: string }[] = [];
  const chunk = 100;
  for (let i = 0; i < letters.length; i += chunk) {
    const part = letters.slice(i, i + chunk);
    const results = await Promise.allSettled(
      part.map((l) =>
        clients.publisher.publish({ topic, messages: [{ data: l.data, attributes: replayAttributes(l) }] }),
      ),
    );
    const ok: DeadLetterView[] = [];
    results.forEach((r, j) => {
      if (r.status === 'fulfilled') ok.push(part[j]!);
      else failed.push({ letter: part[j]!, error: (r.reason as Error).message });
    });
    await acknowledge(clients.subscriber, subscription, ok);
    replayed.push(...ok);
    onProgress?.({ done: Math.min(i + chunk, letters.length), total: letters.length });
  }
  await release(
    clients.subscriber,
    subscription,
    failed.map((f) => f.letter),
  );
  return { replayed, failed };
}
