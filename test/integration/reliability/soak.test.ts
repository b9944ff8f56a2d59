/**
 * The fault soak, short (local/soak.ts; `npm run soak` runs the long one): every published event is accepted by the
 * local Segment server once per messageId, dead-lettered with the reason it deserves, or skipped on purpose, while
 * Segment misbehaves and the function is killed once. The reconciliation itself is checked first on made-up data, so
 * that a soak that "passes" cannot be one that would pass anything.
 */
import { emulatorsFromEnv } from '../../../local/emulators';
import { formatSoakReport, parseSoakArgs, reconcile, runSoak, soakEnvironment } from '../../../local/soak';
import { soakInput, type Expected } from '../../../local/soak-events';
import { owing } from '../../../local/soak-reconcile';

const letter = (eventId: string | undefined, reason: string, data = '') => ({
  eventId,
  reason,
  data: Buffer.from(data),
  messageId: `dl-${eventId ?? data}`,
});

describe('soak reconciliation', () => {
  const expected = new Map<string, Expected>([
    ['a', { outcome: 'deliver' }],
    ['b', { outcome: 'deliver' }],
    ['c', { outcome: 'skip', reason: 'not_selected' }],
    ['d', { outcome: 'dead', reason: 'invalid' }],
    ['g', { outcome: 'dead', reason: 'invalid' }],
  ]);
  const messages = [
    {
      data: JSON.stringify({ events: [{ id: 'a' }, { id: 'b' }, { id: 'c' }, { id: 'd' }] }),
      ids: ['a', 'b', 'c', 'd'],
    },
    { data: 'not json g', ids: [], garbageMarker: 'g' },
  ];

  it('accounts for everything when each event has its outcome, counting repeats as deduplicated', () => {
    const r = reconcile({
      expected,
      messages,
      accepted: [
        { messageId: 'a', receipts: 3 },
        { messageId: 'b', receipts: 1 },
      ],
      letters: [letter('d', 'invalid'), letter('d', 'invalid'), letter(undefined, 'invalid', 'not json g')],
    });
    expect(r).toEqual({
      delivered: 2,
      redeliveredEvents: 1,
      redeliveredReceipts: 2,
      deadLettered: { invalid: 2 },
      deadLetterRepeats: 1,
      skipped: { not_selected: 1 },
      missing: [],
      unexpected: [],
    });
  });

  it('reports a missing event, and a missing dead letter', () => {
    const r = reconcile({ expected, messages, accepted: [{ messageId: 'a', receipts: 1 }], letters: [] });
    expect(r.missing).toEqual(['b', 'd (expected a dead letter: invalid)', 'g (expected a dead letter: invalid)']);
  });

  it('reports what was accepted or dead-lettered without being published so', () => {
    const r = reconcile({
      expected,
      messages,
      accepted: [
        { messageId: 'a', receipts: 1 },
        { messageId: 'b', receipts: 1 },
        { messageId: 'c', receipts: 1 },
        { messageId: 'zz', receipts: 1 },
      ],
      letters: [letter('d', 'too_large'), letter('b', 'rejected'), letter('yy', 'invalid'), letter('g', 'invalid')],
    });
    expect([...r.unexpected].sort()).toEqual([
      'b: dead-lettered (rejected) but should have been deliver',
      'c: accepted by Segment but should have been skip (not_selected)',
      'd: dead-lettered (too_large) but should have been dead (invalid)',
      'yy: dead-lettered (invalid) but never published',
      'zz: accepted by Segment but never published',
    ]);
  });

  it('counts a message Pub/Sub gave up on as dead-lettered for each of its events not delivered', () => {
    const r = reconcile({
      expected,
      messages,
      accepted: [{ messageId: 'a', receipts: 1 }],
      letters: [
        letter(undefined, 'delivery_attempts_exhausted', messages[0]!.data),
        letter(undefined, 'invalid', 'not json g'),
      ],
    });
    expect(r.missing).toEqual([]);
    expect(r.unexpected).toEqual([]);
    expect(r.deadLettered).toEqual({ delivery_attempts_exhausted: 2, invalid: 1 });
  });

  it('tells events Pub/Sub still owes (message never acknowledged) from events lost (acknowledged): issue 28', () => {
    const now = 1_000_000;
    const messageOf = new Map([
      ['a', 'm1'],
      ['b', 'm2'],
      ['c', 'm3'],
      ['d', 'm4'],
    ]);
    const pushes = new Map([
      ['m1', { count: 2, last: '204', acknowledged: true, lastAt: now - 5_000 }],
      ['m2', { count: 3, last: '503 (function down)', acknowledged: false, lastAt: now - 60_000 }],
      ['m3', { count: 9, last: '503', acknowledged: false, lastAt: now - 1_000 }],
    ]);
    const o = owing(['a', 'b', 'c', 'd (expected a dead letter: invalid)'], messageOf, pushes, now, 30_000);
    expect(o.lost).toEqual(['a']);
    expect(o.owed).toEqual(['b', 'c', 'd (expected a dead letter: invalid)']);
    expect(o.owedFailing).toEqual(['c']);
    expect(o.messages).toEqual([
      'Pub/Sub message m1 (1 missing event(s)): pushed 2 time(s), last answer 204 5 s ago; ACKNOWLEDGED by the function: LOST',
      'Pub/Sub message m2 (1 missing event(s)): pushed 3 time(s), last answer 503 (function down) 60 s ago; ' +
        'never acknowledged, no longer pushed: owed by Pub/Sub (the emulator stalled it)',
      'Pub/Sub message m3 (1 missing event(s)): pushed 9 time(s), last answer 503 1 s ago; ' +
        'never acknowledged, still pushed and failing: owed by Pub/Sub, the function fails it',
      'Pub/Sub message m4 (1 missing event(s)): never pushed; ' +
        'never acknowledged, no longer pushed: owed by Pub/Sub (the emulator stalled it)',
    ]);
  });

  it('parses its options and refuses unknown or bad ones', () => {
    expect(parseSoakArgs(['--events', '100', '--seconds=5', '--kills', '0', '--owed-seconds', '30'])).toEqual({
      events: 100,
      seconds: 5,
      kills: 0,
      owedSeconds: 30,
    });
    expect(() => parseSoakArgs(['--minutes', '3'])).toThrow(/unknown option '--minutes'/);
    expect(() => parseSoakArgs(['--events', 'many'])).toThrow(/--events needs a whole number/);
    expect(() => parseSoakArgs(['--events', '0'])).toThrow(/at least 1/);
  });

  it('builds an input with every kind of outcome', () => {
    const connector = soakEnvironment('reliability-soak').connectors[0]!;
    const input = soakInput(connector, { events: 1500, seed: 7, tag: 't' });
    const kinds = new Set([...input.expected.values()].map((e) => ('reason' in e ? e.reason : e.outcome)));
    expect([...kinds].sort()).toEqual(
      ['deliver', 'invalid', 'no_external_user_id', 'not_selected', 'rejected', 'too_large'].sort(),
    );
    expect(input.messages.some((m) => m.garbageMarker)).toBe(true);
    expect(input.events).toBe(1500);
  });
});

describe('soak (short) on the local path', () => {
  it('loses nothing and lets nothing in under Segment faults and a killed function', async () => {
    const emulators = emulatorsFromEnv();
    if (!emulators) throw new Error('the emulators are not running (jest global setup)');
    const report = await runSoak({
      events: 1500,
      seconds: 30,
      kills: 1,
      seed: 11,
      drainSeconds: 90,
      emulators,
      projectId: 'reliability-soak',
    });
    console.log(formatSoakReport(report));
    // The product's promise: a message is acknowledged only when each of its events has its outcome. So no event may
    // be missing from a message the function acknowledged, and nothing may arrive that was not published so.
    expect(report.missingAcknowledged).toEqual([]);
    expect(report.unexpected).toEqual([]);
    // And none is missing at all (when one is, the report says how often its message was pushed and the answers, and
    // whether Pub/Sub still owes it).
    expect({ missing: report.missing, messages: report.missingPushes }).toEqual({ missing: [], messages: [] });
    expect(report.owed).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.kills).toBe(1);
    expect(report.restarts).toBe(1);

    // Every kind of outcome happened, as many as were published of each.
    const input = soakInput(soakEnvironment('reliability-soak').connectors[0]!, {
      events: 1500,
      seed: 11,
      tag: 'soak11',
    });
    const want = { deliver: 0, skipped: {} as Record<string, number>, dead: {} as Record<string, number> };
    for (const e of input.expected.values()) {
      if (e.outcome === 'deliver') want.deliver++;
      else if (e.outcome === 'skip') want.skipped[e.reason] = (want.skipped[e.reason] ?? 0) + 1;
      else want.dead[e.reason] = (want.dead[e.reason] ?? 0) + 1;
    }
    expect(report.delivered).toBe(want.deliver);
    expect(report.skipped).toEqual(want.skipped);
    expect(report.deadLettered).toEqual(want.dead);
    // The faults did happen.
    expect(Object.values(report.faults).reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
  }, 200_000);
});
