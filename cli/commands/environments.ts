/**
 * `currents environments [PATH] [--json | --github-output] [--only ENV]`: the environments of the definitions, as CI
 * takes them. The deploy workflow lists them with `--github-output` (all=, deploy=, plan= JSON arrays) and runs one
 * job per entry, so a new environment is deployed as soon as it is defined with `deploy` (and planned when it names a
 * read-only `deploy.planServiceAccount`); nothing in the workflow names an environment, a project or an account.
 */
import { connectorLocation } from '../../shared/deployment';
import { formatValidationError, type Environment } from '../../shared/connector';
import { parse, UsageError } from '../../common/args';
import * as specs from '../specs';
import { loadValidated } from '../../common/definitions';
import { table } from '../../common/table';

/** One environment as `--json` prints it (an interface: fields are added, never renamed or dropped). */
export interface EnvironmentListing {
  readonly name: string;
  readonly project: string;
  readonly region: string;
  /** The Terraform state: a GCS bucket and prefix, or null for a local state file (a person's own runs only). */
  readonly backend: { bucket: string; prefix: string | null } | null;
  /** How CI deploys it; null when CI does not deploy it. */
  readonly deploy: {
    serviceAccount: string;
    workloadIdentityProvider: string;
    planServiceAccount: string | null;
  } | null;
  readonly connectors: readonly { name: string; location: string; segmentRegion: string }[];
}

export function listing(env: Environment): EnvironmentListing {
  return {
    name: env.name,
    project: env.project,
    region: env.region,
    backend: env.backend ? { bucket: env.backend.bucket, prefix: env.backend.prefix ?? null } : null,
    deploy: env.deploy ? { ...env.deploy, planServiceAccount: env.deploy.planServiceAccount ?? null } : null,
    connectors: env.connectors.map((c) => ({
      name: c.name,
      location: connectorLocation(c, env),
      segmentRegion: c.segment.region,
    })),
  };
}

/** CI's matrices: every environment; those CI deploys (with their identity); those a pull request plans for real. */
export function githubMatrices(envs: readonly Environment[]): { all: object[]; deploy: object[]; plan: object[] } {
  const withBackend = (e: Environment) => ({ environment: e.name, project: e.project, stateBucket: e.backend!.bucket });
  return {
    all: envs.map((e) => ({ environment: e.name, project: e.project })),
    deploy: envs
      .filter((e) => e.deploy)
      .map((e) => ({
        ...withBackend(e),
        serviceAccount: e.deploy!.serviceAccount,
        workloadIdentityProvider: e.deploy!.workloadIdentityProvider,
      })),
    plan: envs
      .filter((e) => e.deploy?.planServiceAccount)
      .map((e) => ({
        ...withBackend(e),
        serviceAccount: e.deploy!.planServiceAccount!,
        workloadIdentityProvider: e.deploy!.workloadIdentityProvider,
      })),
  };
}

export async function run(argv: string[]): Promise<number> {
  const { positionals, values } = parse(specs.environmentsSpec, argv);
  const { environments: all, errors } = loadValidated(positionals[0]);
  if (errors.length) {
    console.error(`${errors.length} problem${errors.length === 1 ? '' : 's'} in the connector definitions:`);
    for (const e of errors) console.error(`  - ${formatValidationError(e)}`);
    return 1;
  }
  const environments = values.only === undefined ? all : all.filter((e) => e.name === values.only);
  if (values.only !== undefined && !environments.length) {
    throw new UsageError(`--only: no environment '${values.only}' (defined: ${all.map((e) => e.name).join(', ')})`);
  }
  if (values.githubOutput) {
    for (const [key, list] of Object.entries(githubMatrices(environments)))
      console.log(`${key}=${JSON.stringify(list)}`);
    return 0;
  }
  if (values.json) {
    for (const e of environments) console.log(JSON.stringify(listing(e)));
    return 0;
  }
  const rows = environments
    .map(listing)
    .map((l) => [
      l.name,
      l.project,
      l.region,
      l.backend ? `gs://${l.backend.bucket}/${l.backend.prefix ?? ''}` : 'local',
      l.deploy ? l.deploy.serviceAccount : 'no (not deployed by CI)',
      l.deploy?.planServiceAccount ? 'yes' : 'no',
      l.connectors.map((c) => (c.location === l.region ? c.name : `${c.name} (${c.location})`)).join(', '),
    ]);
  console.log(table(['env', 'project', 'region', 'state', 'CI deploys with', 'PR plan', 'connectors'], rows));
  return 0;
}
