/**
 * Importing the runtime adapters must stay cheap for the function's cold start: the Google client libraries (Firestore,
 * Pub/Sub, Secret Manager, gRPC) are loaded only when first used. Checked in a fresh Node process, by the modules it
 * loaded (not by timing).
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const MODULES = [
  './runtime/log',
  './runtime/core/expiry',
  './runtime/adapters/secrets',
  './runtime/adapters/dead-letters',
  './runtime/adapters/firestore-state',
];

it('importing the log, the state machine and the adapters loads no Google client library', () => {
  const script = `
    for (const m of ${JSON.stringify(MODULES)}) require(m);
    const heavy = Object.keys(require.cache).filter((k) => /node_modules[\\\\/](@google-cloud|google-gax|@grpc|google-auth-library)[\\\\/]/.test(k));
    process.stdout.write(JSON.stringify({ ok: true, heavy }));
  `;
  const res = spawnSync(process.execPath, ['-r', 'ts-node/register/transpile-only', '-e', script], {
    cwd: join(__dirname, '../..'),
    encoding: 'utf8',
  });
  expect(res.stderr).toBe('');
  const out = JSON.parse(res.stdout) as { ok: boolean; heavy: string[] };
  expect(out.ok).toBe(true);
  expect(out.heavy).toEqual([]);
});
