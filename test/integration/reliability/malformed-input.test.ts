/**
 * Bad input, generated (fast-check), sent at the running function (functions-framework on loopback, real emulators,
 * local Segment server): malformed push requests and malformed Currents payloads beside good events. The function never
 * crashes, answers every request (204 for a push it handled, 400 for a request that is not a Pub/Sub push), dead-letters
 * each bad event with a reason, and delivers the good events that came in the same message.
 */
import fc from 'fast-check';
import { pushEnvelope } from '../../../runtime/core/push';
import { nestEvent, sampleEvent } from '../../../common/samples';
import { startFixture, type Fixture } from '../../support/function/fixture';

jest.setTimeout(180_000);

const GOOD_TYPES = ['users.messages.email.Open', 'users.canvas.Entry', 'users.messages.pushnotification.Send'];
/** A string field each of those types has (a wrong type there is invalid; unknown fields pass through). */
const STRING_FIELD: Record<string, string> = {
  'users.messages.email.Open': 'campaign_name',
  'users.canvas.Entry': 'canvas_name',
  'users.messages.pushnotification.Send': 'campaign_name',
};

/** A bad Currents event of one kind, with a unique id where it has one (so its dead letter can be found). */
function badEvent(kind: number, n: number, junk: unknown): { event: unknown; id?: string } {
  const type = GOOD_TYPES[n % 3]!;
  const base = sampleEvent(type, {}, 50_000 + n);
  const field = STRING_FIELD[type]!;
  const id = `bad-${n}`;
  switch (kind) {
    case 0: // wrong type for time
      return { event: { ...base, id, time: String(junk) }, id };
    case 1: // missing id
      return { event: { ...base, id: undefined } };
    case 2: // missing time
      return { event: { ...base, id, time: undefined }, id };
    case 3: // a huge string: the translated call is over 32 KB
      return { event: { ...base, id, [field]: 'x'.repeat(40_000 + (n % 1000)) }, id };
    case 4: // deep nesting in a field
      return { event: { ...base, id, [field]: deep(2_000) }, id };
    case 5: // a wrong type for a known string field
      return { event: { ...base, id, [field]: junk === null ? 42 : { nested: junk } }, id };
    case 6: // not an object at all
      return { event: junk === null ? 'not an event' : [junk] };
    default: // negative / fractional time
      return { event: { ...base, id, time: -1.5 }, id };
  }
}

function deep(depth: number): unknown {
  let v: unknown = 'bottom';
  for (let i = 0; i < depth; i++) v = { v };
  return v;
}

describe('malformed input at the running function', () => {
  let f: Fixture;
  beforeAll(async () => {
    f = await startFixture();
  });
  afterAll(() => f.stop());

  it('never crashes, answers every request, dead-letters each bad event and delivers the good ones beside it', async () => {
    const { url, headers } = f.stack.connector('fn-test').host;
    const post = async (body: string | Buffer, contentType = 'application/json') => {
      const res = await fetch(`${url}/`, {
        method: 'POST',
        headers: { 'content-type': contentType, ...headers },
        body,
      });
      await res.text();
      return res.status;
    };
    const good: string[] = [];
    const badIds: string[] = [];
    let undecodableMessages = 0;
    let cases = 0;
    let n = 0;

    // 1. Requests that are not Pub/Sub pushes: 400 with a reason, never a crash.
    const notAPush = fc.oneof(
      fc.constant(''),
      fc.string(),
      fc.json(),
      fc.jsonValue().map((v) => JSON.stringify({ message: v })),
      fc
        .record({ message: fc.record({ messageId: fc.oneof(fc.integer(), fc.constant('')) }) })
        .map((v) => JSON.stringify(v)),
      fc.string().map((s) => JSON.stringify({ message: { messageId: 'm', data: `%%${s}%%` } })),
      fc
        .record({ a: fc.anything() })
        .map((v) => JSON.stringify({ message: { messageId: 'm', data: '', attributes: v } })),
    );
    await fc.assert(
      fc.asyncProperty(notAPush, async (body) => {
        cases++;
        const status = await post(body);
        // A body that happens to be a valid push of nothing decodable is handled (204) and dead-lettered.
        if (status === 204) undecodableMessages++;
        expect([400, 204]).toContain(status);
      }),
      { numRuns: 60, seed: 7 },
    );

    // 2. Valid pushes whose data is not Currents JSON at all: base64 garbage, invalid UTF-8, non-JSON, empty.
    const badData = fc.oneof(
      fc.uint8Array({ minLength: 1, maxLength: 300 }).map((b) => Buffer.from([0xff, 0xfe, ...b])),
      fc.string({ minLength: 1 }).map((s) => Buffer.from(`not json: ${s}`)),
      fc.constant(Buffer.alloc(0)),
      fc.integer().map((i) => Buffer.from(String(i))),
    );
    await fc.assert(
      fc.asyncProperty(badData, async (data) => {
        cases++;
        const status = await post(JSON.stringify(pushEnvelope(data, {}, `garbage-${n++}`)));
        expect(status).toBe(204);
        undecodableMessages++;
      }),
      { numRuns: 40, seed: 8 },
    );

    // 3. Messages mixing good events with bad ones of every kind, in the envelope shape.
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 7 }), fc.oneof(fc.string(), fc.integer(), fc.constant(null))), {
          minLength: 1,
          maxLength: 6,
        }),
        fc.integer({ min: 1, max: 5 }),
        async (bads, goodCount) => {
          cases++;
          const events: unknown[] = [];
          for (let i = 0; i < goodCount; i++) {
            const e = sampleEvent(GOOD_TYPES[i % 3]!, {}, 10_000 + n * 10 + i);
            good.push(e.id);
            events.push(i % 2 ? nestEvent(e) : e);
          }
          for (const [kind, junk] of bads) {
            const b = badEvent(kind, n * 10 + events.length, junk);
            if (b.id) badIds.push(b.id);
            events.push(b.event);
          }
          n++;
          const status = await post(JSON.stringify(pushEnvelope(JSON.stringify({ events }), {}, `mixed-${n}`)));
          expect(status).toBe(204);
        },
      ),
      { numRuns: 60, seed: 9 },
    );

    // 4. An oversized message: 3,000 events (~3 MB) with a few bad ones among them.
    const big: unknown[] = [];
    for (let i = 0; i < 3000; i++) {
      if (i % 500 === 7) {
        const b = badEvent(0, 900_000 + i, 'x');
        badIds.push(b.id!);
        big.push(b.event);
      } else {
        const e = sampleEvent(GOOD_TYPES[i % 3]!, {}, 700_000 + i);
        good.push(e.id);
        big.push(e);
      }
    }
    cases++;
    expect(await post(JSON.stringify(pushEnvelope(JSON.stringify({ events: big }), {}, 'oversized')))).toBe(204);

    const host = f.stack.connector('fn-test').host;
    expect(host.exited).toBe(false);
    const health = await fetch(`${url}/healthz`);
    expect(health.status).toBe(200);

    // Every good event was delivered (once), none of the bad ones.
    const accepted = new Set(f.stack.servers.eu.accepted().map((e) => e.messageId));
    expect(good.filter((id) => !accepted.has(id))).toEqual([]);
    expect(badIds.filter((id) => accepted.has(id))).toEqual([]);

    // Every bad event with an id is in the dead-letter subscription, with a reason and a detail.
    const letters: Awaited<ReturnType<Fixture['takeDeadLetters']>> = [];
    const want = new Set(badIds);
    await f.waitFor(async () => {
      letters.push(...(await f.takeDeadLetters()));
      return [...want].every((id) => letters.some((l) => l.eventId === id));
    }, 30_000);
    for (const id of want) {
      const letter = letters.find((l) => l.eventId === id);
      expect({ id, reason: letter?.reason }).toEqual({ id, reason: expect.stringMatching(/^(invalid|too_large)$/) });
      expect(letter!.detail.length).toBeGreaterThan(0);
    }
    // Undecodable messages are dead-lettered whole, with reason invalid.
    expect(letters.filter((l) => l.reason === 'invalid' && !l.eventId).length).toBeGreaterThanOrEqual(
      undecodableMessages,
    );
    console.log(
      `malformed input: ${cases} generated cases (${good.length} good events delivered beside ${badIds.length} bad ` +
        `events and ${undecodableMessages} undecodable messages, all dead-lettered); the function never crashed`,
    );
  });
});
