/**
 * One CDKTF stack per environment (`cdktf deploy <env>`): the provider and state backend, the project services (APIs),
 * the bucket holding the source archives, the archives themselves (the function's and the receiver's), and one
 * `CurrentsConnector` per connector with its outputs (ingest topic, dead-letter subscription, secret), and one
 * `WorkspaceDoor` per Braze workspace with its outputs (its URL, its token secret).
 */
import { join } from 'node:path';
import { AssetType, GcsBackend, LocalBackend, TerraformAsset, TerraformOutput, TerraformStack } from 'cdktf';
import { type Construct } from 'constructs';
import { DataGoogleProject } from '@cdktf/provider-google/lib/data-google-project';
import { ProjectService } from '@cdktf/provider-google/lib/project-service';
import { SecretManagerSecret } from '@cdktf/provider-google/lib/secret-manager-secret';
import { MonitoringDashboard } from '@cdktf/provider-google/lib/monitoring-dashboard';
import { GoogleProvider } from '@cdktf/provider-google/lib/provider';
import { StorageBucket } from '@cdktf/provider-google/lib/storage-bucket';
import { StorageBucketObject } from '@cdktf/provider-google/lib/storage-bucket-object';
import { type Environment } from '../shared/connector';
import { doorTokenSecretOutput, doorUrlOutput, workspaceDoors } from '../shared/door';
import { publicApiTokenSecret, stateBackendPrefix } from '../shared/names';
import { WorkspaceDoor } from './door';
import { CurrentsConnector } from './connector';
import type { ConnectorApi, CurrentsConnectorProps } from './connector/props';
import { dashboardDisplayName, dashboardJson } from './dashboard';
import { REPO_ROOT, type RuntimeArchive } from './runtime-archive';

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
    Omit<CurrentsConnectorProps, 'connector' | 'environment' | 'source' | 'pubsubServiceAgentEmail' | 'dependsOn'>
  >;
}

export class EnvironmentStack extends TerraformStack {
  readonly environment: Environment;
  readonly connectors: Record<string, CurrentsConnector> = {};
  /** The door of each Braze workspace the connectors name, by workspace. */
  readonly doors: Record<string, WorkspaceDoor> = {};
  readonly sourceBucket: StorageBucket;
  readonly sourceObject: StorageBucketObject;
  readonly receiverSourceObject: StorageBucketObject;
  /** The environment's Cloud Monitoring dashboard (Monitoring → Dashboards), when it has connectors. */
  readonly dashboard?: MonitoringDashboard;

  constructor(scope: Construct, id: string, props: EnvironmentStackProps) {
    super(scope, id);
    const env = (this.environment = props.environment);
    const project = env.project;

    new GoogleProvider(this, 'google', { project, region: env.region });
    if (env.backend) {
      new GcsBackend(this, {
        bucket: env.backend.bucket,
        prefix: stateBackendPrefix(env),
      });
    } else {
      new LocalBackend(this, { path: join(REPO_ROOT, `terraform.${env.name}.tfstate`) });
    }

    const services = {} as Record<keyof typeof PROJECT_SERVICES, ProjectService>;
    for (const [key, service] of Object.entries(PROJECT_SERVICES) as [keyof typeof PROJECT_SERVICES, string][]) {
      services[key] = new ProjectService(this, `service-${key}`, {
        project,
        service,
        disableOnDestroy: false,
        disableDependentServices: false,
      });
    }
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
    const upload = (kind: 'function' | 'receiver' | 'importer', archive: RuntimeArchive) => {
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
    };
    this.sourceObject = upload('function', props.archive);
    this.receiverSourceObject = upload('receiver', props.receiverArchive);
    const importerSourceObject = props.importerArchive ? upload('importer', props.importerArchive) : undefined;

    // The Segment Public API token of the environment (for the write-key source checks): declared when a connector has a
    // source check; like the credential secrets, Terraform never creates a version.
    const tokenSecret = env.connectors.some((c) => c.segment.sourceId !== undefined)
      ? new SecretManagerSecret(this, 'public-api-token-secret', {
          project,
          secretId: publicApiTokenSecret(env.name),
          labels: { ...labels, credential: 'segment-public-api-token' },
          replication: { auto: {} },
          dependsOn: [services.secretmanager],
        })
      : undefined;
    if (tokenSecret) {
      new TerraformOutput(this, 'public-api-token-secret-id', {
        value: tokenSecret.id,
        description:
          'Secret to put the Segment Public API token (source read access) into (gcloud secrets versions add)',
      });
    }

    for (const connector of env.connectors) {
      const c = new CurrentsConnector(this, `connector-${connector.name}`, {
        // The environment's explicit field (on by default, whatever the environment's name).
        deleteProtection: env.deleteProtection,
        ...props.connectorDefaults,
        connector,
        environment: env,
        source: { bucket: this.sourceBucket.name, object: this.sourceObject.name },
        ...(importerSourceObject
          ? { importerSource: { bucket: this.sourceBucket.name, object: importerSourceObject.name } }
          : {}),
        pubsubServiceAgentEmail,
        publicApiTokenSecret: tokenSecret,
        dependsOn: services,
      });
      this.connectors[connector.name] = c;
      new TerraformOutput(this, `${connector.name}-ingest-topic`, {
        value: c.ingestTopic.id,
        description: `Topic '${connector.name}' receives Currents events on`,
      });
      new TerraformOutput(this, `${connector.name}-dead-letter-subscription`, {
        value: c.deadLetterSubscription.id,
        description: `Pull subscription holding '${connector.name}' dead letters for replay`,
      });
      new TerraformOutput(this, `${connector.name}-secret`, {
        value: c.secret.id,
        description: `Secret to put '${connector.name}' credential into (gcloud secrets versions add)`,
      });
    }
    // One door per Braze workspace (infra/door.ts): the URL its Custom Currents Export posts to. Never a token: tokens
    // are made by `currents receiver-token new`.
    for (const door of workspaceDoors(env.connectors)) {
      const [first] = door.connectors.map((c) => this.connectors[c.name]!);
      const d = new WorkspaceDoor(this, `door-${door.id}`, {
        environment: env,
        door,
        ingestTopics: Object.fromEntries(door.connectors.map((c) => [c.name, this.connectors[c.name]!.ingestTopic])),
        notificationChannels: door.connectors.map((c) => this.connectors[c.name]!.notificationChannel.name),
        settings: first!.receiverSettings,
        source: { bucket: this.sourceBucket.name, object: this.receiverSourceObject.name },
        runtime: first!.runtime,
        labels,
        dependsOn: services,
      });
      this.doors[door.workspace] = d;
      new TerraformOutput(this, doorUrlOutput(door.workspace), {
        value: d.function.url,
        description: `URL of the door of Braze workspace '${door.workspace}' (${door.connectors.map((c) => c.name).join(', ')}), to paste into its Custom Currents Export`,
      });
      new TerraformOutput(this, doorTokenSecretOutput(door.workspace), {
        value: d.tokenSecret.id,
        description: `Secret holding the tokens of the door of Braze workspace '${door.workspace}' (currents receiver-token new)`,
      });
    }
    if (env.connectors.length) {
      // One dashboard per environment, drawn only from the log-based metrics the connectors declare.
      this.dashboard = new MonitoringDashboard(this, 'dashboard', {
        project,
        dashboardJson: dashboardJson(
          env.name,
          env.connectors.map((c) => ({ name: c.name, workspace: c.workspace })),
        ),
        dependsOn: [
          services.monitoring,
          ...Object.values(this.connectors).flatMap((c) => Object.values(c.dashboardMetrics)),
          ...Object.values(this.connectors).flatMap((c) => Object.values(c.metrics)),
          ...Object.values(this.doors).map((d) => d.requestsMetric),
        ],
      });
      new TerraformOutput(this, 'dashboard-name', {
        value: dashboardDisplayName(env.name),
        description: 'Cloud Monitoring dashboard of the environment (console: Monitoring → Dashboards)',
      });
    }
  }
}
