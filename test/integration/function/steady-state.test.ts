/**
 * The runtime in process, with its real adapters (Firestore emulator, Pub/Sub emulator, local Segment server): steady
 * state costs no Firestore write per event, counted through the adapter; a bad configuration fails the start clearly.
 */
import { randomBytes } from 'node:crypto';
import { startFunctionHost } from '../../../local/function-host';
import { startSegmentServer, type LocalSegmentServer } from '../../../local/segment-server';
import { pushEnvelope } from '../../../runtime/core/push';
import { eventsEnvelope, sampleFeed } from '../../../common/samples';
import { createRuntime, type Runtime } from '../../../runtime/runtime';
import { loadEnvironments } from '../../../shared/connector';
import { ENV_VARS, functionEnvironment, parseRuntimeConfig } from '../../../shared/runtime-config';
import { connectorDefinition } from '../../support/function/fixture';

const WRITE_KEY = 'wk_steady_state_0123456789';

describe('steady state', () => {
  let server: LocalSegmentServer;
  let runtime: Runtime;
  beforeAll(async () => {
    server = await startSegmentServer({ region: 'eu', writeKeys: [WRITE_KEY], recordCalls: false });
    const project = `ss-${randomBytes(4).toString('hex')}`;
    const [env] = loadEnvironments([
      { name: 'test', project, region: 'europe-west1', connectors: [connectorDefinition({ events: ['messages'] })] },
    ]);
    const vars = {
      ...functionEnvironment(env!, env!.connectors[0]!),
      [ENV_VARS.segmentBaseUrl]: server.url,
      [ENV_VARS.secretSource]: 'env',
      [ENV_VARS.secretValue]: WRITE_KEY,
    };
    runtime = createRuntime(parseRuntimeConfig(vars), { logSink: () => undefined, env: vars });
  });
  afterAll(async () => {
    await runtime.close();
    await server.close();
  });

  it('performs zero Firestore writes per event (and reads the state once per cache period)', async () => {
    const feed = sampleFeed({ count: 2000, types: ['users.messages.email.Open', 'users.messages.sms.Delivery'] });
    const send = (i: number) =>
      runtime.app.handlePush(pushEnvelope(eventsEnvelope(feed.slice(i * 100, i * 100 + 100)), {}, `steady-${i}`));
    const started = Date.now();
    expect((await send(0)).status).toBe(204);
    const afterFirst = { ...runtime.store.stats };
    for (let i = 1; i < 20; i++) expect((await send(i)).status).toBe(204);
    const elapsed = Date.now() - started;
    expect(server.stats().acceptedUnique).toBe(2000);
    const stats = runtime.store.stats;
    // The first delivery notes lastDeliveryAt (at most once a minute); 1,900 more events add no write at all.
    expect(afterFirst.writes).toBeLessThanOrEqual(1);
    expect(stats.writes).toBe(afterFirst.writes);
    expect(stats.transactions).toBe(0);
    expect(stats.reads).toBeLessThanOrEqual(Math.ceil(elapsed / 5000) + 1);
  });
});

describe('configuration', () => {
  it('fails the start with a message that says what is wrong', async () => {
    const lines: string[] = [];
    const start = startFunctionHost({
      env: {
        [ENV_VARS.connector]: JSON.stringify({ ...connectorDefinition(), segment: { region: 'asia' } }),
        [ENV_VARS.environment]: 'test',
        [ENV_VARS.project]: 'bad-config',
      },
      onLine: (l) => lines.push(l),
      readyTimeoutMs: 15_000,
    });
    await expect(start).rejects.toThrow(/exited before it was ready/);
    const entry = lines.map((l) => (l.startsWith('{') ? JSON.parse(l) : {})).find((e) => e.event === 'config_error');
    expect(entry).toMatchObject({ severity: 'CRITICAL' });
    expect(entry.message).toMatch(
      /invalid function configuration: CURRENTS_CONNECTOR: .*segment\.region must be 'us' or 'eu'/,
    );
  });
});
