/**
 * A connector's Pub/Sub: the ingest topic (the receiver and the storage import publish on it), the push subscription
 * delivering it to the function (OIDC, backoff, dead-letter policy), and the dead-letter topic with its retained pull
 * subscription (replay).
 */
import type { ITerraformDependable } from 'cdktf';
import { PubsubSubscription } from '@cdktf/provider-google/lib/pubsub-subscription';
import { PubsubTopic } from '@cdktf/provider-google/lib/pubsub-topic';
import type { ServiceAccount } from '@cdktf/provider-google/lib/service-account';
import { googleSeconds } from '../../shared/duration';
import { ackDeadlineFor } from '../../shared/policy';
import { type ConnectorContext, dependsOnAlso } from './props';

export interface ConnectorTopics {
  readonly ingestTopic: PubsubTopic;
  readonly deadLetterTopic: PubsubTopic;
  readonly deadLetterSubscription: PubsubSubscription;
}

export function buildTopics(ctx: ConnectorContext): ConnectorTopics {
  const { scope, project, names, labels, connector } = ctx;
  const ingestTopic = new PubsubTopic(scope, 'ingest-topic', {
    project,
    name: names.ingestTopic,
    labels: { ...labels, role: 'ingest' },
    ...ctx.dep('pubsub'),
  });
  const deadLetterTopic = new PubsubTopic(scope, 'dead-letter-topic', {
    project,
    name: names.deadLetterTopic,
    labels: { ...labels, role: 'dead-letter' },
    ...ctx.dep('pubsub'),
  });
  const deadLetterSubscription = new PubsubSubscription(scope, 'dead-letter-subscription', {
    project,
    name: names.deadLetterSubscription,
    topic: deadLetterTopic.id,
    labels: { ...labels, role: 'dead-letter' },
    messageRetentionDuration: googleSeconds(connector.retention),
    retainAckedMessages: true,
    ackDeadlineSeconds: 60,
    expirationPolicy: { ttl: '' }, // never expires, however long nobody pulls
    ...ctx.dep('pubsub'),
  });
  return { ingestTopic, deadLetterTopic, deadLetterSubscription };
}

/**
 * The ingest topic's push to the function at `url`, as `pushAccount` (OIDC); the ack deadline follows its timeout. It
 * is created `after` the grants its pushes need. With `variant`, another topic's push under the same policy (the
 * backfill's: its own topic, id and name).
 */
export function buildPushSubscription(
  ctx: ConnectorContext,
  topics: Pick<ConnectorTopics, 'ingestTopic' | 'deadLetterTopic'>,
  url: string,
  pushAccount: ServiceAccount,
  after: readonly ITerraformDependable[] = [],
  variant?: { readonly id: string; readonly name: string; readonly role: string },
): PubsubSubscription {
  const { project, names, labels, connector, props } = ctx;
  return new PubsubSubscription(ctx.scope, variant?.id ?? 'push-subscription', {
    project,
    name: variant?.name ?? names.pushSubscription,
    topic: topics.ingestTopic.id,
    labels: { ...labels, role: variant?.role ?? 'push' },
    ackDeadlineSeconds: ackDeadlineFor(props.timeoutSeconds),
    messageRetentionDuration: googleSeconds(connector.retention),
    expirationPolicy: { ttl: '' },
    retryPolicy: { minimumBackoff: props.retryBackoff.minimum, maximumBackoff: props.retryBackoff.maximum },
    deadLetterPolicy: {
      deadLetterTopic: topics.deadLetterTopic.id,
      maxDeliveryAttempts: connector.deadLetterMaxAttempts,
    },
    pushConfig: { pushEndpoint: url, oidcToken: { serviceAccountEmail: pushAccount.email, audience: url } },
    ...dependsOnAlso(ctx.dep('pubsub'), after),
  });
}
