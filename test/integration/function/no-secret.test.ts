/**
 * A connector deployed before its credential secret has a version (a merged connector: the deploy does not wait for
 * the secret): with nothing to send it stays `active`, and its probe reads the secret without sending anything and says,
 * alerted (`credential_unverified`), that there is no credential; the first event that arrives is parked; once the secret
 * has a version, the next probe delivers it. No event is lost meanwhile.
 */
import { sampleEvent, eventsEnvelope } from '../../../common/samples';
import { parkedDocs, startFixture, type Fixture } from '../../support/function/fixture';

describe('a deployed connector whose secret has no version yet', () => {
  let f: Fixture;
  beforeAll(async () => {
    f = await startFixture();
  });
  afterAll(() => f.stop());

  it('stays active, says at each probe that there is no credential (alerted), parks what arrives, delivers it later', async () => {
    const local = f.stack.connector('fn-test');
    const secret = f.stack.credentials.get('fn-test')!.secretValue;
    local.setSecret(undefined);

    const probe = await local.probe();
    expect(probe).toMatchObject({ state: 'active', credential: 'unknown', parkedEvents: 0 });
    expect(probe.detail).toMatch(/^not tried: active, nothing parked; but .+/);
    const said = f.logs.filter((l) => l.event === 'credential_unverified');
    expect(said).toHaveLength(1);
    expect(said[0]).toMatchObject({ severity: 'WARNING', when: 'probe', detail: expect.any(String) });
    expect(await f.store.current()).toMatchObject({ status: 'active' }); // the grace period has not started

    await local.publish(eventsEnvelope([sampleEvent('users.messages.email.Open', {}, 7)]));
    expect(await f.waitFor(() => f.logs.some((l) => l.event === 'events_parked'))).toBe(true);
    expect(await parkedDocs(f)).toBe(1);

    local.setSecret(secret);
    expect(await local.probe()).toMatchObject({ state: 'active', credential: 'ok', drainedEvents: 1, parkedEvents: 0 });
    // With the secret there and nothing parked, the probe says nothing more.
    await local.probe();
    expect(f.logs.filter((l) => l.event === 'credential_unverified')).toHaveLength(1);
  });
});
