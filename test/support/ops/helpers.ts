/**
 * Shared pieces of the operating-command tests: a local stack of an environment of our own (its project id unique to
 * the test file, so files never see each other's resources), the definitions file the CLI reads, and the CLI run as a
 * child process (asynchronously: the local Segment servers live in this process and must keep answering).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runNode } from '../../harness/spawn';
import { emulatorsFromEnv } from '../../../local/emulators';
import { startLocalStack, type LocalStack } from '../../../local/stack';
import { FirestoreStateStore } from '../../../runtime/adapters/firestore-state';
import { loadEnvironments, type ConnectorDefinition, type Environment } from '../../../shared/connector';
import { durationMs } from '../../../shared/duration';
import { resourceNames } from '../../../shared/names';

const BIN = join(__dirname, '..', '..', '..', 'bin', 'currents.js');

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `currents ARGS` in a child process with the emulator variables of the test run (plus `env`). */
export async function cli(args: string[], env: Record<string, string | undefined> = {}): Promise<CliResult> {
  const { code, stdout, stderr } = await runNode([BIN, ...args], { env: { ...process.env, ...env } });
  return { status: code, stdout, stderr };
}

/** Polls `check` until it returns true; fails with `what` when it never does. */
export async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 150));
  }
}

export function connectorDef(name: string, overrides: Partial<ConnectorDefinition> = {}): ConnectorDefinition {
  return {
    name,
    displayName: `Ops test ${name}`,
    contactEmail: 'ops@example.com',
    workspace: `ws-${name}`,
    segment: { region: 'us', credential: { kind: 'writeKey' } },
    events: ['email'],
    ...overrides,
  };
}

export interface OpsFixture {
  readonly stack: LocalStack;
  readonly environment: Environment;
  readonly projectId: string;
  /** The definitions file the CLI is pointed at. */
  readonly definitions: string;
  /** Function log lines (Cloud Logging JSON), parsed. */
  readonly logs: { connector: string; event?: string; [k: string]: unknown }[];
  /** `currents <command> --env <env> ARGS <definitions>`. */
  run(command: string[], args?: string[], env?: Record<string, string | undefined>): Promise<CliResult>;
  store(connector: string): FirestoreStateStore;
  stop(): Promise<void>;
}

/**
 * Starts the connectors `started` (default: all) of an environment made of `connectors`; the others are defined for the
 * CLI but have no resources (as if never deployed).
 */
export async function startOpsFixture(
  tag: string,
  connectors: ConnectorDefinition[],
  options: { started?: string[]; testClock?: boolean } = {},
): Promise<OpsFixture> {
  const projectId = `ops-${tag}-${randomBytes(4).toString('hex')}`;
  const envName = `ops-${tag}`;
  const [environment] = loadEnvironments([{ name: envName, project: projectId, region: 'europe-west1', connectors }]);
  const dir = mkdtempSync(join(tmpdir(), 'currents-ops-'));
  const definitions = join(dir, 'definitions.json');
  writeFileSync(
    definitions,
    JSON.stringify({ environments: [{ name: envName, project: projectId, region: 'europe-west1', connectors }] }),
  );
  const logs: OpsFixture['logs'] = [];
  const stack = await startLocalStack({
    environment: environment!,
    connectors: environment!.connectors.filter((c) => !options.started || options.started.includes(c.name)),
    emulators: emulatorsFromEnv(),
    projectId,
    testClock: options.testClock,
    onLog: (connector, line) => {
      try {
        logs.push({ connector, ...(JSON.parse(line) as Record<string, unknown>) });
      } catch {
        /* not a log line */
      }
    },
  });
  const stores: FirestoreStateStore[] = [];
  return {
    stack,
    environment: environment!,
    projectId,
    definitions,
    logs,
    run: (command, args = [], env) => cli([...command, '--env', envName, ...args, definitions], env),
    store: (name) => {
      const c = environment!.connectors.find((x) => x.name === name)!;
      const store = new FirestoreStateStore({
        projectId,
        databaseId: resourceNames(name).firestoreDatabase,
        graceMs: durationMs(c.credentialGracePeriod),
        cacheMs: 0,
      });
      stores.push(store);
      return store;
    },
    stop: async () => {
      await Promise.allSettled(stores.map((s) => s.close()));
      await stack.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A valid nested Currents event of a type, with a given id. */
export function event(type: string, id: string, user = 'user-1') {
  return {
    event_type: type,
    id,
    time: Math.floor(Date.now() / 1000),
    user: { external_user_id: user },
    properties: { campaign_id: 'c-1', dispatch_id: 'd-1', email_address: 'ada@example.com' },
  };
}
