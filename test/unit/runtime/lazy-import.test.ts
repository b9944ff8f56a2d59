/**
 * Importing what the functions load at cold start must stay cheap: the Google client libraries (Firestore, Pub/Sub,
 * Secret Manager, gRPC), undici and jose are loaded only when first used. Checked in a fresh Node process, by the
 * modules it loaded (not by timing): the modules one by one, then each function's entry point as deployed (which also
 * reads and validates its configuration at import, and may load functions-framework, its server).
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { environments } from '../../fixtures/definitions';
import { workspaceDoor } from '../../../shared/door';
import { doorEnvironment } from '../../../shared/door-config';
import { functionEnvironment } from '../../../shared/runtime-config';
import { loadEnvironments } from '../../../shared/connector';

const MODULES = [
  './runtime/log',
  './runtime/core/expiry',
  './runtime/app',
  './runtime/runtime',
  './runtime/adapters/secrets',
  './runtime/adapters/dead-letters',
  './runtime/adapters/firestore-state',
  './runtime/adapters/firestore-trace',
  './runtime/adapters/segment',
  './runtime/receiver/runtime',
];

/** Loads `modules` in a fresh Node process with `env` and returns the heavy libraries it loaded. */
function heavyLoaded(modules: readonly string[], env: Record<string, string> = {}): string[] {
  const script = `
    for (const m of ${JSON.stringify(modules)}) require(m);
    const heavy = Object.keys(require.cache)
      .map((k) => /node_modules[\\\\/]((?:@[^\\\\/]+[\\\\/])?[^\\\\/]+)[\\\\/]/.exec(k)?.[1])
      .filter((p) => p && /^(@google-cloud[\\\\/](?!functions-framework)|google-gax|@grpc[\\\\/]|google-auth-library|undici|jose)/.test(p));
    process.stdout.write(JSON.stringify({ ok: true, heavy: [...new Set(heavy)] }));
  `;
  const res = spawnSync(process.execPath, ['-r', 'ts-node/register/transpile-only', '-e', script], {
    cwd: join(__dirname, '../../..'),
    encoding: 'utf8',
    env: { ...process.env, ...env },
  });
  expect(res.stderr).toBe('');
  const out = JSON.parse(res.stdout) as { ok: boolean; heavy: string[] };
  expect(out.ok).toBe(true);
  return out.heavy;
}

it('importing the log, the app, the runtime, the adapters (Segment included) and the receiver loads no heavy client', () => {
  expect(heavyLoaded(MODULES)).toEqual([]);
});

it('importing each function entry point, configured as deployed, loads functions-framework and no other client', () => {
  const [env] = loadEnvironments(environments);
  const connector = env!.connectors[0]!;
  expect(heavyLoaded(['./runtime/function'], functionEnvironment(env!, connector))).toEqual([]);
  expect(
    heavyLoaded(
      ['./runtime/receiver/function'],
      doorEnvironment(env!, workspaceDoor(connector.workspace, [connector])),
    ),
  ).toEqual([]);
});
