import { startSegmentServer, type LocalSegmentServer } from '../../../local/segment-server';
import { createSegmentClient, type SegmentClient, type SegmentClientOptions } from '../../../runtime/adapters/segment';
import { resolveEndpoints } from '../../../runtime/adapters/segment/endpoints';
import { CredentialUnavailableError, type SegmentSecret } from '../../../runtime/core/types';
import {
  fakeTime,
  makeItem,
  makeItems,
  outcomeIds,
  rsaKeyPair,
  staticCredentials,
  type Item,
} from '../../support/delivery/helpers';

const WRITE_KEY = 'wk-secret-0123456789';
const OTHER_KEY = 'wk-secret-rotated-9876';

describe('Segment delivery client against the local Segment server', () => {
  let server: LocalSegmentServer;
  const clients: SegmentClient[] = [];
  let time: ReturnType<typeof fakeTime>;

  beforeAll(async () => {
    server = await startSegmentServer({ region: 'us', writeKeys: [WRITE_KEY, OTHER_KEY] });
  });
  afterAll(() => server.close());
  beforeEach(() => {
    server.reset();
    time = fakeTime();
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
  });

  function client(overrides: Partial<SegmentClientOptions> = {}) {
    const credentials = staticCredentials({ kind: 'writeKey', writeKey: WRITE_KEY });
    const c = createSegmentClient({
      region: 'us',
      credentials,
      baseUrl: server.url,
      clock: time.clock,
      sleep: time.sleep,
      random: () => 0.5,
      ...overrides,
    });
    clients.push(c);
    return { client: c, credentials };
  }
  const acceptedIds = () =>
    server
      .accepted()
      .map((e) => e.messageId)
      .sort();
  const ids = (items: readonly Item[]) => items.map((i) => i.messageId).sort();

  it('2xx: delivers every event in as few requests as the planner allows, concurrency bounded', async () => {
    const items = makeItems(3000, 1000);
    const { client: c } = client({ concurrency: 3 });
    const report = await c.deliver(items, { budgetMs: 10_000 });
    expect(ids(report.delivered)).toEqual(ids(items));
    expect(report).toMatchObject({ rejected: [], retryLater: [], credentialFailure: [], requests: 7 });
    expect(report.credentialError).toBeUndefined();
    expect(acceptedIds()).toEqual(ids(items));
    const stats = server.stats();
    expect(stats).toMatchObject({ requests: 7, duplicates: 0, requestsByStatus: { '200': 7 } });
    expect(stats.maxInFlight).toBeLessThanOrEqual(3);
    expect(server.accepted().find((e) => e.messageId === 'm-0')!.call).toEqual(JSON.parse(items[0]!.json));
  });

  it('delivers nothing for nothing, without a request', async () => {
    const report = await client().client.deliver([], { budgetMs: 1000 });
    expect(report).toEqual({
      delivered: [],
      rejected: [],
      retryLater: [],
      credentialFailure: [],
      requests: 0,
      statuses: {},
    });
    expect(server.stats().requests).toBe(0);
  });

  it('verifies the credential with an empty batch: ok, refused (after one re-read), or inconclusive', async () => {
    const { client: c, credentials } = client();
    await expect(c.verifyCredential({ budgetMs: 5000 })).resolves.toEqual({ ok: true });
    expect(server.accepted()).toEqual([]);
    server.faults.add({ status: 401 }); // what Segment answers a refused credential (it never refuses a write key)
    await expect(c.verifyCredential({ budgetMs: 5000 })).resolves.toEqual({
      ok: false,
      detail: 'Segment answered 401 (us)',
    });
    expect(credentials.invalidations).toBeGreaterThanOrEqual(1);
    server.faults.clear();
    server.faults.add({ status: 503, times: 1 });
    await expect(c.verifyCredential({ budgetMs: 5000 })).resolves.toMatchObject({ ok: false, inconclusive: true });
    expect(server.stats().requestsByStatus).toMatchObject({ '200': 1, '401': 2, '503': 1 });
  });

  it('400: splits the batch down to the single event Segment refuses, which alone is rejected', async () => {
    const items = makeItems(8);
    server.faults.rejectMessageIds(['m-3']);
    const report = await client().client.deliver(items, { budgetMs: 10_000 });
    expect(report.rejected).toEqual([
      { item: items[3], status: 400, detail: expect.stringMatching(/^Segment answered 400/) },
    ]);
    expect(ids(report.delivered)).toEqual(ids(items.filter((i) => i.n !== 3)));
    // 8 → 4+4, the bad 4 → 2+2, the bad 2 → 1+1: 1 + 2 + 2 + 2 requests.
    expect(report.requests).toBe(7);
    expect(acceptedIds()).toEqual(ids(report.delivered));
  });

  it('400 from Segment’s own checks: an event that is not JSON is isolated and rejected, the rest delivered', async () => {
    const items = [...makeItems(5), { n: 99, messageId: 'broken', json: '{"type":"track",' }];
    const report = await client().client.deliver(items, { budgetMs: 10_000 });
    expect(report.rejected.map((r) => [r.item.messageId, r.status])).toEqual([['broken', 400]]);
    expect(report.rejected[0]!.detail).toMatch(/invalid JSON/);
    expect(ids(report.delivered)).toEqual(ids(items.slice(0, 5)));
  });

  it('413: splits and resends; a single event that gets 413 is rejected', async () => {
    const items = makeItems(6);
    server.faults.add({ status: 413, times: 1 });
    const report = await client().client.deliver(items, { budgetMs: 10_000 });
    expect(ids(report.delivered)).toEqual(ids(items));
    expect(report.requests).toBe(3);
    server.faults.add({ status: 413, times: 1 });
    const single = await client().client.deliver([makeItem(50)], { budgetMs: 10_000 });
    expect(single.rejected).toMatchObject([{ item: { messageId: 'm-50' }, status: 413 }]);
    expect(single.requests).toBe(1);
  });

  it('an event over 32 KB is never sent: rejected with status 0; the others go', async () => {
    const big = makeItem(1, 32 * 1024 + 1);
    const report = await client().client.deliver([makeItem(0), big, makeItem(2)], { budgetMs: 10_000 });
    expect(report.rejected).toEqual([
      { item: big, status: 0, detail: expect.stringMatching(/over Segment's 32 KB limit/) },
    ]);
    expect(acceptedIds()).toEqual(['m-0', 'm-2']);
    expect(server.stats().requestsByStatus).toEqual({ '200': 1 });
  });

  it('429: waits as Retry-After says, then retries, without a give-up count', async () => {
    server.faults.add({ status: 429, retryAfterSeconds: 2, times: 3 });
    const report = await client().client.deliver(makeItems(4), { budgetMs: 10_000 });
    expect(report.delivered).toHaveLength(4);
    expect(report.requests).toBe(4);
    expect(time.sleeps).toEqual([2000, 2000, 2000]);
  });

  it('429: a Retry-After longer than the cap is cut to the cap', async () => {
    server.faults.add({ status: 429, retryAfterSeconds: 3600, times: 1 });
    const report = await client({ maxRetryAfterMs: 5_000 }).client.deliver(makeItems(2), { budgetMs: 60_000 });
    expect(report.delivered).toHaveLength(2);
    expect(time.sleeps).toEqual([5_000]);
  });

  it('429: a wait that does not fit the budget gives the events back as retryLater at once', async () => {
    server.faults.add({ status: 429, retryAfterSeconds: 20 });
    const items = makeItems(3);
    const report = await client().client.deliver(items, { budgetMs: 10_000 });
    expect(ids(report.retryLater)).toEqual(ids(items));
    expect(report.requests).toBe(1);
    expect(time.sleeps).toEqual([]);
  });

  it('5xx: retries with exponential backoff and full jitter, then delivers', async () => {
    server.faults.add({ status: [500, 502, 503], times: 4 });
    const report = await client({ random: () => 0.5, backoff: { baseMs: 100, maxMs: 500 } }).client.deliver(
      makeItems(3),
      {
        budgetMs: 10_000,
      },
    );
    expect(report.delivered).toHaveLength(3);
    expect(report.requests).toBe(5);
    // random()·min(500, 100·2^n) with random() = 0.5
    expect(time.sleeps).toEqual([50, 100, 200, 250]);
  });

  it('5xx: full jitter spans 0..cap (the random source decides)', async () => {
    server.faults.add({ status: 503, times: 2 });
    const rolls = [0, 0.999];
    await client({ random: () => rolls.shift()!, backoff: { baseMs: 1000 } }).client.deliver(makeItems(1), {
      budgetMs: 10_000,
    });
    expect(time.sleeps).toEqual([1, 1998]);
  });

  it('5xx until the budget is spent: retryLater, and nothing reported delivered', async () => {
    server.faults.add({ status: 503 });
    const items = makeItems(10);
    const report = await client({ random: () => 1 - 1e-9 }).client.deliver(items, { budgetMs: 2_000 });
    expect(ids(report.retryLater)).toEqual(ids(items));
    expect(report.delivered).toEqual([]);
    expect(report.requests).toBeGreaterThan(1);
    expect(time.sleeps.reduce((a, b) => a + b, 0)).toBeLessThan(2_000);
    expect(server.stats().acceptedUnique).toBe(0);
  });

  it.each([501, 505])('%i: not retried; the events are rejected', async (status) => {
    server.faults.add({ status, times: 1 });
    const items = makeItems(3);
    const report = await client().client.deliver(items, { budgetMs: 10_000 });
    expect(report.rejected.map((r) => [r.item.messageId, r.status])).toEqual(items.map((i) => [i.messageId, status]));
    expect(report.requests).toBe(1);
  });

  it('an unexpected status (404) is not retried: retryLater', async () => {
    server.faults.add({ status: 404, times: 1 });
    const report = await client().client.deliver(makeItems(2), { budgetMs: 10_000 });
    expect(report.retryLater).toHaveLength(2);
    expect(report.requests).toBe(1);
  });

  it('a connection closed mid-request is retried; Segment sees each event once', async () => {
    server.faults.add({ destroyConnection: true, times: 2 });
    const items = makeItems(5);
    const report = await client().client.deliver(items, { budgetMs: 10_000 });
    expect(ids(report.delivered)).toEqual(ids(items));
    expect(report.requests).toBe(3);
    expect(server.stats()).toMatchObject({
      acceptedUnique: 5,
      duplicates: 0,
      requestsByStatus: { closed: 2, '200': 1 },
    });
  });

  it('a timeout is retried; the late original shows up at Segment as duplicates, deduplicated on messageId', async () => {
    server.faults.add({ latencyMs: 400, times: 1 });
    const items = makeItems(4);
    const report = await client({ requestTimeoutMs: 100 }).client.deliver(items, { budgetMs: 10_000 });
    expect(ids(report.delivered)).toEqual(ids(items));
    expect(report.requests).toBe(2);
    for (let i = 0; i < 100 && server.stats().duplicates < 4; i++) await new Promise((r) => setTimeout(r, 20));
    expect(server.stats()).toMatchObject({ acceptedUnique: 4, duplicates: 4 });
  });

  describe('credentials', () => {
    it('sends the write key as Basic user name with an empty password', async () => {
      const report = await client().client.deliver(makeItems(1), { budgetMs: 1000 });
      expect(report.delivered).toHaveLength(1);
      expect(server.accepted()[0]!.source).toBe('writeKey:0');
    });

    // Segment answers 401 to a refused OAuth token, never to a write key (it takes any and discards the events); the
    // client's handling of 401/403 is the same whatever the credential, so these inject the status.
    it('401: re-reads the secret once, then fails the whole call without sending the rest', async () => {
      server.faults.add({ status: 401 });
      const items = makeItems(2000, 1000); // 4 requests' worth
      const { client: c, credentials } = client({ concurrency: 1 });
      const report = await c.deliver(items, { budgetMs: 10_000 });
      expect(ids(report.credentialFailure)).toEqual(ids(items));
      expect(report.requests).toBe(2);
      expect(report.credentialError).toMatch(/Segment answered 401 \(us\)/);
      expect(credentials.gets).toBe(2);
      expect(credentials.invalidations).toBe(2);
      expect(JSON.stringify(report.credentialError)).not.toContain(WRITE_KEY);
    });

    it('401 then a rotated credential on re-read: delivered', async () => {
      server.faults.add({ status: 401, times: 1 });
      const { client: c, credentials } = client();
      const secrets: SegmentSecret[] = [
        { kind: 'writeKey', writeKey: WRITE_KEY },
        { kind: 'writeKey', writeKey: OTHER_KEY },
      ];
      credentials.secret = () => secrets[Math.min(credentials.invalidations, 1)]!;
      const report = await c.deliver(makeItems(3), { budgetMs: 10_000 });
      expect(report.delivered).toHaveLength(3);
      expect(server.accepted().map((e) => e.source)).toEqual(['writeKey:1', 'writeKey:1', 'writeKey:1']);
    });

    it('403 is a credential failure too', async () => {
      server.faults.add({ status: 403 });
      const report = await client().client.deliver(makeItems(3), { budgetMs: 10_000 });
      expect(report.credentialFailure).toHaveLength(3);
      expect(report.credentialError).toMatch(/403/);
    });

    it('a credential that stops working mid-call: what Segment accepted is delivered, the rest is a credential failure', async () => {
      const items = makeItems(2000, 1000); // 4 requests' worth
      const { client: c } = client({ concurrency: 1 });
      const pending = c.deliver(items, { budgetMs: 10_000 });
      // Revoke once Segment has accepted the first request (the client sends them one at a time).
      for (let i = 0; i < 10_000 && server.stats().acceptedUnique === 0; i++) await new Promise((r) => setImmediate(r));
      server.faults.add({ status: 401 });
      const report = await pending;
      expect(outcomeIds(report)).toEqual(ids(items));
      expect(report.delivered.length).toBeGreaterThan(0);
      expect(report.credentialFailure.length).toBeGreaterThan(0);
      expect(ids(report.delivered)).toEqual(acceptedIds());
    });

    it('CredentialUnavailableError from the source: credential failure, no request at all', async () => {
      const { client: c, credentials } = client();
      credentials.secret = () => {
        throw new CredentialUnavailableError('secret connector-a-segment has no enabled version');
      };
      const report = await c.deliver(makeItems(3), { budgetMs: 10_000 });
      expect(report.credentialFailure).toHaveLength(3);
      expect(report.credentialError).toBe('secret connector-a-segment has no enabled version');
      expect(report.requests).toBe(0);
      expect(credentials.gets).toBe(2);
    });

    it('any other failure of the source is passing: retried within the budget, then retryLater', async () => {
      const { client: c, credentials } = client();
      credentials.secret = () => {
        throw new Error(`network down; key was ${WRITE_KEY}`);
      };
      const report = await c.deliver(makeItems(2), { budgetMs: 1_000 });
      expect(report.retryLater).toHaveLength(2);
      expect(credentials.gets).toBeGreaterThan(1);
      expect(JSON.stringify(report)).not.toContain(WRITE_KEY);
    });
  });
});

describe('OAuth credentials', () => {
  const app = { appId: 'app-7', keyId: 'kid-7', ...rsaKeyPair() };
  const secret: SegmentSecret = { kind: 'oauth', appId: app.appId, keyId: app.keyId, privateKeyPem: app.privateKeyPem };
  let server: LocalSegmentServer;
  let time: ReturnType<typeof fakeTime>;
  const clients: SegmentClient[] = [];

  beforeAll(async () => {
    time = fakeTime();
    server = await startSegmentServer({
      region: 'us',
      oauthApps: [{ appId: app.appId, keyId: app.keyId, publicKeyPem: app.publicKeyPem }],
      tokenTtlSeconds: 3600,
      now: () => time.clock.now(),
    });
  });
  afterAll(() => server.close());
  beforeEach(() => {
    server.reset();
    time.sleeps.length = 0;
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
  });

  function client(s: SegmentSecret = secret) {
    const credentials = staticCredentials(s);
    const c = createSegmentClient({
      region: 'us',
      credentials,
      baseUrl: server.url,
      tokenUrl: server.tokenUrl,
      clock: time.clock,
      sleep: time.sleep,
    });
    clients.push(c);
    return { client: c, credentials };
  }

  it('exchanges a signed assertion for a token, caches it across calls, and fetches a new one just before expiry', async () => {
    const { client: c } = client();
    expect((await c.deliver(makeItems(2), { budgetMs: 10_000 })).delivered).toHaveLength(2);
    expect((await c.deliver(makeItems(2, 300, 'b'), { budgetMs: 10_000 })).delivered).toHaveLength(2);
    expect(server.stats().tokensIssued).toBe(1);
    time.clock.t += 3600_000 - 61_000; // more than a minute left: still cached
    await c.deliver(makeItems(1, 300, 'c'), { budgetMs: 10_000 });
    expect(server.stats().tokensIssued).toBe(1);
    time.clock.t += 2_000; // under a minute left: refreshed before the server would refuse it
    const report = await c.deliver(makeItems(1, 300, 'd'), { budgetMs: 10_000 });
    expect(report).toMatchObject({ requests: 1, credentialFailure: [] });
    expect(server.stats()).toMatchObject({ tokensIssued: 2, requestsByStatus: { '200': 4 } });
    expect(new Set(server.accepted().map((e) => e.source))).toEqual(new Set(['oauth:app-7']));
  });

  it('concurrent requests share one token request', async () => {
    const { client: c } = client();
    const report = await c.deliver(makeItems(4000, 1000), { budgetMs: 10_000 });
    expect(report.delivered).toHaveLength(4000);
    expect(server.stats().tokensIssued).toBe(1);
  });

  it('401 with a cached token: fetches a new token once and delivers', async () => {
    const { client: c } = client();
    await c.deliver(makeItems(1), { budgetMs: 10_000 });
    server.faults.expireTokens();
    const report = await c.deliver(makeItems(3, 300, 'x'), { budgetMs: 10_000 });
    expect(report.delivered).toHaveLength(3);
    expect(report.requests).toBe(2);
    expect(server.stats().tokensIssued).toBe(2);
  });

  it('the token server refusing the app (revoked at time T): credential failure, with no secret in the error', async () => {
    const { client: c, credentials } = client();
    await c.deliver(makeItems(1), { budgetMs: 10_000 });
    server.faults.revokeCredentials({ appId: app.appId, at: time.clock.now() + 1_000 });
    expect((await c.deliver(makeItems(1, 300, 'before'), { budgetMs: 10_000 })).delivered).toHaveLength(1);
    time.clock.t += 1_000;
    const report = await c.deliver(makeItems(3, 300, 'after'), { budgetMs: 10_000 });
    expect(report.credentialFailure).toHaveLength(3);
    expect(report.credentialError).toMatch(/token server refused OAuth app app-7 \(key kid-7\): 401 invalid_client/);
    expect(credentials.invalidations).toBeGreaterThanOrEqual(1);
    const text = JSON.stringify(report);
    expect(text).not.toContain('PRIVATE KEY');
    expect(text).not.toContain(app.privateKeyPem.split('\n')[1]);
    server.faults.restoreCredentials();
    expect((await c.deliver(makeItems(1, 300, 'restored'), { budgetMs: 10_000 })).delivered).toHaveLength(1);
  });

  it('a key the server does not know: credential failure', async () => {
    const other = rsaKeyPair();
    const { client: c } = client({ ...secret, privateKeyPem: other.privateKeyPem } as SegmentSecret);
    const report = await c.deliver(makeItems(2), { budgetMs: 10_000 });
    expect(report.credentialFailure).toHaveLength(2);
    expect(report.requests).toBe(0);
  });

  it('a private key that is not a key: credential failure naming no key material', async () => {
    const { client: c } = client({ ...secret, privateKeyPem: 'garbage-secret-material' } as SegmentSecret);
    const report = await c.deliver(makeItems(1), { budgetMs: 10_000 });
    expect(report.credentialError).toMatch(/not a PKCS#8 RSA key/);
    expect(report.credentialError).not.toContain('garbage-secret-material');
  });

  it('token server 5xx is passing: retried, then delivered', async () => {
    server.faults.add({ status: 503, times: 2, target: 'token' });
    const { client: c } = client();
    const report = await c.deliver(makeItems(2), { budgetMs: 10_000 });
    expect(report.delivered).toHaveLength(2);
    expect(server.stats().tokenRequestsByStatus).toEqual({ '503': 2, '200': 1 });
  });
});

describe('region routing', () => {
  it('resolves each region to its own Tracking API and token server', () => {
    expect(resolveEndpoints('us').batchUrl.href).toBe('https://api.segment.io/v1/batch');
    expect(resolveEndpoints('us').tokenUrl.href).toBe('https://oauth2.segment.io/token');
    expect(resolveEndpoints('eu').batchUrl.href).toBe('https://events.eu1.segmentapis.com/v1/batch');
    expect(resolveEndpoints('eu').tokenUrl.href).toBe('https://oauth2.eu1.segmentapis.com/token');
    expect(resolveEndpoints('eu').audience).toBe('https://oauth2.eu1.segmentapis.com');
    expect(() => resolveEndpoints('ap' as never)).toThrow(/unknown Segment region 'ap'/);
  });

  it('an EU connector’s events arrive at the EU server only; an OAuth app of the other region is refused', async () => {
    const app = { appId: 'app-eu', keyId: 'kid-eu', ...rsaKeyPair() };
    const opts = {
      writeKeys: [WRITE_KEY],
      oauthApps: [{ appId: app.appId, keyId: app.keyId, publicKeyPem: app.publicKeyPem }],
    };
    const us = await startSegmentServer({ region: 'us', ...opts });
    const eu = await startSegmentServer({ region: 'eu', ...opts });
    const local = { us, eu };
    const oauth: SegmentSecret = {
      kind: 'oauth',
      appId: app.appId,
      keyId: app.keyId,
      privateKeyPem: app.privateKeyPem,
    };
    const make = (region: 'us' | 'eu', secret: SegmentSecret, server = local[region]) =>
      createSegmentClient({
        region,
        credentials: staticCredentials(secret),
        baseUrl: server.url,
        tokenUrl: server.tokenUrl,
      });
    const euWriteKey = make('eu', { kind: 'writeKey', writeKey: WRITE_KEY });
    const euOAuth = make('eu', oauth);
    const usOAuth = make('us', oauth);
    const misrouted = make('eu', oauth, us); // an EU connector pointed at the US token server
    try {
      expect((await euWriteKey.deliver(makeItems(3, 300, 'eu-wk'), { budgetMs: 5000 })).delivered).toHaveLength(3);
      expect((await euOAuth.deliver(makeItems(2, 300, 'eu-oa'), { budgetMs: 5000 })).delivered).toHaveLength(2);
      expect((await usOAuth.deliver(makeItems(1, 300, 'us-oa'), { budgetMs: 5000 })).delivered).toHaveLength(1);
      expect(
        eu
          .accepted()
          .map((e) => e.messageId)
          .sort(),
      ).toEqual(['eu-oa-0', 'eu-oa-1', 'eu-wk-0', 'eu-wk-1', 'eu-wk-2']);
      expect(us.accepted().map((e) => e.messageId)).toEqual(['us-oa-0']);
      const report = await misrouted.deliver(makeItems(1, 300, 'lost'), { budgetMs: 5000 });
      expect(report.credentialFailure).toHaveLength(1);
      expect(us.stats().tokenRequestsByStatus['401']).toBeGreaterThan(0);
    } finally {
      await Promise.all([euWriteKey, euOAuth, usOAuth, misrouted].map((c) => c.close()));
      await Promise.all([us.close(), eu.close()]);
    }
  });
});

describe('mixed faults', () => {
  let server: LocalSegmentServer;
  beforeAll(async () => {
    server = await startSegmentServer({ writeKeys: [WRITE_KEY], seed: 42 });
  });
  afterAll(() => server.close());

  async function run(faults: Parameters<LocalSegmentServer['faults']['add']>[0][]) {
    server.reset();
    for (const f of faults) server.faults.add(f);
    const poisoned = ['m-17', 'm-1234', 'm-4999'];
    server.faults.rejectMessageIds(poisoned);
    const time = fakeTime();
    let seed = 7;
    const random = () => ((seed = (seed * 16807) % 2147483647) - 1) / 2147483646;
    const client = createSegmentClient({
      region: 'us',
      credentials: staticCredentials({ kind: 'writeKey', writeKey: WRITE_KEY }),
      baseUrl: server.url,
      clock: time.clock,
      sleep: time.sleep,
      random,
      requestTimeoutMs: 100,
      plan: { maxBatchEvents: 50 },
    });
    const items = [
      ...makeItems(5000, 400),
      { n: -1, messageId: 'huge', json: JSON.stringify({ pad: 'x'.repeat(40_000) }) },
    ];
    try {
      const report = await client.deliver(items, { budgetMs: 120_000 });
      return { items, report, poisoned };
    } finally {
      await client.close();
    }
  }

  it('every event ends in exactly one outcome, and Segment holds exactly the delivered ones, once each', async () => {
    const { items, report, poisoned } = await run([
      { status: [500, 502, 503, 504], probability: 0.15 },
      { status: 429, retryAfterSeconds: 1, probability: 0.05 },
      { destroyConnection: true, probability: 0.05 },
      { latencyMs: 250, probability: 0.02 }, // over the client's 100 ms timeout: the original still lands late
      { latencyMs: 5, probability: 0.1 },
    ]);
    expect(outcomeIds(report)).toEqual(items.map((i) => i.messageId).sort());
    expect(report.rejected.map((r) => r.item.messageId).sort()).toEqual(['huge', ...poisoned].sort());
    expect(report.credentialFailure).toEqual([]);
    const stats = server.stats();
    expect(stats.faultsInjected).toBeGreaterThan(20);
    expect(stats.requestsByStatus.closed).toBeGreaterThan(0);
    // Nothing reported delivered that Segment did not accept; late originals of timed-out requests are only duplicates.
    const accepted = new Set(server.accepted().map((e) => e.messageId));
    for (const i of report.delivered) expect(accepted.has(i.messageId)).toBe(true);
    const notDelivered = new Set([...report.retryLater, ...report.rejected.map((r) => r.item)].map((i) => i.messageId));
    const extra = [...accepted].filter((id) => !report.delivered.some((d) => d.messageId === id));
    for (const id of extra) expect(notDelivered.has(id)).toBe(true);
    // The budget is ample (waits cost fake time only), so nothing is left for later, and Segment's deduplicated
    // count is exactly the delivered count.
    expect(report.retryLater).toEqual([]);
    expect(stats.acceptedUnique).toBe(report.delivered.length);
    expect(report.delivered).toHaveLength(items.length - 4);
  });

  it('with connections closed after Segment accepted: delivered ⊆ accepted ⊆ delivered ∪ retryLater; duplicates counted', async () => {
    const { items, report } = await run([
      { destroyAfterAccept: true, probability: 0.1 },
      { status: 503, probability: 0.1 },
    ]);
    expect(outcomeIds(report)).toEqual(items.map((i) => i.messageId).sort());
    const accepted = new Set(server.accepted().map((e) => e.messageId));
    const delivered = new Set(report.delivered.map((i) => i.messageId));
    const retryLater = new Set(report.retryLater.map((i) => i.messageId));
    for (const id of delivered) expect(accepted.has(id)).toBe(true);
    for (const id of accepted) expect(delivered.has(id) || retryLater.has(id)).toBe(true);
    const stats = server.stats();
    expect(stats.duplicates).toBeGreaterThan(0);
    expect(stats.acceptedUnique).toBe(accepted.size);
    expect(stats.eventsReceived).toBe(stats.acceptedUnique + stats.duplicates);
  });
});
