/**
 * Smoke tests: the jest global setup started the real emulators; these talk to them with the real client libraries.
 */
import { Firestore } from '@google-cloud/firestore';
import { PubSub } from '@google-cloud/pubsub';
import { randomUUID } from 'node:crypto';

describe('emulator harness', () => {
  it('exports the emulator hosts and a project id to the tests', () => {
    expect(process.env.PUBSUB_EMULATOR_HOST).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(process.env.FIRESTORE_EMULATOR_HOST).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(process.env.GOOGLE_CLOUD_PROJECT).toBe('currents-test');
  });

  it('publishes to and pulls from a real Pub/Sub emulator topic', async () => {
    const pubsub = new PubSub({ projectId: process.env.GOOGLE_CLOUD_PROJECT });
    const id = randomUUID().slice(0, 8);
    const [topic] = await pubsub.createTopic(`smoke-${id}`);
    const [sub] = await topic.createSubscription(`smoke-${id}-sub`);
    await topic.publishMessage({ data: Buffer.from('{"hello":"emulator"}'), attributes: { kind: 'smoke' } });
    const client = new (await import('@google-cloud/pubsub')).v1.SubscriberClient({
      servicePath: process.env.PUBSUB_EMULATOR_HOST!.split(':')[0],
      port: Number(process.env.PUBSUB_EMULATOR_HOST!.split(':')[1]),
      sslCreds: (await import('@grpc/grpc-js')).credentials.createInsecure(),
    });
    let received: { data?: Uint8Array | string | null; attributes?: Record<string, string> | null } | undefined;
    for (let i = 0; i < 20 && !received; i++) {
      const [res] = await client.pull({ subscription: sub.name, maxMessages: 1 });
      received = res.receivedMessages?.[0]?.message ?? undefined;
      if (res.receivedMessages?.length) {
        await client.acknowledge({ subscription: sub.name, ackIds: res.receivedMessages.map((m) => m.ackId!) });
      }
    }
    expect(Buffer.from(received!.data as Uint8Array).toString()).toBe('{"hello":"emulator"}');
    expect(received!.attributes).toEqual({ kind: 'smoke' });
    await client.close();
    await sub.delete();
    await topic.delete();
    await pubsub.close();
  });

  it('writes and reads a document in a named Firestore database, kept apart from another database', async () => {
    const projectId = process.env.GOOGLE_CLOUD_PROJECT!;
    const a = new Firestore({ projectId, databaseId: 'currents-smoke-a' });
    const b = new Firestore({ projectId, databaseId: 'currents-smoke-b' });
    const path = `smoke/${randomUUID()}`;
    await a.doc(path).set({ written: 'a', n: 1 });
    const inA = await a.doc(path).get();
    const inB = await b.doc(path).get();
    expect(inA.data()).toEqual({ written: 'a', n: 1 });
    expect(inB.exists).toBe(false);
    await Promise.all([a.terminate(), b.terminate()]);
  });
});
