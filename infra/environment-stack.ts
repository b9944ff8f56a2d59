/**
 * One CDKTF stack per environment (`cdktf deploy <env>`): the provider and state backend, the project services (APIs),
 * the bucket holding the source archives, the archives themselves (the function's and the receiver's), and one
 * `CurrentsConnector` per connector with its outputs (ingest topic, dead-letter subscription, secrets, receiver URL).
 */
import { Aspects, AssetType, GcsBackend, LocalBackend, TerraformAsset, TerraformOutput, TerraformStack } from 'cdktf';
import { type Construct } from 'constructs';
import { DataGoogleProject } from '@cdktf/provider-google/lib/data-google-project';
import { ProjectService } from '@cdktf/provider-google/lib/project-service';
import { SecretManagerSecret } from '@cdktf/provider-google/lib/secret-manager-secret';
import { MonitoringDashboard } from '@cdktf/provider-google/lib/monitoring-dashboard';
import { GoogleProvider } from '@cdktf/provider-google/lib/provider';
import { StorageBucket } from '@cdktf/provider-google/lib/storage-bucket';
import { StorageBucketObject } from '@cdktf/provider-google/lib/storage-bucket-object';
import { TimeProvider } from '@cdktf/provider-time/lib/provider';
import { type Environment } from '../shared/connector';
import { publicApiTokenSecret, receiverUrlOutput, stateBackendPrefix } from '../shared/names';
import { CurrentsConnector } from './connector';
import type { ConnectorApi, CurrentsConnectorProps } from './connector/props';
import { dashboardDisplayName, dashboardJson } from './dashboard';
import {
  buildIdentity,
  type BuildIdentity,
  GoogleBetaProvider,
  ProjectServiceIdentity,
} from './environment-identities';
import { type RuntimeArchive } from './runtime-archive';
import { TerraformLiteralStrings } from './terraform-literals';

/** The APIs an environment enables, keyed by what the connector resources need. */
export const PROJECT_SERVICES: Record<ConnectorApi | 'storage', string> = {
  pubsub: 'pubsub.googleapis.com',
  iam: 'iam.googleapis.com',
  cloudfunctions: 'cloudfunctions.googleapis.com',
  run: 'run.googleapis.com',
  cloudbuild: 'cloudbuild.googleapis.com',
  artifactregistry: 'artifactregistry.googleapis.com',
  storage: 'storage.googleapis.com',
  firestore: 'firestore.googleapis.com',
  secretmanager: 'secretmanager.googleapis.com',
  cloudscheduler: 'cloudscheduler.googleapis.com',
  monitoring: 'monitoring.googleapis.com',
  logging: 'logging.googleapis.com',
  cloudresourcemanager: 'cloudresourcemanager.googleapis.com',
};

/** The source bucket of an environment (bucket names are global: derived from the project id). */
export const sourceBucketName = (project: string): string => `${project}-currents-function-source`;

/**
 * The local state file of an environment without a remote backend, relative to the directory Terraform runs in
 * (`cdktf.out/stacks/<env>`, where `cdktf deploy` and a plain `terraform -chdir=cdktf.out/stacks/<env>` run): the
 * repository's root, named after the environment. Relative, so it does not depend on where the repository is checked
 * out and `terraform init` sees the same backend on every machine.
 */
export const localStatePath = (environment: string): string => `../../../terraform.${environment}.tfstate`;

export interface EnvironmentStackProps {
  /** A validated environment (from `loadEnvironments`). */
  readonly environment: Environment;
  /** The function's built source archive (`buildRuntimeArchive`). */
  readonly archive: RuntimeArchive;
  /** The receiver's built source archive (`buildRuntimeArchive({ kind: 'receiver' })`). */
  readonly receiverArchive: RuntimeArchive;
  /** The storage importer's archive (`buildRuntimeArchive({ kind: 'importer' })`): needed when a connector has `storage`. */
  readonly importerArchive?: RuntimeArchive;
  /**
   * Construct props applied to every connector of the environment (runtime, timeout, memory, backoff, schedule…).
   * @default the construct's defaults
   */
  readonly connectorDefaults?: Partial<
    Omit<
      CurrentsConnectorProps,
      'connector' | 'environment' | 'source' | 'receiverSource' | 'pubsubServiceAgentEmail' | 'dependsOn' | 'build'
    >
  >;
}

export class EnvironmentStack extends TerraformStack {
  readonly environment: Environment;
  readonly connectors: Record<string, CurrentsConnector> = {};
  readonly sourceBucket: StorageBucket;
  readonly sourceObject: StorageBucketObject;
  readonly receiverSourceObject: StorageBucketObject;
  /** The environment's Cloud Monitoring dashboard (Monitoring → Dashboards), when it has connectors. */
  readonly dashboard?: MonitoringDashboard;
  /** The service account every function of the environment is built as, and its grants. */
  readonly build: BuildIdentity;
  /** The Pub/Sub service agent, made to exist before any grant to it. */
  readonly pubsubServiceIdentity: ProjectServiceIdentity;

  constructor(scope: Construct, id: string, props: EnvironmentStackProps) {
    super(scope, id);
    const env = (this.environment = props.environment);
    const project = env.project;

    new GoogleProvider(this, 'google', { project, region: env.region });
    const googleBeta = new GoogleBetaProvider(this, 'google-beta', { project, region: env.region });
    // time_sleep: alert policies wait until their new log-based metrics can be queried (infra/connector/monitoring.ts).
    new TimeProvider(this, 'time');
    if (env.backend) {
      new GcsBackend(this, {
        bucket: env.backend.bucket,
        prefix: stateBackendPrefix(env),
      });
    } else {
      new LocalBackend(this, { path: localStatePath(env.name) });
    }
    // Every literal string of the stack (legends, filters, descriptions, names people typed) written as Terraform
    // reads it: `${` as `$${` (infra/terraform-literals.ts).
    Aspects.of(this).add(new TerraformLiteralStrings());

    const services = this.enableServices(project);
    // The Pub/Sub service agent exists once this does (the API on, the agent created if it was not yet). Everything of
    // Pub/Sub waits for it (it stands for the API below), the grants to the agent included; its email is the
    // documented one, known at plan, so the grants of an environment deployed before do not change.
    this.pubsubServiceIdentity = new ProjectServiceIdentity(this, 'pubsub-service-identity', {
      provider: googleBeta,
      project,
      service: PROJECT_SERVICES.pubsub,
      dependsOn: [services.pubsub],
    });
    const projectData = new DataGoogleProject(this, 'project', { projectId: project });
    const pubsubServiceAgentEmail = `service-${projectData.number}@gcp-sa-pubsub.iam.gserviceaccount.com`;

    const labels = { app: 'currents-segment', environment: env.name };
    this.sourceBucket = new StorageBucket(this, 'function-source-bucket', {
      project,
      name: sourceBucketName(project),
      location: env.region,
      uniformBucketLevelAccess: true,
      publicAccessPrevention: 'enforced',
      forceDestroy: false,
      labels,
      dependsOn: [services.storage],
    });
    this.build = buildIdentity(this, env, sourceBucketName(project), services);
    this.sourceObject = this.upload('function', props.archive);
    this.receiverSourceObject = this.upload('receiver', props.receiverArchive);
    const importerSourceObject = props.importerArchive ? this.upload('importer', props.importerArchive) : undefined;
    const tokenSecret = this.publicApiToken(labels, services);

    for (const connector of env.connectors) {
      const c = new CurrentsConnector(this, `connector-${connector.name}`, {
        // The environment's explicit field (on by default, whatever the environment's name).
        deleteProtection: env.deleteProtection,
        ...props.connectorDefaults,
        connector,
        environment: env,
        source: { bucket: this.sourceBucket.name, object: this.sourceObject.name },
        receiverSource: { bucket: this.sourceBucket.name, object: this.receiverSourceObject.name },
        ...(importerSourceObject
          ? { importerSource: { bucket: this.sourceBucket.name, object: importerSourceObject.name } }
          : {}),
        pubsubServiceAgentEmail,
        build: { serviceAccount: this.build.serviceAccount.id, after: this.build.grants },
        publicApiTokenSecret: tokenSecret,
        dependsOn: { ...services, pubsub: this.pubsubServiceIdentity },
      });
      this.connectors[connector.name] = c;
      this.connectorOutputs(connector.name, c);
    }
    if (env.connectors.length) this.dashboard = this.buildDashboard(services);
  }

  private enableServices(project: string): Record<keyof typeof PROJECT_SERVICES, ProjectService> {
    const services = {} as Record<keyof typeof PROJECT_SERVICES, ProjectService>;
    for (const [key, service] of Object.entries(PROJECT_SERVICES) as [keyof typeof PROJECT_SERVICES, string][]) {
      services[key] = new ProjectService(this, `service-${key}`, {
        project,
        service,
        disableOnDestroy: false,
        disableDependentServices: false,
      });
    }
    return services;
  }

  /** One runtime archive, uploaded to the source bucket. */
  private upload(kind: 'function' | 'receiver' | 'importer', archive: RuntimeArchive): StorageBucketObject {
    const asset = new TerraformAsset(this, `${kind}-source-asset`, {
      path: archive.path,
      type: AssetType.FILE,
      assetHash: archive.sha256,
    });
    return new StorageBucketObject(this, `${kind}-source-object`, {
      bucket: this.sourceBucket.name,
      name: archive.objectName,
      source: asset.path,
      contentType: 'application/zip',
    });
  }

  /**
   * The Segment Public API token of the environment (for the write-key source checks): declared when a connector has a
   * source check; like the credential secrets, Terraform never creates a version.
   */
  private publicApiToken(
    labels: Record<string, string>,
    services: Record<keyof typeof PROJECT_SERVICES, ProjectService>,
  ): SecretManagerSecret | undefined {
    const env = this.environment;
    if (!env.connectors.some((c) => c.segment.sourceId !== undefined)) return undefined;
    const tokenSecret = new SecretManagerSecret(this, 'public-api-token-secret', {
      project: env.project,
      secretId: publicApiTokenSecret(env.name),
      labels: { ...labels, credential: 'segment-public-api-token' },
      replication: { auto: {} },
      dependsOn: [services.secretmanager],
    });
    new TerraformOutput(this, 'public-api-token-secret-id', {
      value: tokenSecret.id,
      description: 'Secret to put the Segment Public API token (source read access) into (gcloud secrets versions add)',
    });
    return tokenSecret;
  }

  private connectorOutputs(name: string, c: CurrentsConnector): void {
    new TerraformOutput(this, `${name}-ingest-topic`, {
      value: c.ingestTopic.id,
      description: `Topic '${name}' receives Currents events on`,
    });
    new TerraformOutput(this, `${name}-dead-letter-subscription`, {
      value: c.deadLetterSubscription.id,
      description: `Pull subscription holding '${name}' dead letters for replay`,
    });
    new TerraformOutput(this, `${name}-secret`, {
      value: c.secret.id,
      description: `Secret to put '${name}' credential into (gcloud secrets versions add)`,
    });
    // The URL Braze's Custom Currents Export posts to. Never a token: tokens are made by `currents receiver-token new`.
    new TerraformOutput(this, receiverUrlOutput(name), {
      value: c.receiver.url,
      description: `URL of '${name}' receiver, to paste into Braze (Custom Currents Export)`,
    });
    new TerraformOutput(this, `${name}-ingest-token-secret`, {
      value: c.ingestTokenSecret.id,
      description: `Secret holding '${name}' receiver tokens (currents receiver-token new)`,
    });
  }

  /** One dashboard per environment, drawn only from the log-based metrics the connectors declare. */
  private buildDashboard(services: Record<keyof typeof PROJECT_SERVICES, ProjectService>): MonitoringDashboard {
    const env = this.environment;
    const dashboard = new MonitoringDashboard(this, 'dashboard', {
      project: env.project,
      dashboardJson: dashboardJson(
        env.name,
        env.connectors.map((c) => c.name),
      ),
      dependsOn: [
        services.monitoring,
        ...Object.values(this.connectors).flatMap((c) => Object.values(c.dashboardMetrics)),
        ...Object.values(this.connectors).flatMap((c) => Object.values(c.metrics)),
      ],
    });
    new TerraformOutput(this, 'dashboard-name', {
      value: dashboardDisplayName(env.name),
      description: 'Cloud Monitoring dashboard of the environment (console: Monitoring → Dashboards)',
    });
    return dashboard;
  }
}
