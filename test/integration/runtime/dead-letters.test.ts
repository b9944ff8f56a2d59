/**
 * Dead-letter publishing (runtime/adapters/dead-letters.ts) on the real Pub/Sub emulator: each test creates its own topic
 * and pull subscription, publishes, and reads the messages back.
 */
import { PubSub, v1 } from '@google-cloud/pubsub';
import { credentials } from '@grpc/grpc-js';
import { randomUUID } from 'node:crypto';
import type { DeadLetter } from '../../../runtime/core/types';
import {
  deadLetterAttributes,
  deadLetterData,
  DeadLetterPublishError,
  PubSubDeadLetters,
} from '../../../runtime/adapters/dead-letters';

const projectId = process.env.GOOGLE_CLOUD_PROJECT!;
let pubsub: PubSub;
let subscriber: v1.SubscriberClient;

beforeAll(() => {
  pubsub = new PubSub({ projectId });
  const [servicePath, port] = process.env.PUBSUB_EMULATOR_HOST!.split(':');
  subscriber = new v1.SubscriberClient({
    servicePath,
    port: Number(port),
    sslCreds: credentials.createInsecure(),
  });
});
afterAll(async () => {
  await subscriber.close();
  await pubsub.close();
});

async function topicWithSubscription() {
  const id = randomUUID().slice(0, 8);
  const [topic] = await pubsub.createTopic(`currents-dl-${id}-dead-letter`);
  const [sub] = await topic.createSubscription(`currents-dl-${id}-dead-letter-hold`);
  return { topicId: `currents-dl-${id}-dead-letter`, subscription: sub.name };
}

/** Pulls until `count` messages have arrived (the emulator may return them over several pulls). */
async function pullAll(subscription: string, count: number) {
  const out: { data: string; attributes: Record<string, string> }[] = [];
  for (let i = 0; i < 50 && out.length < count; i++) {
    const [res] = await subscriber.pull({ subscription, maxMessages: 100 });
    const received = res.receivedMessages ?? [];
    for (const m of received) {
      out.push({
        data: Buffer.from(m.message!.data as Uint8Array).toString('utf8'),
        attributes: { ...(m.message!.attributes ?? {}) },
      });
    }
    if (received.length) await subscriber.acknowledge({ subscription, ackIds: received.map((m) => m.ackId!) });
  }
  return out;
}

const EVENT = {
  id: 'a1b2c3',
  event_type: 'users.messages.email.Send',
  time: 1767225600,
  user: { external_user_id: 'u-1' },
  properties: { campaign_id: 'c-1' },
};

describe('PubSubDeadLetters', () => {
  it('publishes one message per event with reason, detail, connector, event_type, event_id and the original event', async () => {
    const { topicId, subscription } = await topicWithSubscription();
    const sink = new PubSubDeadLetters({ projectId, topic: topicId, connector: 'prod-eu' });
    const letters: DeadLetter[] = [
      {
        reason: 'invalid',
        detail: "field 'time' is not a number",
        eventType: EVENT.event_type,
        id: EVENT.id,
        raw: EVENT,
      },
      { reason: 'invalid', detail: 'line 3 of the message body is not JSON', raw: '{"not json' },
      {
        reason: 'rejected',
        detail: 'Segment answered 400 for this event',
        eventType: 'users.behaviors.CustomEvent',
        id: 'x9',
        raw: { id: 'x9' },
      },
    ];
    const result = await sink.publish(letters);
    expect(result.published).toBe(3);
    expect(result.messageIds).toHaveLength(3);
    expect(result.byReason).toEqual({ invalid: 2, rejected: 1 });

    const got = await pullAll(subscription, 3);
    expect(got).toHaveLength(3);
    const byDetail = new Map(got.map((m) => [m.attributes.detail, m]));
    expect(byDetail.get("field 'time' is not a number")).toEqual({
      data: JSON.stringify(EVENT),
      attributes: {
        reason: 'invalid',
        detail: "field 'time' is not a number",
        connector: 'prod-eu',
        event_type: 'users.messages.email.Send',
        event_id: 'a1b2c3',
      },
    });
    // Undecodable text is kept as is, and unknown type/id are left out.
    expect(byDetail.get('line 3 of the message body is not JSON')).toEqual({
      data: '{"not json',
      attributes: { reason: 'invalid', detail: 'line 3 of the message body is not JSON', connector: 'prod-eu' },
    });
    expect(byDetail.get('Segment answered 400 for this event')!.attributes).toMatchObject({
      reason: 'rejected',
      event_type: 'users.behaviors.CustomEvent',
      event_id: 'x9',
    });
    await sink.close();
  });

  it('publishes many letters through one batching client and every one arrives', async () => {
    const { topicId, subscription } = await topicWithSubscription();
    const sink = new PubSubDeadLetters({ projectId, topic: topicId, connector: 'c' });
    const letters: DeadLetter[] = Array.from({ length: 250 }, (_, i) => ({
      reason: 'too_large',
      detail: 'event over 32 KB',
      id: `e-${i}`,
      raw: { id: `e-${i}` },
    }));
    await sink.publish(letters.slice(0, 125));
    await sink.publish(letters.slice(125));
    const got = await pullAll(subscription, 250);
    expect(new Set(got.map((m) => m.attributes.event_id)).size).toBe(250);
    await sink.close();
  });

  it('rejects when the topic does not exist (so the caller nacks), and publishing nothing is a no-op', async () => {
    const sink = new PubSubDeadLetters({ projectId, topic: `missing-${randomUUID().slice(0, 8)}`, connector: 'c' });
    await expect(sink.publish([])).resolves.toEqual({ published: 0, messageIds: [], byReason: {} });
    const err = await sink.publish([{ reason: 'invalid', detail: 'x', raw: {} }]).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(DeadLetterPublishError);
    expect((err as DeadLetterPublishError).failed).toBe(1);
    expect((err as Error).message).toMatch(/1 of 1 dead letter\(s\) could not be published/);
    await sink.close();
  });
});

describe('message shape', () => {
  it('keeps attribute values within 1024 bytes, without splitting a character', () => {
    const a = deadLetterAttributes({ reason: 'invalid', detail: 'é'.repeat(2000), raw: null }, 'c');
    expect(Buffer.byteLength(a.detail!)).toBeLessThanOrEqual(1024);
    expect(a.detail!.endsWith('é...')).toBe(true);
    expect(deadLetterAttributes({ reason: 'invalid', detail: '', raw: null }, 'c').detail).toBe('invalid');
  });

  it('data is the raw text or bytes as is, anything else as JSON', () => {
    expect(deadLetterData('\u00ff not json').toString('utf8')).toBe('\u00ff not json');
    expect(deadLetterData(new Uint8Array([0xff, 0x00]))).toEqual(Buffer.from([0xff, 0x00]));
    expect(deadLetterData({ a: [1] }).toString()).toBe('{"a":[1]}');
    expect(deadLetterData(undefined).length).toBe(0);
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    expect(JSON.parse(deadLetterData(circular).toString())).toEqual({
      unserializable: 'Converting circular structure to JSON',
    });
  });
});
