/**
 * Issue 28: a local run's secret files (write keys, OAuth private keys) are removed on every exit path: a clean stop,
 * a process.exit (a stop that outlasted its grace), and the run killed outright (SIGKILL: the reaper's watcher).
 * Each case runs `secretDirectory` in a child process that then ends that way.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..', '..');

/** Starts a child that makes a secret directory with a file in it, prints the path, then does `then`. */
async function child(then: string): Promise<{ dir: string; kill(): void; exited: Promise<void> }> {
  const script =
    `const { secretDirectory } = require('./local/connector-runner');` +
    `const s = secretDirectory('cleanup-test');` +
    `require('node:fs').writeFileSync(s.dir + '/secret', 'SECRETCANARY');` +
    `console.log(s.dir);` +
    then;
  const p = spawn(process.execPath, ['--require', require.resolve('tsx/cjs'), '-e', script], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const exited = new Promise<void>((r) => p.once('exit', () => r()));
  const dir = await new Promise<string>((resolve, reject) => {
    let out = '';
    p.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('\n')) resolve(out.trim());
    });
    p.once('exit', () => reject(new Error(`the child exited before printing its directory: ${out}`)));
  });
  return { dir, kill: () => p.kill('SIGKILL'), exited };
}

async function gone(dir: string, timeoutMs = 10_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (existsSync(dir)) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 100));
  }
  return true;
}

it.each([
  ['a clean stop', 'setTimeout(() => s.remove(), 200); setTimeout(() => {}, 400);'],
  ['process.exit (a stop that outlasted its grace)', 'setTimeout(() => process.exit(1), 200);'],
  ['an uncaught error', "setTimeout(() => { throw new Error('boom'); }, 200);"],
])(
  'removes the secret files on %s',
  async (_how, then) => {
    const c = await child(then);
    expect(c.dir).toMatch(/currents-secret-cleanup-test-/);
    expect(existsSync(join(c.dir, 'secret'))).toBe(true);
    await c.exited;
    expect(await gone(c.dir)).toBe(true);
  },
  60_000,
);

it('removes the secret files when the run is killed outright (SIGKILL)', async () => {
  const c = await child('setInterval(() => {}, 1000);');
  expect(existsSync(join(c.dir, 'secret'))).toBe(true);
  c.kill();
  await c.exited;
  expect(await gone(c.dir)).toBe(true);
}, 60_000);
