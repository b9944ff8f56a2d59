/**
 * The roles the deploy service account needs, derived from what a synthesized stack declares: each Terraform resource
 * (and data source) type maps to the predefined roles that create, change and delete it. `currents bootstrap` grants
 * the union over the environment's stack, docs/deploying.md prints the table (checked against this code by a test),
 * and a test synthesizes stacks with every feature on and fails on a type this table does not know, so a new resource
 * type cannot ship without its role.
 *
 * One role is narrowed: `resourcemanager.projectIamAdmin` (for `google_project_iam_member`) comes with an IAM
 * condition that lets the deployer grant only the roles the stack grants at project level (`modifiedGrantsByRole`).
 */
import { App, TerraformStack } from 'cdktf';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Environment } from '../shared/connector';
import { defineEnvironments } from './app';
import type { RuntimeArchive } from './runtime-archive';

/** Acting as a service account (functions, scheduler jobs and push subscriptions run as or sign with one). */
const ACT_AS = 'roles/iam.serviceAccountUser';
const PUBSUB = 'roles/pubsub.admin';
const STORAGE = 'roles/storage.admin';
const MONITORING = 'roles/monitoring.editor';
const SECRETS = 'roles/secretmanager.admin';
const ACCOUNTS = 'roles/iam.serviceAccountAdmin';
export const PROJECT_IAM_ADMIN = 'roles/resourcemanager.projectIamAdmin';

/** `resource.<type>` or `data.<type>` → the roles that manage it, and why (the docs print the why). */
export const DEPLOYER_ROLE_TABLE: Readonly<Record<string, { roles: readonly string[]; why: string }>> = {
  'resource.google_project_service': { roles: ['roles/serviceusage.serviceUsageAdmin'], why: 'enables the APIs' },
  'resource.google_project_service_identity': {
    roles: ['roles/serviceusage.serviceUsageAdmin'],
    why: 'creates the Pub/Sub service agent before it is granted anything',
  },
  'resource.time_sleep': { roles: [], why: 'the wait for new log-based metrics (no Google API)' },
  'resource.google_storage_bucket': { roles: [STORAGE], why: 'the function source bucket' },
  'resource.google_storage_bucket_object': { roles: [STORAGE], why: 'the function archives' },
  'resource.google_storage_bucket_iam_member': { roles: [STORAGE], why: "the importer's read access to the export" },
  'resource.google_storage_notification': { roles: [STORAGE], why: "the storage export's notifications" },
  'resource.google_pubsub_topic': { roles: [PUBSUB], why: 'ingest and dead-letter topics' },
  'resource.google_pubsub_topic_iam_member': { roles: [PUBSUB], why: 'who may publish' },
  'resource.google_pubsub_subscription': { roles: [PUBSUB, ACT_AS], why: 'push subscriptions sign as their account' },
  'resource.google_pubsub_subscription_iam_member': { roles: [PUBSUB], why: 'the Pub/Sub agent on a subscription' },
  'resource.google_service_account': { roles: [ACCOUNTS], why: "the connectors' service accounts" },
  'resource.google_service_account_iam_member': { roles: [ACCOUNTS], why: 'token creator for the Pub/Sub agent' },
  'resource.google_cloudfunctions2_function': {
    roles: ['roles/cloudfunctions.admin', ACT_AS],
    why: 'the functions, run as their accounts and built by the build account',
  },
  'resource.google_cloud_run_v2_service_iam_member': { roles: ['roles/run.admin'], why: 'who may invoke a function' },
  'resource.google_firestore_database': { roles: ['roles/datastore.owner'], why: "each connector's database" },
  'resource.google_firestore_field': { roles: ['roles/datastore.owner'], why: "the parked events' TTL" },
  'resource.google_secret_manager_secret': { roles: [SECRETS], why: 'the secrets (never their versions)' },
  'resource.google_secret_manager_secret_iam_member': { roles: [SECRETS], why: 'who may read a secret' },
  'resource.google_cloud_scheduler_job': {
    roles: ['roles/cloudscheduler.admin', ACT_AS],
    why: 'the probe jobs, which sign as their account',
  },
  'resource.google_logging_metric': { roles: ['roles/logging.configWriter'], why: 'the log-based metrics' },
  'resource.google_monitoring_notification_channel': { roles: [MONITORING], why: 'the contact emails' },
  'resource.google_monitoring_alert_policy': { roles: [MONITORING], why: 'the alerts' },
  'resource.google_monitoring_dashboard': { roles: [MONITORING], why: 'the dashboard' },
  'resource.google_project_iam_member': {
    roles: [PROJECT_IAM_ADMIN],
    why: 'project-level grants, conditioned to the roles the stack grants',
  },
  'data.google_project': { roles: ['roles/browser'], why: "the project's number" },
  'data.google_storage_project_service_account': { roles: [STORAGE], why: 'the Cloud Storage service agent' },
};

export type StackJson = {
  resource?: Record<string, Record<string, Record<string, unknown>>>;
  data?: Record<string, unknown>;
};

/** Every `resource.<type>` and `data.<type>` a synthesized stack declares. */
export function stackTypes(json: StackJson): string[] {
  return [
    ...Object.keys(json.resource ?? {}).map((t) => `resource.${t}`),
    ...Object.keys(json.data ?? {}).map((t) => `data.${t}`),
  ].sort();
}

export class UnknownResourceTypeError extends Error {
  constructor(readonly types: readonly string[]) {
    super(
      `no deployer role for ${types.join(', ')}: add ${types.length === 1 ? 'it' : 'them'} to DEPLOYER_ROLE_TABLE ` +
        '(infra/deployer-roles.ts) with the predefined role that manages it',
    );
  }
}

/** The deploy account's roles for a synthesized stack (sorted); throws on a type the table does not know. */
export function deployerRoles(json: StackJson): string[] {
  const types = stackTypes(json);
  const unknown = types.filter((t) => !(t in DEPLOYER_ROLE_TABLE));
  if (unknown.length) throw new UnknownResourceTypeError(unknown);
  return [...new Set(types.flatMap((t) => DEPLOYER_ROLE_TABLE[t]!.roles))].sort();
}

/** The roles the stack grants at project level (the deployer's projectIamAdmin is limited to these). */
export function projectGrantedRoles(json: StackJson): string[] {
  const members = Object.values(json.resource?.google_project_iam_member ?? {});
  return [...new Set(members.map((m) => String(m.role)))].sort();
}

/** The IAM condition that limits projectIamAdmin to granting `roles` only. */
export function grantCondition(roles: readonly string[]): string {
  return `api.getAttribute('iam.googleapis.com/modifiedGrantsByRole', []).hasOnly([${roles.map((r) => `'${r}'`).join(', ')}])`;
}

/**
 * An environment's stack as Terraform JSON, synthesized in memory only to read what it declares (the archives are
 * stand-ins: their content changes no resource type). No cloud access, no files but a placeholder archive.
 */
export function synthesizeForRoles(environment: Environment): StackJson {
  const dir = mkdtempSync(join(tmpdir(), 'currents-roles-'));
  const path = join(dir, 'placeholder.zip');
  writeFileSync(path, 'placeholder');
  const stand = (objectName: string): RuntimeArchive => ({ path, sha256: '0'.repeat(64), objectName, bytes: 11 });
  const app = new App({ outdir: dir });
  const { stacks } = defineEnvironments(app, [environment], {
    archive: stand('function.zip'),
    receiverArchive: stand('receiver.zip'),
    importerArchive: stand('importer.zip'),
  });
  return (stacks[0] as TerraformStack).toTerraform() as StackJson;
}
