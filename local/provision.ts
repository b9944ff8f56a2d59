/**
 * Creates a connector's Pub/Sub resources on the emulator exactly as the infrastructure declares them: the same names
 * (shared/names.ts) and the same subscription policy (shared/policy.ts), with the push subscription pointing at the
 * function served locally. Firestore needs nothing: the emulator creates a named database on first use.
 */
import type { PubSub } from '@google-cloud/pubsub';
import type { Connector } from '../shared/connector';
import { resourceNames, type ConnectorResourceNames } from '../shared/names';
import { connectorPolicy } from '../shared/policy';

export interface ProvisionOptions {
  /** Where the push subscription delivers (the locally served function). */
  pushEndpoint: string;
  /** Overrides for tests that cannot wait for production backoffs. */
  minimumBackoffSeconds?: number;
  maximumBackoffSeconds?: number;
  maxDeliveryAttempts?: number;
  ackDeadlineSeconds?: number;
}

export async function ensure<T>(create: () => Promise<T>): Promise<void> {
  try {
    await create();
  } catch (err) {
    if ((err as { code?: number }).code !== 6 /* ALREADY_EXISTS */) throw err;
  }
}

/** Creates (or reuses) the connector's topics and subscriptions; returns their names. */
export async function provisionConnector(
  pubsub: PubSub,
  connector: Connector,
  options: ProvisionOptions,
): Promise<ConnectorResourceNames> {
  const names = resourceNames(connector.name);
  const policy = connectorPolicy(connector);
  await ensure(() => pubsub.createTopic(names.deadLetterTopic));
  await ensure(() =>
    pubsub.topic(names.deadLetterTopic).createSubscription(names.deadLetterSubscription, {
      ackDeadlineSeconds: 60,
      messageRetentionDuration: { seconds: policy.deadLetterRetentionSeconds },
      retainAckedMessages: false,
    }),
  );
  await provisionPush(pubsub, connector, { topic: names.ingestTopic, subscription: names.pushSubscription }, options);
  return names;
}

/**
 * A topic (created if missing) pushed to `options.pushEndpoint` under the connector's push policy, dead letters into
 * its dead-letter topic: the ingest topic's push, or the backfill topic's (local/backfill-hosts.ts).
 */
export async function provisionPush(
  pubsub: PubSub,
  connector: Connector,
  on: { topic: string; subscription: string },
  options: ProvisionOptions,
): Promise<void> {
  const names = resourceNames(connector.name);
  const policy = connectorPolicy(connector);
  await ensure(() => pubsub.createTopic(on.topic));
  await ensure(() =>
    pubsub.topic(on.topic).createSubscription(on.subscription, {
      pushConfig: { pushEndpoint: options.pushEndpoint },
      ackDeadlineSeconds: options.ackDeadlineSeconds ?? policy.ackDeadlineSeconds,
      deadLetterPolicy: {
        deadLetterTopic: `projects/${pubsub.projectId}/topics/${names.deadLetterTopic}`,
        maxDeliveryAttempts: options.maxDeliveryAttempts ?? policy.maxDeliveryAttempts,
      },
      retryPolicy: {
        minimumBackoff: { seconds: options.minimumBackoffSeconds ?? policy.minimumBackoffSeconds },
        maximumBackoff: { seconds: options.maximumBackoffSeconds ?? policy.maximumBackoffSeconds },
      },
    }),
  );
}
