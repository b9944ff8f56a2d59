/**
 * The receiver: Braze's door. A public 2nd-gen function (Braze posts from the internet and cannot present a Google
 * identity, so the bearer token, compared with the enabled versions of its ingest-token secret, is its lock), with its
 * own service account that may only publish on the ingest topic and read that one secret.
 *
 * Its input is deliberately narrow (where it runs, its names, the topic it publishes on, its settings and
 * environment) so that it can serve something other than one connector.
 */
import type { Construct } from 'constructs';
import { Cloudfunctions2Function } from '@cdktf/provider-google/lib/cloudfunctions2-function';
import type { PubsubTopic } from '@cdktf/provider-google/lib/pubsub-topic';
import { PubsubTopicIamMember } from '@cdktf/provider-google/lib/pubsub-topic-iam-member';
import { SecretManagerSecret } from '@cdktf/provider-google/lib/secret-manager-secret';
import { SecretManagerSecretIamMember } from '@cdktf/provider-google/lib/secret-manager-secret-iam-member';
import type { ServiceAccount } from '@cdktf/provider-google/lib/service-account';
import type { ConnectorResourceNames } from '../../shared/names';
import { RECEIVER_TARGET } from '../runtime-archive';
import { runInvoker, serviceAccount } from './identity';
import { buildSettings, type CurrentsConnectorProps, type DependsOn, type ReceiverProps } from './props';

export interface ReceiverInput {
  /** The construct its resources are declared in (their logical ids derive from it). */
  readonly scope: Construct;
  readonly project: string;
  readonly region: string;
  readonly names: Pick<
    ConnectorResourceNames,
    'receiverFunction' | 'receiverServiceAccount' | 'ingestTokenSecret' | 'ingestTopic'
  >;
  /** The topic it publishes Braze's requests on (named `names.ingestTopic`). */
  readonly ingestTopic: PubsubTopic;
  /** What it receives for, as its descriptions say it: a name and a display name. */
  readonly serves: { readonly name: string; readonly displayName: string };
  readonly settings: Required<ReceiverProps>;
  /** Its source archive in Cloud Storage (bundled from runtime/receiver/function.ts). */
  readonly source: { readonly bucket: string; readonly object: string };
  readonly runtime: string;
  /** The identity its build runs as, and what the build waits for (CurrentsConnectorProps `build`). */
  readonly build?: CurrentsConnectorProps['build'];
  /** Its environment variables (shared/runtime-config.ts `receiverEnvironment`). */
  readonly environmentVariables: Record<string, string>;
  readonly labels: Record<string, string>;
  readonly dep: DependsOn;
}

export interface Receiver {
  readonly function: Cloudfunctions2Function;
  readonly serviceAccount: ServiceAccount;
  /** Every enabled version is a bearer token the receiver accepts; Terraform never creates one. */
  readonly ingestTokenSecret: SecretManagerSecret;
}

export function buildReceiver(input: ReceiverInput): Receiver {
  const { scope, project, names, ingestTopic, serves, settings, labels, dep } = input;
  const account = serviceAccount(
    input,
    'receiver',
    names.receiverServiceAccount,
    `Currents ${serves.name}: receiver`,
    `Runs '${names.receiverFunction}', publishing Braze's requests to '${names.ingestTopic}'`,
  );
  // The receiver's tokens live here: `currents receiver-token new` adds versions, never Terraform.
  const ingestTokenSecret = new SecretManagerSecret(scope, 'ingest-token-secret', {
    project,
    secretId: names.ingestTokenSecret,
    labels: { ...labels, role: 'ingest-token' },
    replication: { auto: {} },
    ...dep('secretmanager'),
  });
  // Public ingress (Braze posts from the internet), its own account, many requests per instance.
  const build = buildSettings(input.build, dep('cloudfunctions', 'run', 'cloudbuild', 'artifactregistry'));
  const fn = new Cloudfunctions2Function(scope, 'receiver', {
    project,
    name: names.receiverFunction,
    location: input.region,
    description: `Braze Custom Currents Export → ${names.ingestTopic} for '${serves.displayName}'`,
    labels: { ...labels, role: 'receiver' },
    buildConfig: {
      runtime: input.runtime,
      entryPoint: RECEIVER_TARGET,
      source: { storageSource: { bucket: input.source.bucket, object: input.source.object } },
      ...build.config,
    },
    serviceConfig: {
      serviceAccountEmail: account.email,
      ingressSettings: 'ALLOW_ALL',
      allTrafficOnLatestRevision: true,
      availableMemory: settings.memory,
      availableCpu: settings.cpu,
      maxInstanceRequestConcurrency: settings.concurrency,
      timeoutSeconds: settings.timeoutSeconds,
      minInstanceCount: settings.minInstances,
      maxInstanceCount: settings.maxInstances,
      environmentVariables: input.environmentVariables,
    },
    ...build.dependsOn,
  });

  // The ONE public member of the stack. Braze cannot present a Google identity; the bearer token (compared with the
  // enabled versions of the ingest-token secret) is the receiver's lock.
  runInvoker(input, 'receiver-public-invoker', fn, 'allUsers');
  new PubsubTopicIamMember(scope, 'receiver-ingest-publisher', {
    project,
    topic: ingestTopic.name,
    role: 'roles/pubsub.publisher',
    member: account.member,
  });
  const tokenGrant = (id: string, role: string) =>
    new SecretManagerSecretIamMember(scope, id, {
      project,
      secretId: ingestTokenSecret.secretId,
      role,
      member: account.member,
    });
  tokenGrant('receiver-token-accessor', 'roles/secretmanager.secretAccessor');
  // The receiver accepts EVERY enabled version (so a token is rotated without losing a request: add the new version,
  // change it in Braze, disable the old one), so it lists the versions, which needs secretmanager.versions.list: not
  // in secretAccessor. Viewer grants it (and reading the versions' metadata, never their data) on this one secret only.
  tokenGrant('receiver-token-viewer', 'roles/secretmanager.viewer');
  return { function: fn, serviceAccount: account, ingestTokenSecret };
}
