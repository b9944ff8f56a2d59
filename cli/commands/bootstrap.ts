/**
 * `currents bootstrap --env ENV [--repository OWNER/NAME] [--dry-run] [PATH]`: sets up an environment's project for CI
 * (cli/ops/bootstrap.ts says what, step by step). The deploy account's roles come from the environment's own stack,
 * synthesized in memory (infra/deployer-roles.ts). `--dry-run` prints the plan as a shell script and touches nothing
 * (offline); otherwise gcloud runs with your credentials, and what exists is kept.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deployerRoles, projectGrantedRoles, synthesizeForRoles } from '../../infra/deployer-roles';
import { parse, UsageError } from '../../common/args';
import * as specs from '../specs';
import { loadEnvironmentsOrThrow, pick } from '../../common/definitions';
import { bootstrapPlan, type CommandRunner, planScript, runPlan } from '../ops/bootstrap';

/** `owner/name` of a GitHub remote URL (https or ssh), or undefined. */
export function githubRepository(url: string): string | undefined {
  const m = /github\.com[:/]([\w.-]+)\/([\w.-]+?)(\.git)?\/?$/.exec(url.trim());
  return m ? `${m[1]}/${m[2]}` : undefined;
}

const REPOSITORY = /^[\w.-]+\/[\w.-]+$/;

function repositoryOf(given: string | undefined): string {
  if (given !== undefined) {
    if (!REPOSITORY.test(given)) throw new UsageError(`--repository must be OWNER/NAME (got '${given}')`);
    return given;
  }
  const origin = spawnSync('git', ['remote', 'get-url', 'origin'], { encoding: 'utf8' });
  const found = origin.status === 0 ? githubRepository(origin.stdout) : undefined;
  if (!found) {
    throw new UsageError(
      "--repository OWNER/NAME is required: the git remote 'origin' is not a GitHub repository (only its workflows may deploy)",
    );
  }
  return found;
}

const gcloud: CommandRunner = (argv) =>
  new Promise((resolve) => {
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', (err) => resolve({ code: 127, stdout, stderr: `${argv[0]}: ${err.message}` }));
    child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
  });

export async function run(
  argv: string[],
  deps: { run?: CommandRunner; out?: (line: string) => void } = {},
): Promise<number> {
  const { positionals, values } = parse(specs.bootstrap, argv);
  if (!values.env) throw new UsageError('--env is required (the environment whose project to set up)');
  const out = deps.out ?? ((l: string) => console.log(l));
  const { environment } = pick(loadEnvironmentsOrThrow(values.definitions ?? positionals[0]), values.env);
  const repository = repositoryOf(values.repository);
  const stack = synthesizeForRoles(environment);
  const plan = bootstrapPlan({
    environment,
    repository,
    roles: deployerRoles(stack),
    projectGrants: projectGrantedRoles(stack),
  });
  const deployBlock = (provider: string) =>
    [
      `Put into environment '${environment.name}' (then CI deploys it with this identity):`,
      '  deploy: {',
      `    serviceAccount: '${plan.deploy.serviceAccount}',`,
      `    workloadIdentityProvider: '${provider}',`,
      ...(plan.deploy.planServiceAccount ? [`    planServiceAccount: '${plan.deploy.planServiceAccount}',`] : []),
      '  },',
      ...(environment.backend ? [] : ["  backend: { bucket: '<a bucket name>', prefix: 'currents-segment' },"]),
    ].join('\n');
  if (values.dryRun) {
    out(planScript(plan).trimEnd());
    const block = deployBlock(plan.deploy.workloadIdentityProvider.replace('{PROJECT_NUMBER}', '<PROJECT_NUMBER>'));
    out(`\n${block.replace(/^/gm, '# ')}`);
    return 0;
  }
  const work = mkdtempSync(join(tmpdir(), 'currents-bootstrap-'));
  const result = await runPlan(plan, {
    run: deps.run ?? gcloud,
    out,
    writeFile: (name, text) => {
      const path = join(work, name);
      writeFileSync(path, text);
      return path;
    },
  });
  out(`\nProject ${plan.project} (${result.projectNumber}): ${result.created} step(s) applied, ${result.kept} kept.`);
  out(deployBlock(plan.deploy.workloadIdentityProvider.replace('{PROJECT_NUMBER}', result.projectNumber)));
  return 0;
}
