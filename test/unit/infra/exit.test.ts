/**
 * Leaving CDKTF (docs/deploying.md, "Leaving CDKTF"): the supported plain-Terraform form is the stack directory synth
 * writes, `cdktf.out/stacks/<env>/` (cdk.tf.json and its assets/), which Terraform reads natively. Here each
 * environment's directory, as `App.synth()` writes it, is copied elsewhere (as a team copies it into its own Terraform
 * tree) and must still be a complete root module: Terraform's offline check passes on the copied file, every file it
 * uploads is inside the directory, nothing in it names the machine or checkout it was synthesized on, and
 * `npm run check:terraform -- <dir>` (what a team's CI keeps running after leaving) checks it.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { App } from 'cdktf';
import { defineEnvironments } from '../../../infra/app';
import { REPO_ROOT } from '../../../infra/runtime-archive';
import { baseFromSynthDir } from '../../../infra/summary/base';
import { checkTerraformJson, formatProblems, type TerraformJson } from '../../../infra/terraform-check';
import { environments as fixtures } from '../../support/infra/fixtures/environments';
import { fixtureArchives, type SynthJson } from '../../support/infra/helpers';

const outdir = mkdtempSync(join(tmpdir(), 'currents-exit-synth-'));
const app = new App({ outdir, skipValidation: false });
const { environments } = defineEnvironments(app, fixtures, fixtureArchives());
app.synth();

it('lets the plan summary read the connectors back from the synthesized directory as they were defined', () => {
  const base = baseFromSynthDir(outdir);
  const typed = fixtures[0]!.connectors[0]!;
  const read = base.environments.find((e) => e.name === 'dev')!.connectors.find((c) => c.name === typed.name)!;
  expect(typed.displayName).toContain('${');
  expect(read.displayName).toBe(typed.displayName);
  expect(base.notes).toEqual([]);
});

describe.each(environments.map((e) => e.name))('the %s stack directory, moved out of cdktf.out', (env) => {
  const moved = join(mkdtempSync(join(tmpdir(), 'currents-exit-terraform-')), env);
  cpSync(join(outdir, 'stacks', env), moved, { recursive: true });
  const text = readFileSync(join(moved, 'cdk.tf.json'), 'utf8');
  const json = JSON.parse(text) as SynthJson;

  it('passes Terraform’s offline check, read from the moved file', () => {
    const result = checkTerraformJson(json as unknown as TerraformJson);
    expect(formatProblems(result.problems)).toBe('');
  });

  it('uploads only files inside the directory, by relative paths', () => {
    const objects = Object.values(json.resource.google_storage_bucket_object ?? {});
    expect(objects.length).toBeGreaterThanOrEqual(2);
    for (const o of objects) {
      const source = String(o.source);
      expect(isAbsolute(source)).toBe(false);
      expect(resolve(moved, source).startsWith(`${moved}/`)).toBe(true);
      expect(existsSync(join(moved, source))).toBe(true);
    }
  });

  it('is what `npm run check:terraform -- <dir>` checks, failing on a broken copy', () => {
    const check = (dir: string) =>
      spawnSync(process.execPath, [require.resolve('tsx/cli'), join(REPO_ROOT, 'infra', 'check-terraform.ts'), dir], {
        encoding: 'utf8',
      });
    const ok = check(moved);
    expect(ok.stdout).toContain("Terraform's check passes (1 file(s))");
    expect(ok.status).toBe(0);
    const broken = join(mkdtempSync(join(tmpdir(), 'currents-exit-broken-')), env);
    cpSync(moved, broken, { recursive: true });
    writeFileSync(join(broken, 'cdk.tf.json'), text.replace('$${metric.labels', '${metric.labels'));
    const failed = check(broken);
    expect(failed.stdout).toMatch(
      /\n(google_[a-z0-9_]+\.[\w-]+): Reference to undeclared resource \(A managed resource "metric"/,
    );
    expect(failed.status).toBe(1);
  });

  it('names no path of the machine it was synthesized on', () => {
    expect(text).not.toContain(outdir);
    expect(text).not.toContain(REPO_ROOT);
    expect(text).not.toContain(tmpdir());
  });
});
