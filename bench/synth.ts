/**
 * `npm run bench -- synth [--environments N] [--connectors M]`: wall time and peak memory to synthesize N environments ×
 * M generated connectors (default 3 × 20) into a temporary cdktf.out, the way `npm run synth` does (validation, the
 * runtime archive from a small stand-in entry, one stack per environment). Reference in the same run: the time to
 * validate the same definitions alone (the floor any synth pays). Last line: one JSON object.
 */
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';

const { values } = parseArgs({
  options: { environments: { type: 'string', default: '3' }, connectors: { type: 'string', default: '20' } },
});
const envCount = Number(values.environments);
const perEnv = Number(values.connectors);

const GROUPS = [['email'], ['sms'], ['pushnotification'], ['webhook'], ['canvas'], ['campaigns'], ['behaviors']];
function generate(): unknown[] {
  return Array.from({ length: envCount }, (_, e) => ({
    name: `bench-${e}`,
    project: `bench-project-${e}0000`,
    region: e % 2 ? 'us-central1' : 'europe-west1',
    ...(e === 0 ? { backend: { bucket: 'bench-state', prefix: 'currents' } } : {}),
    connectors: Array.from({ length: perEnv }, (_, i) => ({
      name: `connector-${String(i).padStart(2, '0')}`,
      displayName: `Bench connector ${i}`,
      contactEmail: `team-${i}@example.com`,
      workspace: `workspace-${e}-${i}`,
      segment: {
        region: i % 2 ? 'us' : 'eu',
        credential: i % 3 ? { kind: 'writeKey' } : { kind: 'oauth', appId: `app-${i}`, keyId: `key-${i}` },
      },
      events: GROUPS[i % GROUPS.length],
      credentialGracePeriod: `${24 + (i % 5) * 12}h`,
      includeAnonymousUsers: i % 4 === 0,
    })),
  }));
}

let peak = 0;
const sample = () => {
  peak = Math.max(peak, process.memoryUsage().rss);
};
const timer = setInterval(sample, 5);

function dirBytes(dir: string): number {
  let n = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    n += e.isDirectory() ? dirBytes(p) : statSync(p).size;
  }
  return n;
}

function main() {
  // As infra/main.ts and infra/synth-all.ts do: no source-map translation of the stack traces cdktf captures per token.
  process.setSourceMapsEnabled(false);
  sample();
  const baseMB = process.memoryUsage().rss / 1e6;
  const inputs = generate();
  const work = mkdtempSync(join(tmpdir(), 'currents-bench-synth-'));
  const entry = join(work, 'function.ts');
  writeFileSync(entry, "export const currents = (_req: unknown, res: { send(s: string): void }) => res.send('ok');\n");

  const t0 = performance.now();
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { validateEnvironments } = require('../shared/connector') as typeof import('../shared/connector');
  const validated = validateEnvironments(inputs);
  if (validated.errors.length) throw new Error(`generated definitions are invalid: ${validated.errors[0]!.message}`);
  const validateSeconds = (performance.now() - t0) / 1000;

  const t1 = performance.now();
  const cpu0 = process.cpuUsage();
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { App } = require('cdktf') as typeof import('cdktf');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { defineEnvironments } = require('../infra/app') as typeof import('../infra/app');
  const loadSeconds = (performance.now() - t1) / 1000;
  const outdir = join(work, 'cdktf.out');
  const app = new App({ outdir });
  const { stacks } = defineEnvironments(app, inputs, { runtime: { entry, outDir: join(work, 'runtime') } });
  app.synth();
  const seconds = (performance.now() - t1) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  sample();
  clearInterval(timer);

  const resources = stacks.reduce((n, s) => {
    const json = s.toTerraform() as { resource: Record<string, Record<string, unknown>> };
    return n + Object.values(json.resource).reduce((m, byId) => m + Object.keys(byId).length, 0);
  }, 0);
  const outBytes = dirBytes(outdir);
  rmSync(work, { recursive: true, force: true });
  const peakMB = peak / 1e6;
  console.log(`synthesized ${envCount} environments × ${perEnv} connectors = ${resources} resources`);
  console.log(
    `  wall time (load + build + synth): ${seconds.toFixed(2)} s (module load ${loadSeconds.toFixed(2)} s); CPU ${cpuSeconds.toFixed(2)} s (wall time suffers from other load, CPU less so)`,
  );
  console.log(`  reference, validation alone: ${(validateSeconds * 1000).toFixed(1)} ms`);
  console.log(
    `  peak RSS: ${peakMB.toFixed(0)} MB (at start ${baseMB.toFixed(0)} MB); output ${(outBytes / 1e6).toFixed(1)} MB`,
  );
  console.log(`  target: under 5 s → ${seconds < 5 ? 'met' : 'MISSED'}`);
  console.log(
    JSON.stringify({
      bench: 'synth',
      seconds: Number(seconds.toFixed(3)),
      cpuSeconds: Number(cpuSeconds.toFixed(3)),
      peakMB: Math.round(peakMB),
      environments: envCount,
      connectors: envCount * perEnv,
      resources,
      moduleLoadSeconds: Number(loadSeconds.toFixed(3)),
      validateSeconds: Number(validateSeconds.toFixed(4)),
      outputMB: Number((outBytes / 1e6).toFixed(2)),
      targetSeconds: 5,
    }),
  );
}

main();
