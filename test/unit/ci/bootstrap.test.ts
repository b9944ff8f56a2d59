/**
 * `currents bootstrap`: the deployer's roles come from the resource types a synthesized stack declares (every type of a
 * stack with every feature on has one, and a new type without one fails), the plan is idempotent against a project
 * where things exist, the dry run is an offline script, and docs/deploying.md prints the same roles as the code.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Testing } from 'cdktf';
import { run as bootstrap } from '../../../cli/commands/bootstrap';
import { bootstrapPlan, planScript, runPlan, type CommandRunner } from '../../../cli/ops/bootstrap';
import { defineEnvironments } from '../../../infra/app';
import {
  DEPLOYER_ROLE_TABLE,
  deployerRoles,
  grantCondition,
  projectGrantedRoles,
  stackTypes,
  synthesizeForRoles,
  UnknownResourceTypeError,
  type StackJson,
} from '../../../infra/deployer-roles';
import { loadEnvironments } from '../../../shared/connector';
import { buildServiceAccountId } from '../../../shared/names';
import { BUILD_ROLES } from '../../../infra/environment-identities';

/** What the stack grants at project level: its build account's roles and the connectors' conditioned datastore.user. */
const PROJECT_GRANTS = [...BUILD_ROLES, 'roles/datastore.user'].sort();
import { connector } from '../../fixtures/connector';
import { environments as fixture } from '../../fixtures/definitions';
import { fixtureArchives } from '../../support/infra/helpers';

/** An environment with every feature: a source check (Public API secret), OAuth, a storage import, a remote state. */
const everything = loadEnvironments([
  {
    name: 'full',
    project: 'acme-full',
    region: 'us-central1',
    backend: { bucket: 'acme-full-tfstate', prefix: 'currents' },
    deploy: {
      serviceAccount: 'currents-deployer@acme-full.iam.gserviceaccount.com',
      workloadIdentityProvider: 'projects/42/locations/global/workloadIdentityPools/gh-pool/providers/gh-repo',
      planServiceAccount: 'currents-planner@acme-full.iam.gserviceaccount.com',
    },
    connectors: [
      connector('checked', { segment: { region: 'us', credential: { kind: 'writeKey' }, sourceId: 'src' } }),
      connector('oauth', { segment: { region: 'us', credential: { kind: 'oauth', appId: 'a', keyId: 'k' } } }),
      connector('imported', {
        location: 'europe-west1',
        storage: { bucket: 'braze-export', prefix: 'c' },
        events: ['sms'],
      }),
    ],
  },
])[0]!;

const synthesized = (() => {
  const { stacks } = defineEnvironments(Testing.app(), [everything], fixtureArchives());
  return JSON.parse(Testing.synth(stacks[0]!)) as StackJson;
})();

describe("the deployer's roles", () => {
  it('cover every resource and data source type of a stack with every feature on', () => {
    const types = stackTypes(synthesized);
    expect(types).toEqual(expect.arrayContaining(['resource.google_storage_notification', 'data.google_project']));
    for (const t of types) {
      expect(DEPLOYER_ROLE_TABLE[t]).toBeDefined();
      // Every Google resource needs a role; a time_sleep calls no API.
      if (t.includes('google_')) expect(DEPLOYER_ROLE_TABLE[t]!.roles.length).toBeGreaterThan(0);
    }
    expect(deployerRoles(synthesized)).toEqual(
      [...new Set(types.flatMap((t) => DEPLOYER_ROLE_TABLE[t]!.roles))].sort(),
    );
    // Never a basic role: no owner, editor or viewer for the deployer.
    expect(deployerRoles(synthesized).filter((r) => /^roles\/(owner|editor|viewer)$/.test(r))).toEqual([]);
  });

  it('name a resource type that has no role, and how to add it', () => {
    const json = { ...synthesized, resource: { ...synthesized.resource, google_compute_network: {} } };
    expect(() => deployerRoles(json)).toThrow(UnknownResourceTypeError);
    expect(() => deployerRoles(json)).toThrow(
      'no deployer role for resource.google_compute_network: add it to DEPLOYER_ROLE_TABLE (infra/deployer-roles.ts)',
    );
  });

  it('are read from the stack the bootstrap synthesizes alone (stand-in archives), the same as a real synth', () => {
    const alone = synthesizeForRoles(everything);
    expect(stackTypes(alone)).toEqual(stackTypes(synthesized));
    expect(projectGrantedRoles(alone)).toEqual(PROJECT_GRANTS);
  });

  it('are the table docs/deploying.md prints', () => {
    const doc = readFileSync(join(__dirname, '..', '..', '..', 'docs', 'deploying.md'), 'utf8');
    const rows = [...doc.matchAll(/^\| `((?:resource|data)\.[a-z0-9_]+)` +\| ([^|]+) \|/gm)].map(
      (m) => [m[1], m[2]!.trim()] as const,
    );
    expect(Object.fromEntries(rows)).toEqual(
      Object.fromEntries(
        Object.entries(DEPLOYER_ROLE_TABLE).map(([t, v]) => [t, v.roles.map((r) => `\`${r}\``).join(', ')]),
      ),
    );
  });
});

describe('currents bootstrap', () => {
  const plan = bootstrapPlan({
    environment: everything,
    repository: 'acme/currents',
    roles: deployerRoles(synthesized),
    projectGrants: projectGrantedRoles(synthesized),
  });

  it('--dry-run prints a script with every role, the versioned bucket and the pool restricted to the repository', async () => {
    const out: string[] = [];
    const defs = join(__dirname, '..', '..', 'fixtures', 'definitions', 'index.ts');
    expect(
      await bootstrap(['--env', 'prod', '--dry-run', '--repository', 'acme/currents', defs], {
        out: (l) => out.push(l),
      }),
    ).toBe(0);
    const script = out.join('\n');
    expect(script.startsWith('#!/usr/bin/env bash\n')).toBe(true);
    for (const role of deployerRoles(synthesizeForRoles(loadEnvironments(fixture).find((e) => e.name === 'prod')!))) {
      expect(script).toContain(
        `add-iam-policy-binding replace-me-prod --member=serviceAccount:currents-deployer@replace-me-prod.iam.gserviceaccount.com --role=${role} `,
      );
    }
    expect(script).toContain('gcloud storage buckets update gs://replace-me-prod-tfstate --versioning');
    expect(script).toContain("'--attribute-condition=assertion.repository == '\\''acme/currents'\\'''");
    expect(script).toContain('workloadIdentityPools/currents-github/attribute.ref/refs/heads/main');
    expect(script).toMatch(/^# {3}deploy: \{$/m);
  });

  it('leaves the build account to the stack, which builds every function as it', () => {
    const functions = Object.values(synthesized.resource!.google_cloudfunctions2_function!);
    // 3 connectors × (function + receiver) + 1 importer + its connector's backfill function and backfill importer
    expect(functions.length).toBe(9);
    const accounts = synthesized.resource!.google_service_account!;
    const [buildSa] = Object.entries(accounts).filter(([, a]) => a.account_id === buildServiceAccountId('full'));
    expect(buildSa).toBeDefined();
    for (const f of functions) {
      expect((f.build_config as { service_account?: string }).service_account).toBe(
        `\${google_service_account.${buildSa![0]}.id}`,
      );
    }
    expect(planScript(plan)).not.toContain('gcloud iam service-accounts create cs-build');
  });

  it('limits the deployer to granting the roles the stack grants', () => {
    expect(JSON.parse(plan.files['grant-condition.json']!).expression).toBe(grantCondition(PROJECT_GRANTS));
    expect(planScript(plan)).toContain(
      '--role=roles/resourcemanager.projectIamAdmin "--condition-from-file=$WORK/grant-condition.json"',
    );
  });

  it('creates what is missing, keeps what exists, and is the same on a second run', async () => {
    const existing = new Set<string>();
    const calls: string[][] = [];
    const fake: CommandRunner = async (argv) => {
      calls.push([...argv]);
      const line = argv.join(' ');
      if (line.startsWith('gcloud projects describe')) return { code: 0, stdout: '4242\n', stderr: '' };
      // A service account is created by id and described by email: both name it by its id here.
      const what = / (describe|create|create-oidc) ([^\s@]+)/.exec(line);
      if (what?.[1] === 'describe') return { code: existing.has(what[2]!) ? 0 : 1, stdout: '', stderr: 'NOT_FOUND' };
      if (what) existing.add(what[2]!);
      return { code: 0, stdout: '', stderr: '' };
    };
    const deps = { run: fake, out: () => undefined, writeFile: (n: string) => `/tmp/${n}` };
    const first = await runPlan(plan, deps);
    expect(first.kept).toBe(0);
    const createdFirst = calls.filter((c) => c.includes('create') || c.includes('create-oidc')).length;
    expect(createdFirst).toBe(5); // bucket, deployer, planner, pool, provider (the build account is the stack's)
    expect(calls.flat()).toContain(
      '--member=principalSet://iam.googleapis.com/projects/4242/locations/global/workloadIdentityPools/gh-pool/attribute.ref/refs/heads/main',
    );
    expect(calls.flat()).toContain('--condition-from-file=/tmp/grant-condition.json');
    calls.length = 0;
    const second = await runPlan(plan, deps);
    expect(second.kept).toBe(5);
    expect(calls.filter((c) => c.includes('create') || c.includes('create-oidc'))).toEqual([]);
  });

  it('stops at the first failing command and says which, and what gcloud said', async () => {
    const fail: CommandRunner = async (argv) =>
      argv[2] === 'describe' && argv[1] === 'projects'
        ? { code: 0, stdout: '1\n', stderr: '' }
        : argv.includes('enable')
          ? { code: 1, stdout: '', stderr: 'PERMISSION_DENIED: serviceusage.services.enable\nmore' }
          : { code: 0, stdout: '', stderr: '' };
    await expect(runPlan(plan, { run: fail, out: () => undefined, writeFile: (n) => n })).rejects.toThrow(
      'gcloud services enable serviceusage.googleapis.com cloudresourcemanager.googleapis.com … failed (exit 1): PERMISSION_DENIED: serviceusage.services.enable',
    );
    const noProject: CommandRunner = async () => ({ code: 1, stdout: '', stderr: 'ERROR: not found' });
    await expect(runPlan(plan, { run: noProject, out: () => undefined, writeFile: (n) => n })).rejects.toThrow(
      /^cannot read project acme-full \(ERROR: not found\): does it exist, and are you signed in/,
    );
  });
});
