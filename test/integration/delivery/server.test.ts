import { randomUUID } from 'node:crypto';
import { importPKCS8, SignJWT } from 'jose';
import { startSegmentServer, type LocalSegmentServer } from '../../../local/segment-server';
import { BATCH_BODY_OVERHEAD_BYTES, batchBody, SEGMENT_LIMITS } from '../../../runtime/core/batch';
import { fakeTime, makeItem, makeItems, rsaKeyPair, type Item } from '../../support/delivery/helpers';

const SENT_AT = '2024-05-06T07:08:09.123Z';
const basic = (key: string) => 'Basic ' + Buffer.from(`${key}:`).toString('base64');

async function post(url: string, body: string, auth?: string, contentType = 'application/json') {
  const headers: Record<string, string> = { 'content-type': contentType };
  if (auth) headers.authorization = auth;
  const res = await fetch(url, { method: 'POST', body, headers });
  return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, unknown> };
}

/** `count` items whose batch body is exactly `total` bytes. */
function itemsForBody(total: number, count: number): Item[] {
  const room = total - BATCH_BODY_OVERHEAD_BYTES - (count - 1);
  const per = Math.floor(room / count);
  const items = Array.from({ length: count - 1 }, (_, i) => makeItem(i, per));
  items.push(makeItem(count - 1, room - per * (count - 1)));
  expect(Buffer.byteLength(batchBody(items, SENT_AT))).toBe(total);
  return items;
}

describe('local Segment server: Tracking API', () => {
  let server: LocalSegmentServer;
  const batch = (items: Item[], auth = basic('wk-1')) =>
    post(`${server.url}/v1/batch`, batchBody(items, SENT_AT), auth);

  beforeAll(async () => {
    server = await startSegmentServer({ region: 'eu', writeKeys: ['wk-0', 'wk-1'] });
  });
  afterAll(() => server.close());
  beforeEach(() => server.reset());

  it('listens on a free loopback port and labels its region', () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(server.port).toBeGreaterThan(0);
    expect(server.region).toBe('eu');
    expect(server.stats().region).toBe('eu');
  });

  it('accepts a batch with a registered write key and records every event with its source', async () => {
    const items = makeItems(3);
    const res = await batch(items);
    expect(res).toMatchObject({ status: 200, body: { success: true } });
    const accepted = server.accepted();
    expect(accepted.map((e) => e.messageId)).toEqual(['m-0', 'm-1', 'm-2']);
    expect(accepted[0]).toMatchObject({ source: 'writeKey:1', path: '/v1/batch', receipts: 1 });
    expect(accepted[0]!.call).toEqual(JSON.parse(items[0]!.json));
    expect(server.stats()).toMatchObject({
      requests: 1,
      requestsByStatus: { '200': 1 },
      acceptedUnique: 3,
      duplicates: 0,
    });
  });

  it('answers 200 to an unknown write key, as Segment does, and discards the events (counted, never accepted)', async () => {
    expect(await batch(makeItems(2), basic('nope'))).toMatchObject({ status: 200, body: { success: true } });
    expect(server.accepted()).toEqual([]);
    expect(server.stats()).toMatchObject({
      requestsByStatus: { '200': 1 },
      acceptedUnique: 0,
      discarded: { unknown_write_key: 2 },
    });
  });

  it('still answers 400 to a malformed batch sent with an unknown write key (only well-formed ones get 200)', async () => {
    expect((await post(`${server.url}/v1/batch`, '{nope', basic('nope'))).status).toBe(400);
    expect(server.stats().discarded).toEqual({});
  });

  it('answers 401 to no credential and to an OAuth token it did not issue, and accepts nothing', async () => {
    expect((await batch(makeItems(1), '')).status).toBe(401);
    expect((await batch(makeItems(1), 'Bearer made-up')).status).toBe(401);
    expect(server.stats()).toMatchObject({ requests: 2, requestsByStatus: { '401': 2 }, acceptedUnique: 0 });
  });

  it('deduplicates on messageId and counts every duplicate receipt', async () => {
    await batch(makeItems(2));
    await batch(makeItems(3));
    const stats = server.stats();
    expect(stats).toMatchObject({ eventsReceived: 5, acceptedUnique: 3, duplicates: 2 });
    expect(server.accepted().map((e) => e.receipts)).toEqual([2, 2, 1]);
  });

  it('answers 400 to bodies that are not JSON, not an object, or without a batch array', async () => {
    const auth = basic('wk-0');
    expect((await post(`${server.url}/v1/batch`, '{"batch":[', auth)).status).toBe(400);
    expect((await post(`${server.url}/v1/batch`, '[1]', auth)).status).toBe(400);
    expect((await post(`${server.url}/v1/batch`, '{"batch":{}}', auth)).status).toBe(400);
    expect((await post(`${server.url}/v1/batch`, '{"batch":[1]}', auth)).status).toBe(400);
    expect(server.stats()).toMatchObject({ requestsByStatus: { '400': 4 }, acceptedUnique: 0 });
  });

  it('takes a request of exactly 500 KiB and refuses one byte more with 400', async () => {
    expect((await batch(itemsForBody(SEGMENT_LIMITS.maxRequestBytes, 200))).status).toBe(200);
    server.reset();
    const res = await batch(itemsForBody(SEGMENT_LIMITS.maxRequestBytes + 1, 200));
    expect(res.status).toBe(400);
    expect(res.body.error).toMatch(/512001 bytes/);
    expect(server.stats().acceptedUnique).toBe(0);
  });

  it('takes 2,500 events and refuses 2,501 with 400', async () => {
    expect((await batch(makeItems(2500, 150))).status).toBe(200);
    expect(server.stats().acceptedUnique).toBe(2500);
    server.reset();
    expect((await batch(makeItems(2501, 150))).status).toBe(400);
    expect(server.stats().acceptedUnique).toBe(0);
  });

  it('takes a call of exactly 32 KiB and refuses a batch holding one of 32 KiB + 1 with 400, accepting none of it', async () => {
    expect((await batch([makeItem(1, SEGMENT_LIMITS.maxCallBytes)])).status).toBe(200);
    server.reset();
    const res = await batch([makeItem(1), makeItem(2, SEGMENT_LIMITS.maxCallBytes + 1)]);
    expect(res.status).toBe(400);
    expect(res.body.error).toMatch(/batch\[1\] is 32769 bytes/);
    expect(server.stats().acceptedUnique).toBe(0);
  });

  it('answers 200 but drops calls Segment drops (no user id, track without event)', async () => {
    const noUser = { type: 'track', event: 'X', messageId: 'a', timestamp: SENT_AT, context: {}, properties: {} };
    const noEvent = { type: 'track', userId: 'u', messageId: 'b', timestamp: SENT_AT, context: {}, properties: {} };
    const items = [noUser, noEvent].map((c) => ({ messageId: c.messageId, json: JSON.stringify(c), n: 0 }));
    expect((await batch([...items, makeItem(3)])).status).toBe(200);
    expect(server.stats()).toMatchObject({ eventsReceived: 3, droppedInvalid: 2, acceptedUnique: 1 });
  });

  it('serves /v1/track for one call, limited to 32 KiB', async () => {
    expect((await post(`${server.url}/v1/track`, makeItem(7).json, basic('wk-0'))).status).toBe(200);
    expect(server.accepted()).toMatchObject([{ messageId: 'm-7', path: '/v1/track', source: 'writeKey:0' }]);
    expect((await post(`${server.url}/v1/track`, makeItem(8, 32 * 1024 + 1).json, basic('wk-0'))).status).toBe(400);
  });

  it('injects statuses a fixed number of times, with Retry-After, then serves normally', async () => {
    server.faults.add({ status: 503, times: 2 });
    server.faults.add({ status: 429, retryAfterSeconds: 7, times: 1 });
    const statuses = [];
    for (let i = 0; i < 4; i++) {
      const res = await batch([makeItem(i)]);
      statuses.push(res.status);
      if (res.status === 429) expect(res.headers.get('retry-after')).toBe('7');
    }
    expect(statuses).toEqual([503, 503, 429, 200]);
    expect(server.stats()).toMatchObject({
      faultsInjected: 3,
      acceptedUnique: 1,
      requestsByStatus: { '503': 2, '429': 1, '200': 1 },
    });
    expect(server.faults.list().map((r) => r.fired)).toEqual([2, 1]);
  });

  it('injects random statuses with a probability, reproducibly for a seed', async () => {
    const run = async () => {
      server.reset();
      server.faults.add({ status: [500, 502], probability: 0.5 });
      const out: number[] = [];
      for (let i = 0; i < 30; i++) out.push((await batch([makeItem(i)])).status);
      return out;
    };
    const first = await run();
    expect(await run()).toEqual(first);
    expect(new Set(first)).toEqual(new Set([200, 500, 502]));
    const stats = server.stats();
    expect(stats.faultsInjected).toBe(first.filter((s) => s !== 200).length);
    expect(stats.acceptedUnique).toBe(first.filter((s) => s === 200).length);
  });

  it('closes the connection before answering (nothing accepted) or after accepting (events recorded)', async () => {
    server.faults.add({ destroyConnection: true, times: 1 });
    await expect(batch([makeItem(1)])).rejects.toThrow();
    expect(server.stats()).toMatchObject({ requestsByStatus: { closed: 1 }, acceptedUnique: 0 });
    server.faults.add({ destroyAfterAccept: true, times: 1 });
    await expect(batch([makeItem(2)])).rejects.toThrow();
    expect(server.stats()).toMatchObject({ requestsByStatus: { closed: 2 }, acceptedUnique: 1 });
    expect((await batch([makeItem(2)])).status).toBe(200);
    expect(server.stats()).toMatchObject({ acceptedUnique: 1, duplicates: 1 });
  });

  it('delays answers by the injected latency and still answers', async () => {
    server.faults.add({ latencyMs: 30, times: 1 });
    expect((await batch([makeItem(1)])).status).toBe(200);
    expect(server.stats()).toMatchObject({ faultsInjected: 1, acceptedUnique: 1 });
  });

  it('answers 400 to any request carrying a messageId it was told to reject', async () => {
    server.faults.rejectMessageIds(['m-1']);
    expect((await batch(makeItems(3))).status).toBe(400);
    expect((await batch([makeItem(0), makeItem(2)])).status).toBe(200);
    expect(server.accepted().map((e) => e.messageId)).toEqual(['m-0', 'm-2']);
  });

  it('revokes one write key or all of them (200, discarded), and restores them', async () => {
    server.faults.revokeCredentials({ writeKey: 'wk-1' });
    expect((await batch([makeItem(1)], basic('wk-1'))).status).toBe(200);
    expect((await batch([makeItem(1)], basic('wk-0'))).status).toBe(200);
    server.faults.revokeCredentials();
    expect((await batch([makeItem(2)], basic('wk-0'))).status).toBe(200);
    expect(server.accepted().map((e) => `${e.source}/${e.messageId}`)).toEqual(['writeKey:0/m-1']);
    expect(server.stats().discarded).toEqual({ revoked_write_key: 2 });
    server.faults.restoreCredentials();
    expect((await batch([makeItem(2)], basic('wk-1'))).status).toBe(200);
    expect(server.accepted().map((e) => `${e.source}/${e.messageId}`)).toEqual(['writeKey:0/m-1', 'writeKey:1/m-2']);
  });

  it('discards the events of a rotated-away or removed write key and of a disabled source; the new key is accepted', async () => {
    const fresh = server.sources.rotateWriteKey('source-1');
    expect(fresh).not.toBe('wk-1');
    expect(await batch([makeItem(1)], basic('wk-1'))).toMatchObject({ status: 200, body: { success: true } });
    expect((await batch([makeItem(2)], basic(fresh))).status).toBe(200);
    expect(server.accepted().map((e) => `${e.source}/${e.messageId}`)).toEqual(['writeKey:1/m-2']);
    server.sources.removeWriteKey('source-0', 'wk-0');
    expect((await batch([makeItem(3)], basic('wk-0'))).status).toBe(200);
    server.sources.setEnabled('source-1', false);
    expect((await batch([makeItem(4), makeItem(5)], basic(fresh))).status).toBe(200);
    expect(server.stats()).toMatchObject({
      acceptedUnique: 1,
      discarded: { revoked_write_key: 2, source_disabled: 2 },
    });
    expect(server.sources.get('source-1')).toEqual({ id: 'source-1', enabled: false, writeKeys: [fresh] });
  });

  it('answers 200 to a key of the other region and discards it there; the right region accepts it', async () => {
    const us = await startSegmentServer({ region: 'us', writeKeys: ['wk-us'] });
    try {
      expect((await batch([makeItem(1)], basic('wk-us'))).status).toBe(200); // sent to the eu server
      expect(server.stats()).toMatchObject({ acceptedUnique: 0, discarded: { unknown_write_key: 1 } });
      const res = await post(`${us.url}/v1/batch`, batchBody([makeItem(1)], SENT_AT), basic('wk-us'));
      expect(res.status).toBe(200);
      expect(us.stats()).toMatchObject({ acceptedUnique: 1, discarded: {} });
    } finally {
      await us.close();
    }
  });

  it('is driven over HTTP too: faults, stats, events, reset', async () => {
    const admin = (method: string, path: string, body?: unknown) =>
      fetch(`${server.url}/__admin/${path}`, {
        method,
        body: body === undefined ? undefined : JSON.stringify(body),
      }).then(async (r) => ({ status: r.status, body: (await r.json()) as Record<string, unknown> }));
    const { body: added } = await admin('POST', 'faults', { status: 502, times: 1 });
    expect(added.id).toEqual(expect.any(String));
    expect((await batch([makeItem(1)])).status).toBe(502);
    await admin('POST', 'reject', { messageIds: ['m-9'] });
    expect((await batch([makeItem(9)])).status).toBe(400);
    await admin('POST', 'credentials/revoke', { writeKey: 'wk-1' });
    expect((await batch([makeItem(1)], 'Bearer not-issued')).status).toBe(401);
    await admin('POST', 'credentials/restore');
    expect((await batch(makeItems(3))).status).toBe(200);
    expect((await admin('GET', 'stats')).body).toMatchObject({
      requests: 4,
      acceptedUnique: 3,
      requestsByStatus: { '502': 1, '400': 1, '401': 1, '200': 1 },
    });
    const events = await admin('GET', 'events?offset=1&limit=1');
    expect(events.body).toMatchObject({ total: 3, events: [{ messageId: 'm-1', source: 'writeKey:1' }] });
    await admin('POST', 'faults', { status: 500 });
    await admin('DELETE', 'faults');
    expect((await admin('GET', 'faults')).body).toEqual([]);
    await admin('POST', 'reset');
    expect((await admin('GET', 'stats')).body).toMatchObject({ requests: 0, acceptedUnique: 0 });
    expect((await admin('GET', 'nothing')).status).toBe(404);
  });
});

describe('local Segment server: OAuth token endpoint', () => {
  const app = { appId: 'app-1', keyId: 'key-1', ...rsaKeyPair() };
  const stranger = rsaKeyPair();
  const time = fakeTime();
  let server: LocalSegmentServer;

  beforeAll(async () => {
    server = await startSegmentServer({
      region: 'us',
      oauthApps: [{ appId: app.appId, keyId: app.keyId, publicKeyPem: app.publicKeyPem }],
      tokenTtlSeconds: 600,
      now: time.clock.now,
    });
  });
  afterAll(() => server.close());
  beforeEach(() => server.reset());

  async function assertion(
    claims: { kid?: string; sub?: string; aud?: string; iss?: string; jti?: string; key?: string; exp?: number } = {},
  ) {
    const now = Math.floor(time.clock.now() / 1000);
    return new SignJWT({})
      .setProtectedHeader({ alg: 'RS256', kid: claims.kid ?? app.keyId })
      .setSubject(claims.sub ?? app.appId)
      .setAudience(claims.aud ?? 'https://oauth2.segment.io')
      .setIssuer(claims.iss ?? 'https://oauth2.segment.io')
      .setIssuedAt(now)
      .setExpirationTime(claims.exp ?? now + 60)
      .setJti(claims.jti ?? randomUUID())
      .sign(await importPKCS8(claims.key ?? app.privateKeyPem, 'RS256'));
  }
  const requestToken = async (jwt: string, overrides: Record<string, string> = {}) => {
    const form = new URLSearchParams({
      grant_type: 'client_credentials',
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: jwt,
      scope: 'tracking_api:write',
      ...overrides,
    });
    return post(`${server.tokenUrl}/token`, form.toString(), undefined, 'application/x-www-form-urlencoded');
  };

  it('issues an opaque token with an expiry for a valid assertion; the token authorizes Tracking API calls', async () => {
    const res = await requestToken(await assertion());
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ token_type: 'Bearer', expires_in: 600, scope: 'tracking_api:write' });
    const token = res.body.access_token as string;
    expect((await post(`${server.url}/v1/batch`, batchBody([makeItem(1)], SENT_AT), `Bearer ${token}`)).status).toBe(
      200,
    );
    expect(server.accepted()[0]).toMatchObject({ source: 'oauth:app-1' });
    // Expires on the server's clock.
    time.clock.t += 600_000;
    expect((await post(`${server.url}/v1/batch`, batchBody([makeItem(2)], SENT_AT), `Bearer ${token}`)).status).toBe(
      401,
    );
    expect(server.stats()).toMatchObject({ tokensIssued: 1, tokenRequestsByStatus: { '200': 1 } });
  });

  it('accepts its own URL as audience and the app id as issuer', async () => {
    expect((await requestToken(await assertion({ aud: server.tokenUrl, iss: app.appId }))).status).toBe(200);
  });

  it.each([
    ['an unknown kid', { kid: 'other' }],
    ['a signature by another key', { key: stranger.privateKeyPem }],
    ['another app id as sub', { sub: 'app-2' }],
    ['the other region as audience', { aud: 'https://oauth2.eu1.segmentapis.com' }],
    ['an expired assertion', { exp: Math.floor(fakeTime().clock.now() / 1000) - 60 }],
    ['an exp far ahead', { exp: Math.floor(fakeTime().clock.now() / 1000) + 3600 }],
  ])('refuses %s with 401 invalid_client', async (_what, claims) => {
    const res = await requestToken(await assertion(claims));
    expect(res.status).toBe(401);
    expect(res.body.error).toBe('invalid_client');
    expect(server.stats().tokensIssued).toBe(0);
  });

  it('refuses a replayed jti', async () => {
    const jwt = await assertion();
    expect((await requestToken(jwt)).status).toBe(200);
    expect((await requestToken(jwt)).status).toBe(401);
  });

  it('answers 400 to a malformed token request', async () => {
    const jwt = await assertion();
    expect((await requestToken(jwt, { grant_type: 'password' })).status).toBe(400);
    expect((await requestToken(jwt, { scope: 'everything' })).status).toBe(400);
    expect((await requestToken(jwt, { client_assertion_type: 'x' })).status).toBe(400);
    expect((await requestToken('not-a-jwt')).status).toBe(400);
  });

  it('stops honouring an app from a given time, its tokens included, until restored', async () => {
    const token = (await requestToken(await assertion())).body.access_token as string;
    server.faults.revokeCredentials({ appId: app.appId, at: time.clock.now() + 1000 });
    expect((await post(`${server.url}/v1/batch`, batchBody([makeItem(1)], SENT_AT), `Bearer ${token}`)).status).toBe(
      200,
    );
    time.clock.t += 1000;
    expect((await post(`${server.url}/v1/batch`, batchBody([makeItem(2)], SENT_AT), `Bearer ${token}`)).status).toBe(
      401,
    );
    expect((await requestToken(await assertion())).status).toBe(401);
    server.faults.restoreCredentials();
    expect((await requestToken(await assertion())).status).toBe(200);
  });

  it('forgets issued tokens on command', async () => {
    const token = (await requestToken(await assertion())).body.access_token as string;
    server.faults.expireTokens();
    expect((await post(`${server.url}/v1/batch`, batchBody([makeItem(1)], SENT_AT), `Bearer ${token}`)).status).toBe(
      401,
    );
  });
});

describe("local Segment server: the Public API's get-source route", () => {
  let server: LocalSegmentServer;
  const TOKEN = 'papi-token-local-test';
  const getSource = async (id: string, token = TOKEN, on = server) => {
    const res = await fetch(`${on.url}/sources/${id}`, { headers: { authorization: `Bearer ${token}` } });
    type SourceBody = { data: { source: { enabled: boolean; writeKeys: string[] } }; errors?: unknown };
    return { status: res.status, body: (await res.json()) as SourceBody };
  };
  const admin = (path: string, body?: unknown) =>
    fetch(`${server.url}/__admin/sources/${path}`, {
      method: 'POST',
      body: body === undefined ? undefined : JSON.stringify(body),
    }).then(async (r) => ({ status: r.status, body: (await r.json()) as Record<string, unknown> }));

  beforeAll(async () => {
    server = await startSegmentServer({
      region: 'us',
      writeKeys: ['wk-0'],
      sources: [{ id: 'src_braze', writeKeys: ['wk-braze'] }],
      publicApiTokens: [TOKEN],
    });
  });
  afterAll(() => server.close());
  beforeEach(() => server.reset());

  it('describes a source: enabled and its write keys, in the Public API shape', async () => {
    const res = await getSource('src_braze');
    expect(res.status).toBe(200);
    expect(res.body.data.source).toMatchObject({ id: 'src_braze', enabled: true, writeKeys: ['wk-braze'] });
    expect((await getSource('source-0')).body.data.source.writeKeys).toEqual(['wk-0']);
    expect(server.stats().publicApiRequestsByStatus).toEqual({ '200': 2 });
  });

  it('answers 404 to a source this region does not have (one of the other region included) and 401 to another token', async () => {
    const eu = await startSegmentServer({ region: 'eu', sources: [{ id: 'src_eu', writeKeys: ['k'] }] });
    try {
      expect((await getSource('src_eu')).status).toBe(404);
      expect((await getSource('src_nope')).body).toEqual({ errors: [expect.objectContaining({ type: 'not-found' })] });
      expect((await getSource('src_braze', 'wrong')).status).toBe(401);
      expect((await getSource('src_eu', TOKEN, eu)).status).toBe(401); // eu was given no token
    } finally {
      await eu.close();
    }
  });

  it('shows what the admin controls changed: disabled, rotated, removed; reset restores them', async () => {
    expect((await admin('src_braze/disable')).status).toBe(200);
    expect((await getSource('src_braze')).body.data.source.enabled).toBe(false);
    await admin('src_braze/enable');
    const { body } = await admin('src_braze/write-keys/rotate', { newKey: 'wk-braze-2' });
    expect(body).toEqual({ writeKey: 'wk-braze-2' });
    expect((await getSource('src_braze')).body.data.source.writeKeys).toEqual(['wk-braze-2']);
    await admin('src_braze/write-keys/rotate', { newKey: 'wk-braze-3', keepOld: true });
    await admin('src_braze/write-keys/remove', { writeKey: 'wk-braze-2' });
    expect((await getSource('src_braze')).body.data.source).toMatchObject({ enabled: true, writeKeys: ['wk-braze-3'] });
    expect((await admin('src_nope/disable')).status).toBe(404);
    server.reset();
    expect((await getSource('src_braze')).body.data.source.writeKeys).toEqual(['wk-braze']);
  });

  it('takes faults aimed at the Public API only', async () => {
    server.faults.add({ status: 503, times: 1, target: 'publicApi' });
    expect((await getSource('src_braze')).status).toBe(503);
    expect((await getSource('src_braze')).status).toBe(200);
    expect(server.stats()).toMatchObject({ requests: 0, publicApiRequestsByStatus: { '503': 1, '200': 1 } });
  });
});
