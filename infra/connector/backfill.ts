/**
 * A backfill's own delivery path (a connector with `storage` only), so that live events keep their pace while a
 * backfill of billions of events runs:
 *
 *   backfill importer ─publish─▶ backfill topic ─push (OIDC, same policy as the live push)─▶ backfill function ─▶ Segment
 *
 * The backfill function is the connector's function again (same archive, account, secret, database and dead-letter
 * topic), deployed under its own name with `backfill.maxInstances` instances: the live push never waits behind a
 * backfill's messages, and a backfill's Segment request rate is capped by that setting (docs/sizing.md).
 */
import type { ITerraformDependable } from 'cdktf';
import { PubsubSubscriptionIamMember } from '@cdktf/provider-google/lib/pubsub-subscription-iam-member';
import type { Cloudfunctions2Function } from '@cdktf/provider-google/lib/cloudfunctions2-function';
import type { PubsubSubscription } from '@cdktf/provider-google/lib/pubsub-subscription';
import { PubsubTopic } from '@cdktf/provider-google/lib/pubsub-topic';
import { storageImportNames } from '../../shared/names';
import { buildFunction } from './function';
import { runInvoker, type FunctionServiceAccounts } from './identity';
import { buildPushSubscription, type ConnectorTopics } from './messaging';
import type { ConnectorContext } from './props';

export interface BackfillDelivery {
  readonly topic: PubsubTopic;
  readonly function: Cloudfunctions2Function;
  readonly pushSubscription: PubsubSubscription;
}

export function buildBackfillDelivery(
  ctx: ConnectorContext,
  accounts: FunctionServiceAccounts,
  topics: Pick<ConnectorTopics, 'deadLetterTopic'>,
  /** The live push's caller grants (the Pub/Sub service agent's token creator on the push account among them). */
  pushGrants: readonly ITerraformDependable[],
): BackfillDelivery {
  const { scope, project, connector, labels } = ctx;
  const names = storageImportNames(connector.name);
  const backfillLabels = { ...labels, role: 'backfill' };
  const topic = new PubsubTopic(scope, 'backfill-topic', {
    project,
    name: names.backfillTopic,
    labels: backfillLabels,
    ...ctx.dep('pubsub'),
  });
  const fn = buildFunction(ctx, accounts.runtime, {
    id: 'backfill-function',
    name: names.backfillFunction,
    maxInstances: connector.backfill.maxInstances,
    what: 'backfills',
    labels: backfillLabels,
  });
  const url = fn.serviceConfig.uri;
  // The push may invoke the backfill function before the subscription delivers anything (no 403s counted as attempts).
  const invoker = runInvoker({ ...ctx, region: ctx.location }, 'backfill-push-invoker', fn, accounts.push.member);
  const pushSubscription = buildPushSubscription(
    ctx,
    { ingestTopic: topic, deadLetterTopic: topics.deadLetterTopic },
    url,
    accounts.push,
    [invoker, ...pushGrants],
    { id: 'backfill-push-subscription', name: names.backfillPushSubscription, role: 'backfill' },
  );
  new PubsubSubscriptionIamMember(scope, 'pubsub-agent-backfill-push-subscriber', {
    project,
    subscription: pushSubscription.name,
    role: 'roles/pubsub.subscriber',
    member: `serviceAccount:${ctx.props.pubsubServiceAgentEmail}`,
    ...ctx.dep('pubsub'),
  });
  return { topic, function: fn, pushSubscription };
}
