/**
 * Identity and IAM of a connector's function: one service account per workload (no keys), and exactly the bindings
 * of the infrastructure spec, each on the one resource it concerns. The receiver's own account and grants live with
 * it (infra/connector/receiver.ts).
 */
import type { ITerraformDependable } from 'cdktf';
import { CloudRunV2ServiceIamMember } from '@cdktf/provider-google/lib/cloud-run-v2-service-iam-member';
import type { Cloudfunctions2Function } from '@cdktf/provider-google/lib/cloudfunctions2-function';
import { ProjectIamMember } from '@cdktf/provider-google/lib/project-iam-member';
import type { PubsubSubscription } from '@cdktf/provider-google/lib/pubsub-subscription';
import type { PubsubTopic } from '@cdktf/provider-google/lib/pubsub-topic';
import { PubsubSubscriptionIamMember } from '@cdktf/provider-google/lib/pubsub-subscription-iam-member';
import { PubsubTopicIamMember } from '@cdktf/provider-google/lib/pubsub-topic-iam-member';
import type { SecretManagerSecret } from '@cdktf/provider-google/lib/secret-manager-secret';
import { SecretManagerSecretIamMember } from '@cdktf/provider-google/lib/secret-manager-secret-iam-member';
import { ServiceAccount } from '@cdktf/provider-google/lib/service-account';
import { ServiceAccountIamMember } from '@cdktf/provider-google/lib/service-account-iam-member';
import { publicApiTokenSecret } from '../../shared/names';
import type { ConnectorContext } from './props';
import { firestoreDatabaseCondition } from './state';

/** The function's workload identities. */
export interface FunctionServiceAccounts {
  readonly runtime: ServiceAccount;
  readonly push: ServiceAccount;
  readonly scheduler: ServiceAccount;
}

/** One workload's service account (construct id `<key>-sa`), without keys. */
export function serviceAccount(
  ctx: Pick<ConnectorContext, 'scope' | 'project' | 'dep'>,
  key: string,
  accountId: string,
  displayName: string,
  description: string,
): ServiceAccount {
  return new ServiceAccount(ctx.scope, `${key}-sa`, {
    project: ctx.project,
    accountId,
    displayName,
    description,
    ...ctx.dep('iam'),
  });
}

export function buildFunctionServiceAccounts(ctx: ConnectorContext): FunctionServiceAccounts {
  const { connector, names } = ctx;
  const sa = (key: keyof FunctionServiceAccounts, accountId: string, what: string) =>
    serviceAccount(ctx, key, accountId, `Currents ${connector.name}: ${key}`, what);
  return {
    runtime: sa('runtime', names.runtimeServiceAccount, `Runs the Currents → Segment function of '${connector.name}'`),
    push: sa('push', names.pushServiceAccount, `Pub/Sub push identity invoking '${names.function}'`),
    scheduler: sa('scheduler', names.schedulerServiceAccount, `Cloud Scheduler identity probing '${names.function}'`),
  };
}

/** `run.invoker` on a 2nd-gen function's Cloud Run service (which has the function's name). */
export function runInvoker(
  ctx: Pick<ConnectorContext, 'scope' | 'project' | 'dep'> & { readonly region: string },
  id: string,
  fn: Cloudfunctions2Function,
  member: string,
): CloudRunV2ServiceIamMember {
  return new CloudRunV2ServiceIamMember(ctx.scope, id, {
    project: ctx.project,
    location: ctx.region,
    name: fn.name,
    role: 'roles/run.invoker',
    member,
    ...ctx.dep('run'),
  });
}

/** What the function's grants concern. */
export interface FunctionIamTargets {
  readonly accounts: FunctionServiceAccounts;
  readonly secret: SecretManagerSecret;
  readonly hashKeySecret?: SecretManagerSecret;
  readonly deadLetterTopic: PubsubTopic;
  readonly pushSubscription: PubsubSubscription;
}

/** The function's bindings, and the Pub/Sub service agent's on its dead letters (its callers': buildCallerGrants). */
export function buildFunctionIam(ctx: ConnectorContext, t: FunctionIamTargets): void {
  const { scope, project, connector, names, props, environment: env } = ctx;
  const runtime = t.accounts.runtime.member;
  const pubsubAgent = `serviceAccount:${props.pubsubServiceAgentEmail}`;
  new SecretManagerSecretIamMember(scope, 'runtime-secret-accessor', {
    project,
    secretId: t.secret.secretId,
    role: 'roles/secretmanager.secretAccessor',
    member: runtime,
  });
  if (t.hashKeySecret) {
    new SecretManagerSecretIamMember(scope, 'runtime-hash-key-accessor', {
      project,
      secretId: t.hashKeySecret.secretId,
      role: 'roles/secretmanager.secretAccessor',
      member: runtime,
    });
  }
  if (connector.segment.sourceId !== undefined) {
    new SecretManagerSecretIamMember(scope, 'runtime-public-api-token-accessor', {
      project,
      secretId: props.publicApiTokenSecret?.secretId ?? publicApiTokenSecret(env.name),
      role: 'roles/secretmanager.secretAccessor',
      member: runtime,
    });
  }
  // Dead letters are written by the function (what Segment refused) and by Pub/Sub (out of delivery attempts).
  const deadLetterPublishers = {
    'runtime-dead-letter-publisher': runtime,
    'pubsub-agent-dead-letter-publisher': pubsubAgent,
  };
  for (const [id, member] of Object.entries(deadLetterPublishers)) {
    new PubsubTopicIamMember(scope, id, {
      project,
      topic: t.deadLetterTopic.name,
      role: 'roles/pubsub.publisher',
      member,
      ...(member === pubsubAgent ? ctx.dep('pubsub') : {}),
    });
  }
  // Firestore IAM has no per-database resource in provider 6.x: a project-level grant, conditioned on this database.
  new ProjectIamMember(scope, 'runtime-datastore-user', {
    project,
    role: 'roles/datastore.user',
    member: runtime,
    condition: firestoreDatabaseCondition(project, names.firestoreDatabase),
    ...ctx.dep('cloudresourcemanager'),
  });
  new PubsubSubscriptionIamMember(scope, 'pubsub-agent-push-subscriber', {
    project,
    subscription: t.pushSubscription.name,
    role: 'roles/pubsub.subscriber',
    member: pubsubAgent,
    ...ctx.dep('pubsub'),
  });
}

/** The grants the function's callers need before they call: what the push subscription and the probe job wait for. */
export interface CallerGrants {
  /** The push account's `run.invoker`, and the Pub/Sub service agent's token creator on it (OIDC tokens). */
  readonly push: readonly ITerraformDependable[];
  /** The scheduler account's `run.invoker`. */
  readonly scheduler: readonly ITerraformDependable[];
}

/**
 * `run.invoker` on the function for the push and scheduler accounts, and the Pub/Sub service agent's token creator on
 * the push account: created before the subscription and the job, so that their first calls are not refused (403) and
 * counted against the dead-letter attempts. (What IAM takes to propagate after a grant is applied, only a real project
 * shows.)
 */
export function buildCallerGrants(
  ctx: ConnectorContext,
  accounts: FunctionServiceAccounts,
  fn: Cloudfunctions2Function,
): CallerGrants {
  const run = { ...ctx, region: ctx.location };
  const tokenCreator = new ServiceAccountIamMember(ctx.scope, 'pubsub-agent-token-creator', {
    serviceAccountId: accounts.push.name,
    role: 'roles/iam.serviceAccountTokenCreator',
    member: `serviceAccount:${ctx.props.pubsubServiceAgentEmail}`,
    // After the Pub/Sub API and its agent exist (the stack's `pubsub` dependable is the agent's service identity).
    ...ctx.dep('pubsub'),
  });
  return {
    push: [runInvoker(run, 'push-invoker', fn, accounts.push.member), tokenCreator],
    scheduler: [runInvoker(run, 'scheduler-invoker', fn, accounts.scheduler.member)],
  };
}
