/**
 * `currents bootstrap`'s plan: what a fresh project needs before CI can deploy an environment, as gcloud commands, each
 * step guarded by a check so that running it again changes nothing (what exists is kept; bindings and settings that
 * gcloud applies idempotently are applied again). The plan is pure (`bootstrapPlan`); `runPlan` drives gcloud through
 * an injected runner, and `planScript` prints the same plan as a shell script (`--dry-run`: offline, runnable).
 *
 *  1. the APIs (Service Usage and Resource Manager first, then every API the stack uses, IAM credentials and STS for
 *     Workload Identity);
 *  2. the Terraform state bucket of the environment's `backend`: uniform access, public access prevented, versioned;
 *  3. the deploy service account with exactly the roles the environment's stack needs (infra/deployer-roles.ts), its
 *     project-level IAM admin conditioned to the roles the stack grants;
 *  4. the build service account the functions are built with (logs, Artifact Registry, reading the source bucket);
 *  5. the read-only planning account, when the environment names one (viewer, security reviewer, state reader);
 *  6. a Workload Identity pool and a GitHub provider whose attribute condition admits the repository only; the deploy
 *     account may be used by the repository's `main` branch, the planning account by any of its workflows.
 */
import { PROJECT_SERVICES } from '../../infra/environment-stack';
import { grantCondition, PROJECT_IAM_ADMIN } from '../../infra/deployer-roles';
import type { Environment } from '../../shared/connector';

/** A placeholder in a command for the project number (read at run time; `$PROJECT_NUMBER` in the script). */
export const PROJECT_NUMBER = '{PROJECT_NUMBER}';
/** A placeholder for a file the plan writes before a command reads it (`{FILE:name}`). */
const file = (name: string) => `{FILE:${name}}`;

export interface BootstrapStep {
  readonly title: string;
  /** A command that succeeds when the thing already exists (then `run` is skipped). */
  readonly unless?: readonly string[];
  readonly run: readonly (readonly string[])[];
}

export interface BootstrapPlan {
  readonly project: string;
  readonly steps: readonly BootstrapStep[];
  /** Files the commands read (`{FILE:name}`), by name. */
  readonly files: Readonly<Record<string, string>>;
  /** What to put in the environment's definition afterwards. */
  readonly deploy: { serviceAccount: string; workloadIdentityProvider: string; planServiceAccount?: string };
}

export interface BootstrapInputs {
  readonly environment: Environment;
  /** `owner/name` of the GitHub repository whose workflows may deploy. */
  readonly repository: string;
  /** The deploy account's roles (deployerRoles of the environment's stack). */
  readonly roles: readonly string[];
  /** The roles the stack grants at project level (the deployer may grant these only). */
  readonly projectGrants: readonly string[];
}

export const DEFAULT_POOL = 'currents-github';
export const DEFAULT_PROVIDER = 'github';
export const PLANNER_ROLES = ['roles/iam.securityReviewer', 'roles/viewer'];

const accountProject = (email: string) => email.split('@')[1]!.replace(/\.iam\.gserviceaccount\.com$/, '');
const accountId = (email: string) => email.split('@')[0]!;

/** The APIs enabled first (the stack's own google_project_service needs Service Usage and Resource Manager on). */
export function bootstrapApis(): string[] {
  const first = ['serviceusage.googleapis.com', 'cloudresourcemanager.googleapis.com'];
  const wif = ['iamcredentials.googleapis.com', 'sts.googleapis.com'];
  return [...new Set([...first, ...Object.values(PROJECT_SERVICES), ...wif])];
}

function accountSteps(email: string, displayName: string, roles: readonly string[], project: string): BootstrapStep[] {
  const sa = ['--project', accountProject(email)];
  return [
    {
      title: `service account ${email}`,
      unless: ['gcloud', 'iam', 'service-accounts', 'describe', email, ...sa],
      run: [['gcloud', 'iam', 'service-accounts', 'create', accountId(email), ...sa, `--display-name=${displayName}`]],
    },
    {
      title: `roles of ${email} on project ${project}: ${roles.join(', ')}`,
      run: roles.map((role) => [
        'gcloud',
        'projects',
        'add-iam-policy-binding',
        project,
        `--member=serviceAccount:${email}`,
        `--role=${role}`,
        ...(role === PROJECT_IAM_ADMIN
          ? [`--condition-from-file=${file('grant-condition.json')}`]
          : ['--condition=None']),
        '--format=none',
      ]),
    },
  ];
}

/** The whole plan for one environment. */
export function bootstrapPlan(inputs: BootstrapInputs): BootstrapPlan {
  const { environment: env, repository } = inputs;
  const project = env.project;
  const p = ['--project', project];
  const deployer = env.deploy?.serviceAccount ?? `currents-deployer@${project}.iam.gserviceaccount.com`;
  const planner = env.deploy?.planServiceAccount;
  const named = /workloadIdentityPools\/([^/]+)\/providers\/([^/]+)$/.exec(env.deploy?.workloadIdentityProvider ?? '');
  const [pool, provider] = named ? [named[1]!, named[2]!] : [DEFAULT_POOL, DEFAULT_PROVIDER];
  const poolPath = `projects/${PROJECT_NUMBER}/locations/global/workloadIdentityPools/${pool}`;
  const wif = ['--workload-identity-pool', pool, '--location=global', ...p];
  const steps: BootstrapStep[] = [
    { title: 'the APIs', run: [['gcloud', 'services', 'enable', ...bootstrapApis(), ...p]] },
  ];
  if (env.backend) {
    const bucket = `gs://${env.backend.bucket}`;
    steps.push(
      {
        title: `Terraform state bucket ${bucket}`,
        unless: ['gcloud', 'storage', 'buckets', 'describe', bucket, ...p, '--format=none'],
        run: [
          ['gcloud', 'storage', 'buckets', 'create', bucket, ...p, `--location=${env.region}`].concat([
            '--uniform-bucket-level-access',
            '--public-access-prevention',
          ]),
        ],
      },
      { title: `versioning of ${bucket}`, run: [['gcloud', 'storage', 'buckets', 'update', bucket, '--versioning']] },
    );
  }
  steps.push(...accountSteps(deployer, `Currents deployer (${env.name})`, inputs.roles, project));
  if (planner) {
    steps.push(...accountSteps(planner, `Currents read-only planner (${env.name})`, PLANNER_ROLES, project));
    if (env.backend) {
      steps.push({
        title: `${planner} reads the state in gs://${env.backend.bucket}`,
        run: [
          ['gcloud', 'storage', 'buckets', 'add-iam-policy-binding', `gs://${env.backend.bucket}`].concat([
            `--member=serviceAccount:${planner}`,
            '--role=roles/storage.objectViewer',
            '--format=none',
          ]),
        ],
      });
    }
  }
  const condition = `assertion.repository == '${repository}'`;
  const providerFlags = [
    '--issuer-uri=https://token.actions.githubusercontent.com',
    '--attribute-mapping=google.subject=assertion.sub,attribute.repository=assertion.repository,attribute.ref=assertion.ref',
    `--attribute-condition=${condition}`,
  ];
  steps.push(
    {
      title: `Workload Identity pool ${pool}`,
      unless: ['gcloud', 'iam', 'workload-identity-pools', 'describe', pool, '--location=global', ...p],
      run: [['gcloud', 'iam', 'workload-identity-pools', 'create', pool, '--location=global', ...p]],
    },
    {
      title: `GitHub provider ${provider}, for ${repository} only`,
      unless: ['gcloud', 'iam', 'workload-identity-pools', 'providers', 'describe', provider, ...wif],
      run: [
        ['gcloud', 'iam', 'workload-identity-pools', 'providers', 'create-oidc', provider, ...wif, ...providerFlags],
      ],
    },
    {
      title: `the provider admits ${repository} only (applied again: a renamed repository is taken)`,
      run: [
        ['gcloud', 'iam', 'workload-identity-pools', 'providers', 'update-oidc', provider, ...wif, ...providerFlags],
      ],
    },
    impersonation(deployer, `${poolPath}/attribute.ref/refs/heads/main`, "the repository's main branch deploys"),
  );
  if (planner)
    steps.push(impersonation(planner, `${poolPath}/attribute.repository/${repository}`, 'its workflows plan'));
  return {
    project,
    steps,
    files: {
      'grant-condition.json': JSON.stringify({
        title: 'currents-stack-grants-only',
        description: 'The deployer grants only the roles the Currents stack grants at project level',
        expression: grantCondition(inputs.projectGrants),
      }),
    },
    deploy: {
      serviceAccount: deployer,
      workloadIdentityProvider: `${poolPath}/providers/${provider}`,
      ...(planner ? { planServiceAccount: planner } : {}),
    },
  };
}

function impersonation(email: string, principalSet: string, why: string): BootstrapStep {
  return {
    title: `${email} may be impersonated through the pool (${why})`,
    run: [
      ['gcloud', 'iam', 'service-accounts', 'add-iam-policy-binding', email, '--project', accountProject(email)].concat(
        [
          '--role=roles/iam.workloadIdentityUser',
          `--member=principalSet://iam.googleapis.com/${principalSet}`,
          '--format=none',
        ],
      ),
    ],
  };
}

const shellQuote = (a: string) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`);

/** The plan as a runnable shell script (`--dry-run`): every command, each guarded step behind its check. */
export function planScript(plan: BootstrapPlan): string {
  const arg = (a: string) =>
    a.includes(PROJECT_NUMBER) || a.includes('{FILE:')
      ? `"${a.replace(PROJECT_NUMBER, '$PROJECT_NUMBER').replace(/\{FILE:([^}]+)\}/, '$WORK/$1')}"`
      : shellQuote(a);
  const cmd = (argv: readonly string[]) => argv.map(arg).join(' ');
  const lines = [
    '#!/usr/bin/env bash',
    `# currents bootstrap of project ${plan.project}: idempotent (run it again: what exists is kept)`,
    'set -euo pipefail',
    `PROJECT_NUMBER=$(gcloud projects describe ${plan.project} --format='value(projectNumber)')`,
    'WORK=$(mktemp -d)',
  ];
  for (const [name, text] of Object.entries(plan.files)) lines.push(`cat > "$WORK/${name}" <<'EOF'`, text, 'EOF');
  for (const step of plan.steps) {
    lines.push('', `# ${step.title}`);
    if (step.unless) {
      lines.push(`if ! ${cmd(step.unless)} >/dev/null 2>&1; then`, ...step.run.map((r) => `  ${cmd(r)}`), 'fi');
    } else lines.push(...step.run.map(cmd));
  }
  return `${lines.join('\n')}\n`;
}

/** Runs one command (gcloud), answering its exit code and output. */
export type CommandRunner = (argv: readonly string[]) => Promise<{ code: number; stdout: string; stderr: string }>;

/**
 * Runs the plan: reads the project number, then each step (skipped when its check succeeds), saying what it does.
 * Throws on the first command that fails, naming it and what gcloud said.
 */
export async function runPlan(
  plan: BootstrapPlan,
  deps: { run: CommandRunner; out: (line: string) => void; writeFile: (name: string, text: string) => string },
): Promise<{ projectNumber: string; created: number; kept: number }> {
  const number = await deps.run(['gcloud', 'projects', 'describe', plan.project, '--format=value(projectNumber)']);
  const projectNumber = number.stdout.trim();
  if (number.code !== 0 || !/^\d+$/.test(projectNumber)) {
    throw new Error(
      `cannot read project ${plan.project} (${number.stderr.trim().split('\n')[0] || `exit ${number.code}`}): ` +
        'does it exist, and are you signed in (gcloud auth login) with rights to set it up?',
    );
  }
  const paths = Object.fromEntries(Object.entries(plan.files).map(([n, t]) => [n, deps.writeFile(n, t)]));
  const resolve = (argv: readonly string[]) =>
    argv.map((a) => a.replace(PROJECT_NUMBER, projectNumber).replace(/\{FILE:([^}]+)\}/, (_, n: string) => paths[n]!));
  let created = 0;
  let kept = 0;
  for (const step of plan.steps) {
    if (step.unless && (await deps.run(resolve(step.unless))).code === 0) {
      deps.out(`✓ exists: ${step.title}`);
      kept++;
      continue;
    }
    deps.out(`+ ${step.title}`);
    for (const argv of step.run.map(resolve)) {
      const r = await deps.run(argv);
      if (r.code !== 0) {
        throw new Error(`${argv.slice(0, 5).join(' ')} … failed (exit ${r.code}): ${r.stderr.trim().split('\n')[0]}`);
      }
    }
    created++;
  }
  return { projectNumber, created, kept };
}
