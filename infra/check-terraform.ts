/**
 * `npm run check:terraform [-- <dir or .tf.json file>…]`: Terraform's offline check (infra/terraform-check.ts) of the
 * synthesized stacks, `cdktf.out/stacks/*` by default, or of the directories a team keeps after leaving CDKTF
 * (docs/deploying.md, "Leaving CDKTF"). Prints each problem by address; exits 1 when there is one, 2 when terraform is
 * missing.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { REPO_ROOT } from './runtime-archive';
import { checkTerraformJson, formatProblems, type TerraformJson, TerraformMissingError } from './terraform-check';

/** The .tf.json files of a directory (or the file itself). */
function configFiles(path: string): string[] {
  if (!statSync(path).isDirectory()) return [path];
  return readdirSync(path)
    .filter((f) => f.endsWith('.tf.json'))
    .map((f) => join(path, f));
}

/** One configuration per directory: its .tf.json files merged (each block's entries side by side). */
function loadConfig(files: readonly string[]): TerraformJson {
  const merged: Record<string, Record<string, unknown>> = {};
  for (const file of files) {
    for (const [block, value] of Object.entries(JSON.parse(readFileSync(file, 'utf8')) as TerraformJson)) {
      merged[block] = { ...merged[block], ...(value as Record<string, unknown>) };
    }
  }
  return merged;
}

function main(args: readonly string[]): number {
  const stacks = join(REPO_ROOT, 'cdktf.out', 'stacks');
  const targets = args.length ? [...args] : existsSync(stacks) ? readdirSync(stacks).map((d) => join(stacks, d)) : [];
  if (!targets.length) {
    console.error('Nothing to check: run `npm run synth` first, or name the directories to check.');
    return 1;
  }
  let failed = 0;
  for (const target of targets) {
    const files = configFiles(target);
    const result = checkTerraformJson(loadConfig(files));
    const name = relative(process.cwd(), target) || target;
    if (result.valid) console.log(`${name}: Terraform's check passes (${files.length} file(s))`);
    else {
      failed++;
      console.log(`${name}: ${result.problems.length} problem(s)\n${formatProblems(result.problems)}`);
    }
  }
  return failed ? 1 : 0;
}

try {
  process.exitCode = main(process.argv.slice(2));
} catch (err) {
  if (!(err instanceof TerraformMissingError)) throw err;
  console.error(err.message);
  process.exitCode = 2;
}
