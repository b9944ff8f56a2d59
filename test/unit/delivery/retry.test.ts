/**
 * The Segment client's retry, split and budget rules, through an injected HTTP port (no sockets): each test scripts
 * Segment's answers per request and reads what the client sent, how long it waited, and where every event ended.
 * The same rules against the real local Segment server over HTTP are in client.test.ts (integration).
 */
import { createSegmentClient, type SegmentClientOptions } from '../../../runtime/adapters/segment';
import type { HttpClient, PostAnswer, PostRequest } from '../../../runtime/adapters/segment/http';
import { TransientError } from '../../../runtime/adapters/segment/http';
import { fakeTime, makeItems, outcomeIds, staticCredentials, type Item } from '../../support/delivery/helpers';

const WRITE_KEY = 'wk-secret-retry-0123';

/** An HTTP port answering each POST with `script` (which may throw), recording the requests' event ids. */
function scriptedHttp(script: (batchIds: string[], n: number) => PostAnswer | Promise<PostAnswer>) {
  const sent: { ids: string[]; request: PostRequest }[] = [];
  const http: HttpClient = {
    async post(request) {
      const ids = (JSON.parse(request.body) as { batch: { messageId: string }[] }).batch.map((e) => e.messageId);
      sent.push({ ids, request });
      return script(ids, sent.length);
    },
  };
  return { http, sent };
}

const answer = (status: number, headers: Record<string, string> = {}): PostAnswer => ({ status, headers, text: '' });

function setup(http: HttpClient, overrides: Partial<SegmentClientOptions> = {}) {
  const time = fakeTime();
  const credentials = staticCredentials({ kind: 'writeKey', writeKey: WRITE_KEY });
  const client = createSegmentClient({
    region: 'us',
    credentials,
    http,
    clock: time.clock,
    sleep: time.sleep,
    random: () => 0.5,
    ...overrides,
  });
  return { client, credentials, time };
}

const ids = (items: readonly Item[]) => items.map((i) => i.messageId).sort();

describe('Segment client rules over an injected HTTP port', () => {
  it('sends one batch with the write key as Basic auth to the region host', async () => {
    const { http, sent } = scriptedHttp(() => answer(200));
    const items = makeItems(3);
    const report = await setup(http).client.deliver(items, { budgetMs: 1_000 });
    expect(ids(report.delivered)).toEqual(ids(items));
    expect(sent).toHaveLength(1);
    expect(sent[0]!.request.url.href).toBe('https://api.segment.io/v1/batch');
    expect(sent[0]!.request.headers.authorization).toBe(`Basic ${Buffer.from(`${WRITE_KEY}:`).toString('base64')}`);
  });

  it('400: splits in halves down to the one event Segment refuses; the others are delivered', async () => {
    const { http, sent } = scriptedHttp((batch) => answer(batch.includes('m-2') ? 400 : 200));
    const items = makeItems(4);
    const report = await setup(http).client.deliver(items, { budgetMs: 1_000 });
    expect(sent.map((s) => s.ids)).toEqual([
      ['m-0', 'm-1', 'm-2', 'm-3'],
      ['m-0', 'm-1'],
      ['m-2', 'm-3'],
      ['m-2'],
      ['m-3'],
    ]);
    expect(report.rejected.map((r) => [r.item.messageId, r.status])).toEqual([['m-2', 400]]);
    expect(ids(report.delivered)).toEqual(['m-0', 'm-1', 'm-3']);
    expect(report.requests).toBe(5);
  });

  it('503: backs off with full jitter while the budget lasts, then gives every event back for redelivery', async () => {
    const { http, sent } = scriptedHttp(() => answer(503));
    const { client, time } = setup(http);
    const items = makeItems(2);
    const report = await client.deliver(items, { budgetMs: 1_000 });
    // random() = 0.5 of min(5 s, 100 ms · 2^n): 50, 100, 200, 400; the next (800) would end past the budget.
    expect(time.sleeps).toEqual([50, 100, 200, 400]);
    expect(sent).toHaveLength(5);
    expect(ids(report.retryLater)).toEqual(ids(items));
    expect(outcomeIds(report)).toEqual(ids(items));
  });

  it('429: waits Retry-After, then delivers; a Retry-After past the budget gives the events back at once', async () => {
    const first = scriptedHttp((_b, n) => (n === 1 ? answer(429, { 'retry-after': '2' }) : answer(200)));
    const a = setup(first.http);
    const delivered = await a.client.deliver(makeItems(2), { budgetMs: 5_000 });
    expect(a.time.sleeps).toEqual([2_000]);
    expect(delivered.delivered).toHaveLength(2);

    const late = scriptedHttp(() => answer(429, { 'retry-after': '30' }));
    const b = setup(late.http);
    const report = await b.client.deliver(makeItems(2), { budgetMs: 5_000 });
    expect(b.time.sleeps).toEqual([]);
    expect(late.sent).toHaveLength(1);
    expect(report.retryLater).toHaveLength(2);
  });

  it('a network error or a timeout is retried after a backoff', async () => {
    const { http, sent } = scriptedHttp((_b, n) => {
      if (n === 1) throw Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
      if (n === 2) throw new TransientError('timed out after 10000 ms');
      return answer(200);
    });
    const { client, time } = setup(http);
    const report = await client.deliver(makeItems(1), { budgetMs: 5_000 });
    expect(sent).toHaveLength(3);
    expect(time.sleeps).toEqual([50, 100]);
    expect(report.delivered).toHaveLength(1);
  });

  it('401: re-reads the credential once, then files every event as a credential failure and sends no more', async () => {
    const { http, sent } = scriptedHttp(() => answer(401));
    const { client, credentials } = setup(http, { concurrency: 1, plan: { maxBatchEvents: 2 } });
    const items = makeItems(4);
    const report = await client.deliver(items, { budgetMs: 5_000 });
    expect(sent).toHaveLength(2);
    expect(credentials.invalidations).toBe(2);
    expect(report.credentialError).toBe('Segment answered 401 (us)');
    expect(ids(report.credentialFailure)).toEqual(ids(items));
    expect(JSON.stringify(report)).not.toContain(WRITE_KEY);
  });

  it('501: rejects the whole request without retrying (Segment cannot serve it as made)', async () => {
    const { http, sent } = scriptedHttp(() => answer(501));
    const report = await setup(http).client.deliver(makeItems(3), { budgetMs: 5_000 });
    expect(sent).toHaveLength(1);
    expect(report.rejected.map((r) => r.status)).toEqual([501, 501, 501]);
  });
});
