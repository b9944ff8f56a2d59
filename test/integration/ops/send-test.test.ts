/**
 * `currents send-test` against the emulators with the connector's function served locally, and the errors every
 * operating command reports: no such environment or connector, a connector never deployed, an emulator that does not
 * answer.
 */
import { Firestore } from '@google-cloud/firestore';
import { TRACE_COLLECTION } from '../../../runtime/adapters/firestore-trace';
import { typesOfSelector } from '../../../shared/catalog';
import { resourceNames } from '../../../shared/names';
import { cli, connectorDef, startOpsFixture, type OpsFixture } from '../../support/ops/helpers';

const TX = 'tx';
const GHOST = 'ghost';
let f: OpsFixture;
let db: Firestore;

beforeAll(async () => {
  f = await startOpsFixture('send', [connectorDef(TX), connectorDef(GHOST)], { started: [TX] });
  db = new Firestore({ projectId: f.projectId, databaseId: resourceNames(TX).firestoreDatabase });
});
afterAll(async () => {
  await db?.terminate();
  await f?.stop();
});

const us = () => f.stack.servers.us;

describe('currents send-test', () => {
  it('publishes a realistic test event, waits for its outcome, prints it and deletes the trace; exit 0 when delivered', async () => {
    const r = await f.run(['send-test'], ['--connector', TX]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const id = /published test event users\.messages\.email\.Open (\S+) \(external_user_id currents-send-test\)/.exec(
      r.stdout,
    )?.[1];
    expect(id).toBeDefined();
    expect(r.stdout).toMatch(/to currents-tx-ingest, project ops-send-\w+ on the Pub\/Sub emulator/);
    expect(r.stdout).toMatch(
      new RegExp(`^tx: delivered to Segment \\(US\\) as messageId ${id} \\(\\d+\\.\\d s\\)$`, 'm'),
    );
    const accepted = us()
      .accepted()
      .find((e) => e.messageId === id);
    expect(accepted?.call).toMatchObject({ type: 'track', userId: 'currents-send-test' });
    expect((await db.collection(TRACE_COLLECTION).get()).size).toBe(0);
  });

  it('sends the --type asked for (JSON for scripts); every send has a fresh id', async () => {
    const r = await f.run(['send-test'], ['--connector', TX, '--type', 'users.messages.email.Click', '--json']);
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout) as {
      verdict: string;
      type: string;
      eventId: string;
      outcome: { delivered: number };
    };
    expect(out).toMatchObject({ verdict: 'delivered', type: 'users.messages.email.Click', outcome: { delivered: 1 } });
    expect(
      us()
        .accepted()
        .filter((e) => e.call?.userId === 'currents-send-test'),
    ).toHaveLength(2);
    expect(us().stats().duplicates).toBe(0);
  });

  it('refuses upfront a type the connector does not select (nothing is contacted)', async () => {
    const before = us().stats().requests;
    const r = await f.run(['send-test'], ['--connector', TX, '--type', 'users.messages.sms.Send'], {
      PUBSUB_EMULATOR_HOST: '127.0.0.1:9',
    });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/connector 'tx' does not select users\.messages\.sms\.Send: the function would skip it/);
    expect(r.stderr).toContain(`It selects ${typesOfSelector('email').length} type(s): users.messages.email.`);
    const unknown = await f.run(['send-test'], ['--connector', TX, '--type', 'users.messages.email.Opne']);
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toMatch(
      /'users\.messages\.email\.Opne' is not an exportable Currents event type; did you mean 'users\.messages\.email\.Open'\?/,
    );
    expect(us().stats().requests).toBe(before);
  });

  it('reports a parked event (credential failing) and exits 1', async () => {
    const local = f.stack.connector(TX);
    local.setSecret(undefined); // the secret's version disabled
    await local.probe(); // the scheduled probe re-reads the secret from now on
    try {
      const r = await f.run(['send-test'], ['--connector', TX]);
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(
        /^tx: parked: the Segment credential is failing; .*currents status --env ops-send --connector tx/m,
      );
    } finally {
      local.setSecret(f.stack.credentials.get(TX)!.secretValue);
    }
    const probe = await f.stack.connector(TX).probe();
    expect(probe).toMatchObject({ state: 'active', parkedEvents: 0 });
  });

  it('needs --connector', async () => {
    const r = await f.run(['send-test']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--connector is required/);
  });
});

describe('errors of the operating commands', () => {
  it.each([['status'], ['dead-letters', 'list'], ['probe'], ['send-test']])(
    '%s: no such environment or connector exits non-zero naming it',
    async (...command) => {
      const noEnv = await cli([...command, '--env', 'nope', f.definitions]);
      expect(noEnv.status).toBe(2);
      expect(noEnv.stderr).toMatch(/no environment 'nope' \(defined: ops-send\)/);
      const noConnector = await f.run(command, ['--connector', 'nope']);
      expect(noConnector.status).toBe(2);
      expect(noConnector.stderr).toMatch(/no connector 'nope' in environment 'ops-send' \(defined: tx, ghost\)/);
    },
  );

  it('a connector without resources (never deployed) is named with what is missing', async () => {
    const dl = await f.run(['dead-letters', 'list'], ['--connector', GHOST]);
    expect(dl.status).toBe(1);
    expect(dl.stderr).toMatch(
      /connector 'ghost' \(environment 'ops-send', project ops-send-\w+ on the .*\): dead-letter subscription currents-ghost-dead-letter-hold does not exist/,
    );
    const probe = await f.run(['probe'], ['--connector', GHOST]);
    expect(probe.status).toBe(1);
    expect(probe.stderr).toMatch(/connector 'ghost' .*: push subscription currents-ghost-push does not exist/);
    // status shows the connectors it can and names the one it cannot
    const status = await f.run(['status']);
    expect(status.status).toBe(1);
    expect(status.stdout).toMatch(/^tx {2}\(environment ops-send/m);
    expect(status.stderr).toMatch(/connector 'ghost' .*currents-ghost-dead-letter-hold does not exist/);
  });

  it('an emulator that does not answer is named at once, with the connector', async () => {
    for (const [variable, what] of [
      ['PUBSUB_EMULATOR_HOST', 'Pub/Sub'],
      ['FIRESTORE_EMULATOR_HOST', 'Firestore'],
    ] as const) {
      const refused = await f.run(['status'], ['--connector', TX], { [variable]: '127.0.0.1:9' });
      expect(refused.status).toBe(1);
      expect(refused.stderr).toMatch(
        new RegExp(
          `the ${what} emulator at 127\\.0\\.0\\.1:9 \\(${variable}\\) is not reachable \\(ECONNREFUSED\\) for connector 'tx'`,
        ),
      );
      // A run that ends stops its emulators: the hint names the run that keeps them.
      expect(refused.stderr).toMatch(/start the local run and keep it running \(npm start -- --keep-running\)/);
    }
    const bad = await f.run(['probe'], ['--connector', TX], { PUBSUB_EMULATOR_HOST: 'nohost' });
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(
      /the Pub\/Sub emulator at nohost \(PUBSUB_EMULATOR_HOST\) is not reachable \('nohost' is not a HOST:PORT\) for connector 'tx'/,
    );
  });
});
