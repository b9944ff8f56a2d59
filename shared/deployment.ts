/**
 * How an environment is deployed and where each connector runs, as fields of the definitions (validated with the rest;
 * shared/connector.ts calls these rules):
 *  - `deploy` on an environment: the identity CI deploys it with (the deploy service account and the Workload Identity
 *    provider it is impersonated through, both made by `currents bootstrap`) and, optionally, a read-only planning
 *    account for pull requests. CI deploys exactly the environments that have it, so such an environment must keep its
 *    Terraform state remotely (`backend`): a runner's local state is lost with the runner.
 *  - `location` on a connector: the Google Cloud region its function, Firestore database and probe run in (default:
 *    the environment's region), and its Braze workspace's door (shared/door.ts: one location per workspace). A connector that sends to Segment's EU region runs in an EU location unless
 *    `allowOutsideEu` says otherwise: its database holds parked events with users' ids.
 * Pure; no I/O.
 */
import { z } from 'zod';
import type { FieldTexts, Finding } from './schema-messages';

/** A Google Cloud region's form, such as europe-west1 or us-central1. */
export const REGION_PATTERN = /^[a-z]+-[a-z]+\d+$/;

/** A Cloud Storage bucket name (3 to 63 characters, no dots: a state bucket needs none). */
const BUCKET = /^[a-z0-9][a-z0-9_-]{1,61}[a-z0-9]$/;
const SERVICE_ACCOUNT = /^[a-z][a-z0-9-]{4,28}[a-z0-9]@[a-z][a-z0-9-]{4,28}[a-z0-9]\.iam\.gserviceaccount\.com$/;
const PROVIDER =
  /^projects\/\d+\/locations\/global\/workloadIdentityPools\/[a-z0-9-]{4,32}\/providers\/[a-z0-9-]{4,32}$/;

export const BackendSchema = z.strictObject({
  bucket: z.string().regex(BUCKET),
  prefix: z.string().optional(),
});

export const DeploySchema = z.strictObject({
  serviceAccount: z.string().regex(SERVICE_ACCOUNT),
  workloadIdentityProvider: z.string().regex(PROVIDER),
  planServiceAccount: z.string().regex(SERVICE_ACCOUNT).optional(),
});

/** The texts of `backend` and `deploy` (part of ENVIRONMENT_TEXTS). */
export const DEPLOYMENT_TEXTS: FieldTexts = {
  backend: { must: "an object { bucket, prefix }: where this environment's Terraform state is kept" },
  'backend.bucket': {
    must: 'a Cloud Storage bucket name: 3 to 63 lowercase letters, digits, - and _',
    hint: '`currents bootstrap` creates it, versioned',
  },
  'backend.prefix': { must: 'an object-name prefix for the Terraform state (a string)' },
  deploy: {
    must: 'an object { serviceAccount, workloadIdentityProvider, planServiceAccount? }: how CI deploys this environment',
    hint: '`currents bootstrap` creates them and prints the values; CI deploys only the environments that have it',
  },
  'deploy.serviceAccount': {
    must: 'a service account email such as currents-deployer@my-project.iam.gserviceaccount.com',
    hint: 'the account CI deploys with',
  },
  'deploy.workloadIdentityProvider': {
    must: 'a Workload Identity provider: projects/NUMBER/locations/global/workloadIdentityPools/POOL/providers/PROVIDER',
    hint: 'the project NUMBER, not its id; `currents bootstrap` prints it',
  },
  'deploy.planServiceAccount': {
    must: 'a service account email such as currents-planner@my-project.iam.gserviceaccount.com',
    hint: "a read-only account: with it, a pull request shows Terraform's real plan of this environment",
  },
};

/** What the connector's `location` and `allowOutsideEu` must be (part of CONNECTOR_TEXTS). */
export const LOCATION_TEXTS: FieldTexts = {
  location: {
    must: 'a Google Cloud region such as europe-west1 or us-central1',
    hint: "where the connector's function, Firestore database, probe and its workspace's door run (default: the environment's region; the connectors of one workspace share one)",
  },
  allowOutsideEu: {
    must: 'true or false',
    hint: "true lets a connector of Segment's EU region run outside the EU (its parked events hold users' ids)",
  },
};

/** The connector fields of location (part of ConnectorSchema). */
export const LOCATION_FIELDS = {
  location: z.string().regex(REGION_PATTERN).optional(),
  allowOutsideEu: z.boolean().optional(),
};

/**
 * Google Cloud regions in a member state of the European Union (London, europe-west2, and Zurich, europe-west6, are in
 * Europe but not in the EU). A region not listed here counts as outside the EU.
 */
export const EU_LOCATIONS: readonly string[] = [
  'europe-central2',
  'europe-north1',
  'europe-north2',
  'europe-southwest1',
  'europe-west1',
  'europe-west3',
  'europe-west4',
  'europe-west8',
  'europe-west9',
  'europe-west10',
  'europe-west12',
];

/** Where a connector runs: its own `location`, else its environment's region. */
export function connectorLocation(c: { location?: string }, env: { region: string }): string {
  return c.location ?? env.region;
}

/** A connector of Segment's EU region whose location is outside the EU, unless allowed explicitly. */
export function residencyFindings(
  c: { segment?: { region?: unknown }; location?: string; allowOutsideEu?: boolean },
  env: { region?: string },
): Finding[] {
  if (c.segment?.region !== 'eu' || c.allowOutsideEu) return [];
  const where = c.location ?? env.region;
  if (where === undefined || EU_LOCATIONS.includes(where)) return [];
  const from = c.location ? 'its own' : "its environment's region: the connector sets no location";
  return [
    {
      path: ['location'],
      message:
        `location ${where} (${from}) is outside the EU, yet the connector sends to Segment's EU region: its function ` +
        `and Firestore database (parked events, with users' ids) would hold EU data there. Set location to an EU region ` +
        `(such as europe-west1), or, if running in ${where} is intended, set allowOutsideEu: true`,
    },
  ];
}

/** An environment that CI deploys (it has `deploy`) without a remote state backend. */
export function deploymentFindings(env: { deploy?: unknown; backend?: unknown }): Finding[] {
  if (env.deploy === undefined || env.backend !== undefined) return [];
  return [
    {
      path: ['backend'],
      message:
        'backend is required when the environment has deploy: CI deploys it, and a runner keeps no Terraform state ' +
        'between runs (the next deploy would collide with what exists). Set backend { bucket, prefix } ' +
        '(`currents bootstrap` creates the bucket, versioned)',
    },
  ];
}
