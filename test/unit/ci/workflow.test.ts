/**
 * The deploy workflow (.github/workflows/connectors.yml) takes everything environment-specific from the definitions:
 * its jobs run over the lists `currents environments --github-output` prints, no environment, project or account is
 * written in it, and the pull-request job installs what `npm test` needs on a hosted runner.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { load } from 'js-yaml';

const ROOT = join(__dirname, '..', '..', '..');
const WORKFLOW = join(ROOT, '.github', 'workflows', 'connectors.yml');
const text = readFileSync(WORKFLOW, 'utf8');

interface Step {
  uses?: string;
  run?: string;
  id?: string;
  with?: Record<string, unknown>;
  env?: Record<string, string>;
}
interface Job {
  needs?: string | string[];
  if?: string;
  outputs?: Record<string, string>;
  strategy?: { matrix?: Record<string, unknown> };
  steps: Step[];
}
const workflow = load(text) as { jobs: Record<string, Job> };
const jobs = workflow.jobs;
const uses = (job: Job, action: string) => job.steps.find((s) => s.uses?.startsWith(`${action}@`));
const runs = (job: Job) => job.steps.map((s) => s.run ?? '').join('\n');

/** Runs `currents environments --github-output` on the fixture definitions; returns its key=JSON lines parsed. */
function githubOutput(definitions?: string): Record<string, Record<string, string>[]> {
  const bin = join(ROOT, 'bin', 'currents.js');
  const r = spawnSync(
    process.execPath,
    [bin, 'environments', '--github-output', ...(definitions ? [definitions] : [])],
    {
      encoding: 'utf8',
    },
  );
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return Object.fromEntries(
    r.stdout
      .trim()
      .split('\n')
      .map((l) => [l.slice(0, l.indexOf('=')), JSON.parse(l.slice(l.indexOf('=') + 1))]),
  );
}

describe('the deploy workflow', () => {
  it('lists the environments from the definitions, in a job every other job needs', () => {
    const list = jobs.environments!;
    expect(list.steps.find((s) => s.id === 'list')!.run).toMatch(
      /^npx currents environments --github-output .*>> "\$GITHUB_OUTPUT"$/,
    );
    expect(Object.keys(list.outputs!).sort()).toEqual(['all', 'deploy', 'plan']);
    for (const name of ['deploy', 'terraform-plan']) {
      expect(jobs[name]!.needs).toBe('environments');
      expect(jobs[name]!.strategy!.matrix).toEqual({
        include: `\${{ fromJSON(needs.environments.outputs.${name === 'deploy' ? 'deploy' : 'plan'}) }}`,
      });
    }
  });

  it('names no environment, project or account: the identities come from each matrix entry', () => {
    expect(text).not.toMatch(/replace-me|iam\.gserviceaccount\.com|workloadIdentityPools\/|projects\/\d+/);
    expect(text).not.toMatch(/fromJSON\('\[/); // no literal list of environments
    for (const name of ['deploy', 'terraform-plan']) {
      expect(uses(jobs[name]!, 'google-github-actions/auth')!.with).toEqual({
        workload_identity_provider: '${{ matrix.workloadIdentityProvider }}',
        service_account: '${{ matrix.serviceAccount }}',
      });
    }
    expect(runs(jobs.deploy!)).toContain('npx cdktf deploy ${{ matrix.environment }} --auto-approve');
  });

  it('gets matrix entries with every field it reads, and a deploy entry only for an environment with remote state', () => {
    const out = githubOutput();
    const read = [...new Set([...text.matchAll(/matrix\.(\w+)/g)].map((m) => m[1]!))].sort();
    expect(read).toEqual(['environment', 'serviceAccount', 'stateBucket', 'workloadIdentityProvider']);
    // The fixture: prod is deployed and planned; dev is a person's own (no deploy, local state).
    expect(out.all!.map((e) => e.environment)).toEqual(['dev', 'prod']);
    expect(out.deploy!.map((e) => e.environment)).toEqual(['prod']);
    expect(out.plan!.map((e) => e.environment)).toEqual(['prod']);
    for (const entry of [...out.deploy!, ...out.plan!]) {
      for (const field of read) expect(entry[field]).toEqual(expect.any(String));
    }
    expect(out.deploy![0]!.serviceAccount).toBe('currents-deployer@replace-me-prod.iam.gserviceaccount.com');
    expect(out.plan![0]!.serviceAccount).toBe('currents-planner@replace-me-prod.iam.gserviceaccount.com');
    expect(out.deploy![0]!.stateBucket).toBe('replace-me-prod-tfstate');
  });

  it("installs what the pull request's tests need on a hosted runner: Java 17, gcloud's emulators, Terraform", () => {
    const pr = jobs.test!;
    expect(pr.if).toBe("github.event_name == 'pull_request'");
    const test = pr.steps.findIndex((s) => s.run === 'npm test');
    expect(test).toBeGreaterThan(0);
    const before = (action: string) => pr.steps.findIndex((s) => s.uses?.startsWith(`${action}@`));
    for (const action of ['actions/setup-java', 'google-github-actions/setup-gcloud', 'hashicorp/setup-terraform']) {
      expect(before(action)).toBeGreaterThanOrEqual(0);
      expect(before(action)).toBeLessThan(test);
    }
    expect(Number(uses(pr, 'actions/setup-java')!.with!['java-version'])).toBeGreaterThanOrEqual(17);
    // The components the emulator harness looks for (platform/<component>), and `beta` (it starts them with it).
    const harness = readFileSync(join(ROOT, 'local', 'emulators.ts'), 'utf8');
    const needed = [...harness.matchAll(/platform\/([a-z-]+)/g)].map((m) => m[1]!);
    expect(needed.length).toBeGreaterThanOrEqual(2);
    const components = String(uses(pr, 'google-github-actions/setup-gcloud')!.with!.install_components).split(',');
    expect(components.sort()).toEqual(['beta', ...new Set(needed)].sort());
    expect(harness).toMatch(/'beta', 'emulators'/);
  });

  it('plans for real only with a planning identity, never for a fork, and without locking the state', () => {
    const plan = jobs['terraform-plan']!;
    expect(plan.if).toContain("needs.environments.outputs.plan != '[]'");
    expect(plan.if).toContain('github.event.pull_request.head.repo.full_name == github.repository');
    expect(runs(plan)).toMatch(/terraform plan -input=false -lock=false/);
  });
});
