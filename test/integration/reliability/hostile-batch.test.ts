/**
 * Issue 28, reproduction 1: a batch `[validA, <100,000 nested [>, <100,000 nested {"a":>, validB]` POSTed to the
 * receiver. The valid events reach Segment exactly once (one receipt each: the message is not failed and redelivered),
 * and each hostile event waits in the dead-letter hold subscription as the very text that arrived, with the reason
 * `invalid` and its depth: readable by `dead-letters show`, replayable.
 */
import { nestEvent, sampleEvent } from '../../../common/samples';
import { CONNECTOR, startFixture, type Fixture } from '../../support/function/fixture';

let f: Fixture;

beforeAll(async () => {
  f = await startFixture({ receivers: true });
}, 90_000);

afterAll(async () => {
  await f?.stop();
});

const N = 100_000;

it('delivers the valid siblings exactly once and dead-letters each hostile event as it arrived', async () => {
  const now = Math.floor(Date.now() / 1000);
  const valid = ['hostile-a', 'hostile-b'].map((id, i) =>
    JSON.stringify(nestEvent(sampleEvent('users.messages.email.Open', { id, time: now }, i + 1))),
  );
  const deepArray = '['.repeat(N) + ']'.repeat(N);
  const deepObject = '{"a":'.repeat(N) + '1' + '}'.repeat(N);
  const body = `{"events":[${valid[0]},${deepArray}, ${deepObject},${valid[1]}]}`;
  const receiver = f.stack.connector(CONNECTOR).receiver!;
  const res = await fetch(receiver.url, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${receiver.token}`,
      'content-type': 'application/json',
      'braze-currents-version': '1',
    },
    body,
  });
  expect(res.status).toBe(200);

  const letters: Awaited<ReturnType<Fixture['takeDeadLetters']>> = [];
  const arrived = await f.waitFor(async () => {
    letters.push(...(await f.takeDeadLetters()));
    return letters.length >= 2;
  }, 30_000);
  expect(arrived).toBe(true);
  const texts = letters.map((l) => l.data.toString());
  expect(texts.sort()).toEqual([deepArray, deepObject].sort());
  for (const l of letters) {
    expect(l.reason).toBe('invalid');
    expect(l.detail).toMatch(/^event is nested 100000 levels deep, deeper than the \d+ levels accepted$/);
  }

  const server = f.stack.servers.eu;
  expect(await f.waitFor(() => server.stats().acceptedUnique >= 2)).toBe(true);
  // The push was handled once (a redelivery would send the valid events again); no failure names the dead letters.
  expect(await f.waitFor(() => f.logs.some((l) => l.event === 'batch_done'))).toBe(true);
  expect(f.logs.filter((l) => l.event === 'internal_error' && /dead letter|stack/i.test(l.message))).toEqual([]);
  expect(f.logs.filter((l) => l.event === 'batch_done')).toHaveLength(1);
  expect(await f.takeDeadLetters()).toEqual([]);
  expect(server.accepted().map((a) => [a.messageId, a.receipts])).toEqual([
    ['hostile-a', 1],
    ['hostile-b', 1],
  ]);
}, 90_000);
