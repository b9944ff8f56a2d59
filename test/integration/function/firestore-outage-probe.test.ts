/**
 * Issue 28, reproduction 5: Firestore unreachable during a local run, whose probe runs every few seconds. Each probe
 * re-reads the state; before the fix it also forgot the last known state, so that deliveries stopped at the first probe
 * of the outage (503 in a fraction of a second) and nothing said why. Now: deliveries go on for the stated 60 s on the
 * last known `active` state, probes and all; past that bound each push that cannot proceed is reported with its reason
 * (`internal_error` with `reason: state_unavailable`, which `--keep-running --json` prints as a `retrying` outcome),
 * and `state_unavailable` is logged at ERROR (the alert's metric); after the restore everything is delivered.
 */
import { outcomesOfLogLine } from '../../../local/outcomes';
import { startTcpProxy, type TcpProxy } from '../../../local/tcp-proxy';
import { CONNECTOR, oneEventFeed, startFixture, type Fixture } from '../../support/function/fixture';

jest.setTimeout(120_000);

let f: Fixture;
let proxy: TcpProxy;
beforeAll(async () => {
  proxy = await startTcpProxy(process.env.FIRESTORE_EMULATOR_HOST!);
  f = await startFixture({ functionFirestoreHost: proxy.host, testClock: true });
});
afterAll(async () => {
  await f?.stop();
  await proxy?.close();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

it('delivers through probes on the last known state for 60 s, then reports each push with its reason', async () => {
  const local = f.stack.connector(CONNECTOR);
  const { sent, publish, delivered } = oneEventFeed(f, 400_000);

  await publish();
  expect(await f.waitFor(delivered([...sent]), 30_000)).toBe(true);

  // The outage, with a probe before each message (the local run probes every few seconds).
  await proxy.cut();
  // (A probe's own transaction waits for Firestore: it is not awaited here, as the local run's prober does not block.)
  const probes: Promise<unknown>[] = [];
  for (let i = 0; i < 6; i++) {
    probes.push(local.probe().catch((err: unknown) => String(err)));
    await sleep(300);
    await publish();
    await sleep(700);
  }
  expect(await f.waitFor(delivered([...sent]), 30_000)).toBe(true);
  expect(f.logs.filter((l) => l.event === 'state_unavailable' && l.severity === 'WARNING').length).toBeGreaterThan(0);

  // Past the bound (the function's clock moved 61 s on): the pushes cannot proceed, and say why.
  const before = f.logs.length;
  await local.setClockOffset(61_000);
  await publish();
  const pending = sent.at(-1)!;
  const reported = () =>
    f.logs
      .slice(before)
      .flatMap((l) => outcomesOfLogLine(CONNECTOR, l))
      .filter((o) => o.kind === 'retrying');
  expect(await f.waitFor(() => reported().length > 0, 30_000)).toBe(true);
  expect(reported()[0]).toMatchObject({
    kind: 'retrying',
    connector: CONNECTOR,
    events: 1,
    reason: 'state_unavailable',
  });
  expect(f.logs.slice(before).filter((l) => l.event === 'state_unavailable' && l.severity === 'ERROR')).not.toEqual([]);
  expect(delivered([pending])()).toBe(false);

  // Restored: the redelivered message goes through; nothing lost, dead-lettered or parked.
  await proxy.restore();
  expect(await f.waitFor(delivered([...sent]), 60_000)).toBe(true);
  expect(await f.takeDeadLetters()).toEqual([]);
  await Promise.all(probes);
});
