/**
 * The CurrentsConnector construct's props (every prop documents its default; the values live in shared/defaults.ts),
 * the props once resolved (defaults applied, checked by infra/connector/validate.ts), and the context every `build*`
 * helper of infra/connector/ receives.
 */
import type { ITerraformDependable } from 'cdktf';
import type { Construct } from 'constructs';
import type { SecretManagerSecret } from '@cdktf/provider-google/lib/secret-manager-secret';
import type { Connector, Environment } from '../../shared/connector';
import { connectorLocation } from '../../shared/deployment';
import type { ConnectorResourceNames } from '../../shared/names';

/** The APIs a connector's resources need; a stack passes the matching `google_project_service` for each. */
export type ConnectorApi =
  | 'pubsub'
  | 'iam'
  | 'cloudfunctions'
  | 'run'
  | 'cloudbuild'
  | 'artifactregistry'
  | 'firestore'
  | 'secretmanager'
  | 'cloudscheduler'
  | 'monitoring'
  | 'logging'
  | 'cloudresourcemanager';

/** The receiver's scaling and alerting (`CurrentsConnectorProps.receiver`). */
export interface ReceiverProps {
  /**
   * Requests one instance serves at once. The receiver is I/O-bound (it waits on Pub/Sub's acknowledgement and on the
   * token cache), so one instance serves many requests; 80 is Cloud Run's default for such services. Above 1 needs at
   * least 1 CPU.
   * @default 80
   */
  readonly concurrency?: number;
  /**
   * CPUs per instance (Cloud Functions `availableCpu`).
   * @default '1'
   */
  readonly cpu?: string;
  /**
   * Memory per instance: room for `concurrency` request bodies in flight (Braze's batches are ~100 KB; a body may be up
   * to what one Pub/Sub message holds).
   * @default '1Gi'
   */
  readonly memory?: string;
  /**
   * Upper bound of instances (80 concurrent requests each: far above what one Braze workspace sends; excess requests
   * get 429, which Braze retries).
   * @default 10
   */
  readonly maxInstances?: number;
  /**
   * Instances kept warm. 0 scales to zero; a cold start only delays Braze's request, which it waits for.
   * @default 0
   */
  readonly minInstances?: number;
  /**
   * Request time budget in seconds. The receiver gets it in its environment and derives its publish timeout from it
   * (at most 10 s, and 5 s less than this), so that it answers 503 before the platform cuts a hanging publish.
   * @default 60
   */
  readonly timeoutSeconds?: number;
  /**
   * The 401 alert fires when more than this many requests are refused in a 5-minute window, for 5 minutes.
   * @default 20
   */
  readonly refusalsAlertThreshold?: number;
}

export interface CurrentsConnectorProps {
  /** The connector, validated by the shared schema (`loadEnvironments`). Re-checked here with the same schema. */
  readonly connector: Connector;
  /** The environment the connector is deployed into. */
  readonly environment: Pick<Environment, 'name' | 'project' | 'region'>;
  /** The function's source archive in Cloud Storage (built and uploaded once per environment). */
  readonly source: { readonly bucket: string; readonly object: string };
  /** The receiver's source archive in Cloud Storage (bundled from runtime/receiver/function.ts). */
  readonly receiverSource: { readonly bucket: string; readonly object: string };
  /** The storage importer's source archive (bundled from runtime/storage/function.ts): needed with `storage`. */
  readonly importerSource?: { readonly bucket: string; readonly object: string };
  /**
   * The receiver's scaling and alerting.
   * @default RECEIVER_DEFAULTS (shared/defaults.ts)
   */
  readonly receiver?: ReceiverProps;
  /**
   * Email of the project's Pub/Sub service agent, `service-PROJECT_NUMBER@gcp-sa-pubsub.iam.gserviceaccount.com`. The
   * grants to it wait for `dependsOn.pubsub`, which should therefore stand for the agent's existence (the stack passes
   * its `google_project_service_identity`).
   */
  readonly pubsubServiceAgentEmail: string;
  /**
   * The identity Cloud Build builds the connector's functions as (fully qualified:
   * `projects/PROJECT/serviceAccounts/EMAIL`), and what a build waits for (its grants). Declared once per environment
   * by its stack (infra/environment-identities.ts).
   * @default none: Cloud Functions' default build account, which on projects created since mid-2024 lacks the roles a
   * build needs (the offline Terraform check refuses a function without one)
   */
  readonly build?: { readonly serviceAccount: string; readonly after?: readonly ITerraformDependable[] };
  /**
   * Cloud Functions runtime; must be nodejs22 or later.
   * @default 'nodejs22'
   */
  readonly runtime?: string;
  /**
   * The function's request time budget in seconds: the ONE timing source. The function gets it in its environment
   * (CURRENTS_TIMEOUT_SECONDS) and derives its delivery and probe budgets from it (15 s less: room to park or nack); the
   * push subscription's ack deadline is this plus a 20 s margin (shared/policy.ts `ackDeadlineFor`), so Pub/Sub never
   * redelivers a message the function is still working on; the probe job's attempt deadline is this.
   * Between 25 (a budget of one whole 10 s Segment request) and 580 (Pub/Sub's ack limit is 600).
   * @default 60
   */
  readonly timeoutSeconds?: number;
  /**
   * Memory of each function instance.
   * @default '512Mi'
   */
  readonly memory?: string;
  /**
   * Pub/Sub retry backoff for failed pushes (Google duration strings, 0s–600s, minimum ≤ maximum).
   * @default { minimum: '10s', maximum: '600s' }
   */
  readonly retryBackoff?: { readonly minimum: string; readonly maximum: string };
  /**
   * Cron schedule of the credential probe / drain job (every few minutes; the runtime adds jitter).
   * @default '*\/3 * * * *' (every 3 minutes)
   */
  readonly probeSchedule?: string;
  /**
   * Delete protection of the connector's Firestore database. When on, `terraform destroy` abandons the database
   * instead of deleting it.
   * @default true
   */
  readonly deleteProtection?: boolean;
  /**
   * Firestore location of the connector's database.
   * @default the environment's region
   */
  readonly firestoreLocation?: string;
  /**
   * The environment's Segment Public API token secret (shared/names.ts `publicApiTokenSecret`), declared once per
   * environment by its stack. A connector with `segment.sourceId` gets read access to it; default: the secret of that
   * name, declared elsewhere.
   */
  readonly publicApiTokenSecret?: SecretManagerSecret;
  /**
   * The API enablements each resource waits for (`google_project_service` per API).
   * @default none (the APIs are assumed enabled)
   */
  readonly dependsOn?: Partial<Record<ConnectorApi, ITerraformDependable>>;
  /**
   * Labels added to every labelled resource, besides `app`, `environment` and `connector`.
   * @default {}
   */
  readonly labels?: Record<string, string>;
}

/** The props with every default applied, as the `build*` helpers read them. */
export type ResolvedConnectorProps = CurrentsConnectorProps &
  Required<
    Pick<CurrentsConnectorProps, 'runtime' | 'timeoutSeconds' | 'memory' | 'probeSchedule' | 'deleteProtection'>
  > & {
    readonly retryBackoff: { readonly minimum: string; readonly maximum: string };
    readonly receiver: Required<ReceiverProps>;
  };

export class ConnectorPropsError extends Error {
  constructor(
    readonly connector: string,
    readonly problems: readonly string[],
  ) {
    super(`connector '${connector}': ${problems.length} invalid construct prop(s):\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConnectorPropsError';
  }
}

/** Spreads into a resource's config: the API enablements it waits for (none when the stack passes none). */
export type DependsOn = (...apis: ConnectorApi[]) => { dependsOn?: ITerraformDependable[] };

/** A `dependsOn` meta-argument with `more` added (none when both are empty). */
export function dependsOnAlso(
  dep: { dependsOn?: ITerraformDependable[] },
  more: readonly ITerraformDependable[] = [],
): { dependsOn?: ITerraformDependable[] } {
  const list = [...(dep.dependsOn ?? []), ...more];
  return list.length ? { dependsOn: list } : {};
}

/** A function's build identity: `buildConfig.serviceAccount` (when given) and the `dependsOn` its build waits for. */
export function buildSettings(
  build: CurrentsConnectorProps['build'],
  dep: { dependsOn?: ITerraformDependable[] },
): { config: { serviceAccount?: string }; dependsOn: { dependsOn?: ITerraformDependable[] } } {
  return {
    config: build ? { serviceAccount: build.serviceAccount } : {},
    dependsOn: dependsOnAlso(dep, build?.after),
  };
}

/** What every `build*` helper receives: the connector construct as scope (so logical ids stay as they were). */
export interface ConnectorContext {
  readonly scope: Construct;
  readonly project: string;
  readonly environment: Pick<Environment, 'name' | 'project' | 'region'>;
  readonly connector: Connector;
  /** Where the connector's function, receiver, database and probe run: its `location`, else the environment's region. */
  readonly location: string;
  readonly names: ConnectorResourceNames;
  /** `app`, `environment` and `connector`, over the props' own labels. */
  readonly labels: Record<string, string>;
  readonly dep: DependsOn;
  readonly props: ResolvedConnectorProps;
}

/** The context of one connector construct. */
export function connectorContext(
  scope: Construct,
  props: ResolvedConnectorProps,
  names: ConnectorResourceNames,
): ConnectorContext {
  const { connector, environment } = props;
  const labels = { ...props.labels, app: 'currents-segment', environment: environment.name, connector: connector.name };
  const dep: DependsOn = (...apis) => {
    const list = apis.map((a) => props.dependsOn?.[a]).filter((d): d is ITerraformDependable => d !== undefined);
    return list.length ? { dependsOn: list } : {};
  };
  const location = connectorLocation(connector, environment);
  return { scope, project: environment.project, environment, connector, location, names, labels, dep, props };
}
