/**
 * The outcome lines of `npm start -- --keep-running` for the outcomes a plain run cannot show (parked, dropped,
 * retrying need a failing credential or a failing Segment; the run itself is tested in keep-running.test.ts): from log
 * lines written by the product's own logger with the events and fields the function writes, to the line people read
 * and the JSON line. And the fixed order of skip reasons.
 */
import { createLogger, LOG_EVENT_SPECS } from '../../../runtime/log';
import { describeOutcome, inReasonOrder, outcomeJson, outcomesOfLogLine, SKIP_REASONS } from '../../../local/outcomes';

function linesOf(write: (log: ReturnType<typeof createLogger>) => void): Record<string, unknown>[] {
  const lines: string[] = [];
  write(createLogger({ connector: 'email-eu', sink: (l) => lines.push(l) }).child({ pubsubMessageId: '42' }));
  return lines.map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe('outcome lines', () => {
  it('parked, with why the credential fails', () => {
    const [entry] = linesOf((log) =>
      log.warning('events_parked', '2 event(s) parked while the credential fails', { parked: 2, alreadyParked: false }),
    );
    const [o] = outcomesOfLogLine('email-eu', entry!, 'secret has no enabled version');
    expect(describeOutcome(o!)).toBe(
      '[email-eu] parked 2 events: the Segment credential is failing (secret has no enabled version); the probe ' +
        'delivers them once it works again',
    );
    expect(outcomeJson(o!)).toBe(
      '{"kind":"parked","connector":"email-eu","events":2,"detail":"secret has no enabled version"}',
    );
  });

  it('dropped, by type, with the reason the function gave', () => {
    const [entry] = linesOf((log) =>
      log.alert(
        'events_dropped',
        '1 event(s) dropped: the credential has been failing for longer than the grace period',
        {
          counts: { 'users.messages.email.Open': 1 },
          dropped: 1,
        },
      ),
    );
    const [o] = outcomesOfLogLine('email-eu', entry!);
    expect(describeOutcome(o!)).toBe(
      '[email-eu] dropped 1 event (users.messages.email.Open 1): the credential has been failing for longer than the ' +
        'grace period',
    );
    expect(outcomeJson(o!)).toBe(
      '{"kind":"dropped","connector":"email-eu","events":1,"byType":{"users.messages.email.Open":1},' +
        '"detail":"the credential has been failing for longer than the grace period"}',
    );
  });

  it('retrying, and a batch with several skip reasons in the fixed order', () => {
    const entries = linesOf((log) => {
      log.warning('delivery_retry', '3 event(s) not accepted yet; Pub/Sub will redeliver', { retryLater: 3 });
      log.info('batch_done', 'message handled', {
        counts: { received: 3, skipped: 3 },
        skipped: { no_external_user_id: 1, not_exportable: 1, not_selected: 1 },
      });
    });
    const out = entries.flatMap((e) => outcomesOfLogLine('email-eu', e)).map(describeOutcome);
    expect(out).toEqual([
      '[email-eu] Segment did not accept 3 events yet; Pub/Sub redelivers the message',
      `[email-eu] skipped 1 event (not_selected): ${SKIP_REASONS.not_selected}`,
      `[email-eu] skipped 1 event (not_exportable): ${SKIP_REASONS.not_exportable}`,
      `[email-eu] skipped 1 event (no_external_user_id): ${SKIP_REASONS.no_external_user_id}`,
    ]);
  });

  it('a push the function could not handle is retrying, with its reason (Firestore down: issue 28)', () => {
    const entries = linesOf((log) => {
      log.error('internal_error', 'message not handled (state_unavailable); Pub/Sub will redeliver: UNAVAILABLE', {
        reason: 'state_unavailable',
        events: 4,
        detail: 'UNAVAILABLE',
      });
      log.error('internal_error', 'receiver: request failed: boom'); // not a push: no outcome
    });
    const out = entries.flatMap((e) => outcomesOfLogLine('email-eu', e));
    expect(out.map(outcomeJson)).toEqual([
      '{"kind":"retrying","connector":"email-eu","events":4,"reason":"state_unavailable","detail":"UNAVAILABLE"}',
    ]);
    expect(out.map(describeOutcome)).toEqual([
      '[email-eu] a message of 4 events was not handled (state_unavailable: UNAVAILABLE); Pub/Sub redelivers it',
    ]);
  });

  it('reads only events the function really writes', () => {
    for (const e of [
      'batch_done',
      'events_parked',
      'events_dropped',
      'delivery_retry',
      'receiver_request',
      'internal_error',
    ]) {
      expect(Object.keys(LOG_EVENT_SPECS)).toContain(e);
    }
  });
});

it('orders skip reasons the same way whatever order they arrived in', () => {
  const a = inReasonOrder({ zz_new: 1, no_external_user_id: 2, not_selected: 3 });
  const b = inReasonOrder({ not_selected: 3, zz_new: 1, no_external_user_id: 2 });
  expect(a).toEqual(b);
  expect(a.map(([r]) => r)).toEqual(['not_selected', 'no_external_user_id', 'zz_new']);
});
