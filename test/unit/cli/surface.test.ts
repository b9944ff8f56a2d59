/**
 * The command lines' surface, as a user meets it: every `currents` command's `--help` (exit 0, its options and
 * examples), `--version`, the closest command or option suggested for a typo (exit 2), a command's own usage error
 * (exit 2, with its usage), `npm start -- --help` and `npm run soak -- --help`; that `--help` and `validate` load no
 * Google client; and that a command failing without credentials or emulators prints its own error line only, never a
 * library's warning (MetadataLookupWarning). No emulators: the Google commands fail before any network call but the
 * metadata-server probe, which fails at once on a machine outside Google Cloud.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runNode } from '../../harness/spawn';
import { main } from '../../../cli/main';
import { STAND_IN_COMMANDS } from '../../../local/commands';
import { COMMAND_SPECS } from '../../../cli/specs';
import { SOAK } from '../../../local/soak';
import { START } from '../../../local/start-options';

jest.setTimeout(60_000);

const ROOT = join(__dirname, '..', '..', '..');
const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `currents ARGS` in-process, its output captured. */
async function currents(args: string[]): Promise<Result> {
  let stdout = '';
  let stderr = '';
  const code = await main(args, { out: (t) => void (stdout += t), err: (t) => void (stderr += t) }, STAND_IN_COMMANDS);
  return { code, stdout, stderr };
}

let home: string;
beforeAll(() => {
  home = mkdtempSync(join(tmpdir(), 'currents-surface-'));
});
afterAll(() => rmSync(home, { recursive: true, force: true }));

/**
 * `node ARGS` in the project, as a newcomer's shell runs it: no emulator variables, no Google credentials (an empty
 * HOME, so no gcloud application-default file either).
 */
function node(args: string[], env: Record<string, string> = {}): Promise<Result> {
  return runNode(args, { cwd: ROOT, env: { PATH: process.env.PATH ?? '', HOME: home, ...env } });
}
const bin = (args: string[], env?: Record<string, string>) => node([join('bin', 'currents.js'), ...args], env);
const tsx = (args: string[]) => node(['--require', require.resolve('tsx/cjs'), ...args]);

/** The long flag of a commander flags string: `--env <ENV>` → `--env`. */
const longFlag = (flags: string) => /--[\w-]+/.exec(flags)![0];

describe('currents --help, --version and usage errors', () => {
  it.each(COMMAND_SPECS.map((s) => [s.name, s] as const))(
    '%s --help: exit 0, its usage, every option and an example',
    async (name, spec) => {
      const r = await currents([name, '--help']);
      expect(r.code).toBe(0);
      expect(r.stderr).toBe('');
      expect(r.stdout).toContain(`Usage: currents ${name}`);
      for (const o of spec.options) expect(r.stdout).toContain(longFlag(o.flags));
      expect(r.stdout).toMatch(new RegExp(`Examples:\\n  \\$ npx currents ${name}`));
    },
  );

  it('the operating commands document --env, --connector and the definitions', async () => {
    for (const name of ['status', 'probe', 'dead-letters', 'send-test', 'verify', 'receiver-token', 'import']) {
      const { stdout } = await currents([name, '-h']);
      expect(stdout).toMatch(/--env <ENV>\s+the environment/);
      expect(stdout).toMatch(/--connector <NAME>/);
      expect(stdout).toMatch(/--definitions <PATH>/);
    }
  });

  it('says --connector is required where it is, and defaults to all of them only where it does', async () => {
    for (const name of ['send-test', 'import']) {
      const { stdout } = await currents([name, '-h']);
      expect(stdout).toMatch(/--connector <NAME>\s+one connector of the environment \(required\)/);
      expect(stdout).not.toContain('default: all of them');
    }
    // receiver-token acts on a Braze workspace's door: --workspace, or --connector's workspace, or the only one.
    expect((await currents(['receiver-token', '-h'])).stdout).toMatch(
      /--workspace <ID>\s+the Braze workspace whose door \(default: --connector's,\s+or the environment's only one\)/,
    );
    expect((await currents(['status', '-h'])).stdout).toMatch(/--connector <NAME>\s+.*\(default: all of them\)/);
  });

  it('currents --help lists every command; help COMMAND is the command help', async () => {
    const r = await currents(['--help']);
    expect(r.code).toBe(0);
    for (const s of COMMAND_SPECS)
      expect(r.stdout).toMatch(new RegExp(`^  ${s.name} .*${s.summary.slice(0, 20)}`, 'm'));
    const help = await currents(['help', 'probe']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: currents probe');
  });

  it('no command prints the help as a usage error (exit 2)', async () => {
    const r = await currents([]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('Usage: currents [options] [command]');
  });

  it('a mistyped command: exit 2, the closest command suggested', async () => {
    const r = await currents(['stauts', '--env', 'dev']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      "currents: unknown command 'stauts' (did you mean status?)\nRun 'currents --help' for the commands.\n",
    );
  });

  it('a mistyped option: exit 2, the closest option suggested, nothing run', async () => {
    const r = await currents(['probe', '--conector', 'x']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(
      "currents probe: unknown option '--conector' (did you mean --connector?)\n" +
        "Run 'currents probe --help' for its options and examples.\n",
    );
  });

  it('missing argument or option value: exit 2, naming it', async () => {
    const missingArg = await currents(['dead-letters', '--env', 'dev']);
    expect(missingArg.code).toBe(2);
    expect(missingArg.stderr).toMatch(/^currents dead-letters: missing required argument 'list\|show\|replay'\n/);
    const missingValue = await currents(['status', '--env']);
    expect(missingValue.code).toBe(2);
    expect(missingValue.stderr).toMatch(/^currents status: option '--env <ENV>' argument missing\n/);
    const extra = await currents(['validate', 'a.ts', 'b.ts']);
    expect(extra.code).toBe(2);
    expect(extra.stderr).toMatch(/^currents validate: too many arguments/);
  });

  it("a command's own usage error: exit 2, its message and usage", async () => {
    const r = await currents(['segment-server', '--region', 'mars']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      "currents segment-server: --region must be us or eu, got 'mars'\n" +
        'Usage: currents segment-server [options]\n' +
        "Run 'currents segment-server --help' for its options and examples.\n",
    );
  });

  it('the real binary: --version, and a typo exits 2', async () => {
    const [version, typo] = await Promise.all([bin(['--version']), bin(['send-tset'])]);
    expect(version).toEqual({ code: 0, stdout: `${VERSION}\n`, stderr: '' });
    expect(typo.code).toBe(2);
    expect(typo.stderr).toMatch(/unknown command 'send-tset' \(did you mean send-test\?\)/);
  });
});

describe('npm start and npm run soak', () => {
  it('--help: exit 0 with every option and the examples; a typo exits 2 with the closest option', async () => {
    const [start, soak, startTypo, soakTypo] = await Promise.all([
      tsx(['local/start.ts', '--help']),
      tsx(['local/soak.ts', '--help']),
      tsx(['local/start.ts', '--keep-runing']),
      tsx(['local/soak.ts', '--evnts', '5']),
    ]);
    for (const [r, spec, usage] of [
      [start, START, 'npm start --'],
      [soak, SOAK, 'npm run soak --'],
    ] as const) {
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(`Usage: ${usage} [options]`);
      for (const o of spec.options) expect(r.stdout).toContain(longFlag(o.flags));
      expect(r.stdout).toContain('Examples:');
    }
    expect(start.stdout).toMatch(/--scenario <NAME>.*credential-failure/s);
    expect(startTypo.code).toBe(2);
    expect(startTypo.stderr).toBe(
      "npm start: unknown option '--keep-runing' (did you mean --keep-running?)\nRun 'npm start -- --help' for the options.\n",
    );
    expect(soakTypo.code).toBe(2);
    expect(soakTypo.stderr).toMatch(/^soak: unknown option '--evnts' \(did you mean --events\?\)/);
  });
});

describe('no library warning, and no Google client loaded when none is needed', () => {
  it('commands failing for want of credentials print their own error line only', async () => {
    const runs = await Promise.all(
      [
        ['status', '--env', 'dev'],
        ['probe', '--env', 'dev', '--connector', 'email-eu'],
        ['dead-letters', 'list', '--env', 'dev'],
        ['send-test', '--env', 'dev', '--connector', 'email-eu'],
        ['verify', '--env', 'dev'],
      ].map(async (args) => ({ args, r: await bin(args) })),
    );
    for (const { args, r } of runs) {
      expect({ args, code: r.code, stdout: r.stdout }).toEqual({ args, code: 1, stdout: '' });
      expect(r.stderr).not.toMatch(/Warning/);
      // One line: the command's own, saying what to do.
      expect(r.stderr.trimEnd().split('\n')).toEqual([
        expect.stringMatching(
          new RegExp(
            `^currents ${args[0]}: no Google credentials to reach project .*gcloud auth application-default login`,
          ),
        ),
      ]);
    }
  });

  it("drops the Google libraries' warnings, prints every other", async () => {
    const script = `
      require('./common/library-warnings.ts').dropLibraryWarnings();
      process.emitWarning('received unexpected error = All promises were rejected code = UNKNOWN', 'MetadataLookupWarning');
      const w = new Error('from the library'); w.name = 'MetadataLookupWarning'; process.emitWarning(w);
      process.emitWarning('a warning of our own', 'CustomWarning');
    `;
    const r = await node(['--require', require.resolve('tsx/cjs'), '-e', script]);
    expect(r.code).toBe(0);
    expect(r.stderr).not.toMatch(/MetadataLookupWarning|promises were rejected|from the library/);
    expect(r.stderr).toMatch(/CustomWarning: a warning of our own/);
  });

  it('--help, a usage error and validate load no Google client', async () => {
    const script = `
      const { main } = require('./cli/main.ts');
      (async () => {
        const codes = [];
        for (const args of [['status', '--help'], ['probe', '--conector', 'x'], ['validate']]) codes.push(await main(args, { out() {}, err() {} }));
        const heavy = Object.keys(require.cache)
          .map((k) => /node_modules[\\\\/]((?:@[^\\\\/]+[\\\\/])?[^\\\\/]+)[\\\\/]/.exec(k)?.[1])
          .filter((p) => p && /^(@google-cloud|google-gax|@grpc|google-auth-library|gcp-metadata)/.test(p));
        process.stdout.write('\\nRESULT ' + JSON.stringify({ codes, heavy: [...new Set(heavy)] }));
      })();
    `;
    const r = await node(['--require', require.resolve('tsx/cjs'), '-e', script]);
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout.split('\nRESULT ')[1]!)).toEqual({ codes: [0, 2, 0], heavy: [] });
  });
});
