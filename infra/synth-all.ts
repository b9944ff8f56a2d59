/**
 * `npm run synth`: synthesizes every environment into cdktf.out (plain Terraform JSON, one directory per stack) without
 * the cdktf CLI, a Terraform binary or any cloud access, and prints what was written.
 */
import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { App } from 'cdktf';
import { environments } from '../connectors';
import { ConnectorValidationError } from '../shared/connector';
import { defineEnvironments } from './app';
import { REPO_ROOT, RuntimeEntryMissingError } from './runtime-archive';

// cdktf captures a full stack trace for every token it creates; with Node's source-map translation on (as tsx turns it
// on) that alone doubles synth time. Synth errors are reported by message, so the translation is switched off here.
process.setSourceMapsEnabled(false);

function main(): number {
  const outdir = join(REPO_ROOT, 'cdktf.out');
  const started = process.hrtime.bigint();
  let result: ReturnType<typeof defineEnvironments>;
  const app = new App({ outdir, skipValidation: false });
  try {
    result = defineEnvironments(app, environments);
    app.synth();
  } catch (err) {
    if (err instanceof ConnectorValidationError || err instanceof RuntimeEntryMissingError) {
      console.error(err.message);
      return 1;
    }
    throw err;
  }
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  for (const [what, archive] of [
    ['function', result.archive],
    ['receiver', result.receiverArchive],
  ] as const) {
    console.log(
      `${what} source: ${relative(REPO_ROOT, archive.path)} (${archive.bytes} bytes, sha256 ${archive.sha256.slice(0, 12)}…)`,
    );
  }
  for (const env of result.environments) {
    const file = join(outdir, 'stacks', env.name, 'cdk.tf.json');
    const json = JSON.parse(readFileSync(file, 'utf8')) as { resource?: Record<string, Record<string, unknown>> };
    const resources = Object.values(json.resource ?? {}).reduce((n, byName) => n + Object.keys(byName).length, 0);
    console.log(
      `${env.name}: ${env.connectors.length} connector(s), ${resources} resources → ${relative(REPO_ROOT, file)}`,
    );
  }
  console.log(`synthesized ${result.environments.length} environment(s) in ${ms.toFixed(0)} ms`);
  return 0;
}

process.exitCode = main();
