/**
 * The team's definitions (connectors/, from its index) are user data: this is the one test that reads them, and it checks
 * whatever they hold: they validate, every environment synthesizes, an environment CI deploys keeps its state in its
 * bucket, every resource type has its deployer role, and CI's environment list, the plan summary and the bootstrap's
 * dry run cover every environment. The same checks run on a team's first real change (every placeholder replaced and a
 * `staging` environment with one connector added, derived from whatever connectors/ holds), and no other test, local
 * run or benchmark may read connectors/.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { Testing } from 'cdktf';
import { run as bootstrap } from '../../../cli/commands/bootstrap';
import { loadDefinitionInputs, REPOSITORY_DEFINITIONS } from '../../../common/definitions';
import { defineEnvironments } from '../../../infra/app';
import { checkTerraformJson, formatProblems, type TerraformJson } from '../../../infra/terraform-check';
import { deployerRoles, type StackJson } from '../../../infra/deployer-roles';
import { formatValidationError, validateEnvironments } from '../../../shared/connector';
import { fixtureArchives } from '../../support/infra/helpers';

const ROOT = join(__dirname, '..', '..', '..');
const BIN = join(ROOT, 'bin', 'currents.js');
const cli = (...args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8' });

/** Every check, on the definitions module `file`. */
async function checkDefinitions(file: string): Promise<string[]> {
  const inputs = loadDefinitionInputs(file);
  const { environments, errors } = validateEnvironments(inputs);
  expect(errors.map(formatValidationError)).toEqual([]);
  expect(environments.length).toBeGreaterThan(0);
  const names = environments.map((e) => e.name);

  const { stacks } = defineEnvironments(Testing.app(), inputs, fixtureArchives());
  for (const [i, env] of environments.entries()) {
    const json = JSON.parse(Testing.synth(stacks[i]!)) as StackJson & { terraform: { backend: unknown } };
    expect(deployerRoles(json).length).toBeGreaterThan(0); // throws on a resource type without a role
    // Terraform's own offline parse and validate (infra/terraform-check.ts), as for the product's fixtures.
    const checked = checkTerraformJson(json as unknown as TerraformJson);
    expect(formatProblems(checked.problems)).toBe('');
    expect(checked.valid).toBe(true);
    if (env.deploy) {
      expect(json.terraform.backend).toEqual({ gcs: { bucket: env.backend!.bucket, prefix: expect.any(String) } });
    }
  }

  const listed = cli('environments', '--github-output', file);
  expect(listed.stderr).toBe('');
  const lines = Object.fromEntries(
    listed.stdout
      .trim()
      .split('\n')
      .map((l) => l.split(/=(.*)/s)),
  );
  const envsOf = (key: string) => (JSON.parse(lines[key]!) as { environment: string }[]).map((e) => e.environment);
  expect(envsOf('all')).toEqual(names);
  expect(envsOf('deploy')).toEqual(environments.filter((e) => e.deploy).map((e) => e.name));

  const summary = cli('plan-summary', file, '--no-resources');
  expect(summary.status).toBe(0);
  for (const name of names) expect(summary.stdout).toContain(`### Environment \`${name}\``);

  for (const env of environments) {
    const out: string[] = [];
    const argv = ['--env', env.name, '--dry-run', '--repository', 'acme/currents', file];
    expect(await bootstrap(argv, { out: (l) => out.push(l) })).toBe(0);
    const script = out.join('\n');
    expect(script).toContain(`gcloud services enable serviceusage.googleapis.com`);
    expect(script).toContain(`--project ${env.project}`);
    if (env.backend) expect(script).toContain(`gcloud storage buckets update gs://${env.backend.bucket} --versioning`);
  }
  return names;
}

describe("the team's definitions (connectors/, from its index), whatever they hold", () => {
  it('validate, synthesize, and are covered by CI, the plan summary and the bootstrap', async () => {
    await checkDefinitions(REPOSITORY_DEFINITIONS);
  });

  it("still pass after a team's first change: every placeholder replaced, a staging environment added", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'currents-team-'));
    const source = join(ROOT, 'connectors');
    cpSync(source, dir, { recursive: true });
    for (const f of filesUnder(dir).filter((f) => /\.[cm]?[jt]s$/.test(f))) {
      const text = readFileSync(f, 'utf8')
        .replace(/(from\s+['"])((?:\.\.\/)+)/g, (m, from: string, up: string) => {
          const target = join(source, relative(dir, join(f, '..')), up);
          return target.startsWith(source) ? m : `${from}${target}/`;
        })
        .replace(/replace-me/g, 'acme');
      writeFileSync(f, text);
    }
    const existing = loadDefinitionInputs(join(dir, 'index.ts')) as { name: string }[];
    const name = existing.some((e) => e.name === 'staging') ? 'staging2' : 'staging';
    writeFileSync(join(dir, 'all.ts'), stagingModule(name));
    const names = await checkDefinitions(join(dir, 'all.ts'));
    expect(names).toEqual([...existing.map((e) => e.name), name]);
    expect(readFileSync(join(dir, 'index.ts'), 'utf8')).not.toContain('replace-me');
  });
});

describe('no other test, local run or benchmark reads connectors/', () => {
  it('imports or joins no path into connectors/', () => {
    const offenders = ['test', 'local', 'bench']
      .flatMap((d) => filesUnder(join(ROOT, d)))
      .filter((f) => f.endsWith('.ts') && f !== __filename)
      .filter((f) =>
        /(['"`])(\.\.\/)+connectors(\/[^'"`]*)?\1|join\([^)]*['"]connectors['"]/.test(readFileSync(f, 'utf8')),
      )
      .map((f) => relative(ROOT, f));
    expect(offenders).toEqual([]);
  });
});

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? (n === 'node_modules' ? [] : filesUnder(p)) : [p];
  });
}

/** The team's environments plus a new one with one connector (an EU connector placed in the EU, deployed by CI). */
function stagingModule(name: string): string {
  return `import { defineEnvironment } from '${join(ROOT, 'shared', 'connector')}';
import * as team from './index';
import { environmentsOfModule } from '${join(ROOT, 'common', 'definitions')}';

const staging = defineEnvironment({
  name: '${name}',
  project: 'acme-currents-${name}',
  region: 'europe-west4',
  backend: { bucket: 'acme-currents-${name}-tfstate', prefix: 'currents-segment' },
  deploy: {
    serviceAccount: 'currents-deployer@acme-currents-${name}.iam.gserviceaccount.com',
    workloadIdentityProvider: 'projects/424242424242/locations/global/workloadIdentityPools/currents-github/providers/github',
  },
  connectors: [
    {
      name: 'orders-stg',
      displayName: 'Staging orders',
      contactEmail: 'staging@acme.example',
      workspace: 'acme-staging',
      segment: { region: 'eu', credential: { kind: 'writeKey' }, sourceId: 'acme-staging-source' },
      events: ['email'],
    },
  ],
});

export const environments = [...environmentsOfModule(team), staging];
`;
}
