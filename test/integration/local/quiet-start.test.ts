/**
 * A newcomer's first `npm start`, as its own process with a clean environment (no emulator or metadata variables from
 * the test harness): its output is the product's own, with no Google client warning (`MetadataLookupWarning`) and no
 * Node warning at all, and it still reconciles. The CLI, pointed at the emulators, is as quiet.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';

jest.setTimeout(150_000);

const ROOT = join(__dirname, '..', '..', '..');

/** The environment a newcomer's shell has: PATH and HOME, nothing of the harness's. */
const cleanEnv = () => ({ PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' });

function run(args: string[], env: Record<string, string>): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--require', require.resolve('tsx/cjs'), ...args], {
      cwd: ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, out }));
  });
}

it('npm start prints only its own output: no MetadataLookupWarning, no Node warning', async () => {
  const { code, out } = await run(['local/start.ts', '--events', '60', '--timeout', '90'], cleanEnv());
  expect(out).toMatch(/Reconciled: \d+ event\(s\) published/);
  expect(code).toBe(0);
  expect(out).not.toMatch(/MetadataLookupWarning/);
  expect(out).not.toMatch(/\(node:\d+\) \w*Warning/);
});

it('a CLI command against the emulators is as quiet, and still reports a real problem', async () => {
  // The harness's emulators; the dev environment's connectors do not exist on them: a real, reported problem.
  const env = {
    ...cleanEnv(),
    PUBSUB_EMULATOR_HOST: process.env.PUBSUB_EMULATOR_HOST!,
    FIRESTORE_EMULATOR_HOST: process.env.FIRESTORE_EMULATOR_HOST!,
  };
  const { out } = await run(['bin/currents.js', 'status', '--env', 'dev'], env);
  expect(out.trim().length).toBeGreaterThan(0);
  expect(out).not.toMatch(/MetadataLookupWarning/);
  expect(out).not.toMatch(/\(node:\d+\) \w*Warning/);
});
