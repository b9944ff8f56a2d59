/**
 * The credential state machine (runtime/core/expiry.ts): pure decisions, tested exhaustively with example cases and
 * fast-check properties over arbitrary sequences of events and clock values.
 */
import fc from 'fast-check';
import {
  admit,
  type CredentialState,
  DEFAULT_GRACE_MS,
  DEFAULT_PARK_TTL_MARGIN_MS,
  expire,
  graceRemainingMs,
  INITIAL_STATE,
  isPastGrace,
  onCredentialFailure,
  onCredentialSuccess,
  onProbe,
  parkedExpireAt,
  type ProbeOutcome,
  describeDuration,
} from '../../../runtime/core/expiry';

const MIN = 60_000;
const HOUR = 60 * MIN;
const T0 = Date.UTC(2026, 0, 1);
const failing = (since = T0): CredentialState => ({
  status: 'failing',
  failingSince: since,
  lastFailureAt: since,
  detail: 'Segment answered 401',
});
const expired = (since = T0): CredentialState => ({
  status: 'expired',
  failingSince: since,
  lastFailureAt: since + HOUR,
  detail: 'Segment answered 401',
  expiredAt: since + 49 * HOUR,
});

describe('admit', () => {
  it('sends while active, with no state change', () => {
    const d = admit(INITIAL_STATE, T0, DEFAULT_GRACE_MS);
    expect(d).toEqual({ next: INITIAL_STATE, changed: false, action: 'send' });
  });

  it('parks at 47h59m of failing and drops at 48h01m with the default 48h grace period', () => {
    const parked = admit(failing(), T0 + 47 * HOUR + 59 * MIN, DEFAULT_GRACE_MS);
    expect(parked.action).toBe('park');
    expect(parked.changed).toBe(false);
    expect(parked.next).toEqual(failing());

    const dropped = admit(failing(), T0 + 48 * HOUR + 1 * MIN, DEFAULT_GRACE_MS);
    expect(dropped.action).toBe('drop');
    expect(dropped.changed).toBe(true);
    expect(dropped.next).toEqual({
      status: 'expired',
      failingSince: T0,
      lastFailureAt: T0,
      detail: 'Segment answered 401',
      expiredAt: T0 + 48 * HOUR + MIN,
    });
    expect(dropped.transition).toMatchObject({
      type: 'expired',
      from: 'failing',
      to: 'expired',
      severity: 'ALERT',
      failingSince: T0,
    });
  });

  it('at exactly failingSince + grace still parks (expiry is strictly after the grace period); 1 ms later drops', () => {
    expect(admit(failing(), T0 + DEFAULT_GRACE_MS, DEFAULT_GRACE_MS).action).toBe('park');
    expect(admit(failing(), T0 + DEFAULT_GRACE_MS + 1, DEFAULT_GRACE_MS).action).toBe('drop');
  });

  it('uses the grace period it is given (a connector setting, not a constant)', () => {
    const fiveDays = 5 * 24 * HOUR;
    expect(admit(failing(), T0 + 72 * HOUR, fiveDays).action).toBe('park');
    expect(admit(failing(), T0 + 72 * HOUR, DEFAULT_GRACE_MS).action).toBe('drop');
    expect(admit(failing(), T0 + 61 * MIN, HOUR).action).toBe('drop');
  });

  it('drops while expired, with no further change', () => {
    const d = admit(expired(), T0 + 100 * HOUR, DEFAULT_GRACE_MS);
    expect(d).toEqual({ next: expired(), changed: false, action: 'drop' });
  });
});

describe('onCredentialFailure', () => {
  it('from active: failing since now, alert-level transition failing_started', () => {
    const d = onCredentialFailure(INITIAL_STATE, T0, 'Segment answered 403');
    expect(d.next).toEqual({
      status: 'failing',
      failingSince: T0,
      lastFailureAt: T0,
      detail: 'Segment answered 403',
    });
    expect(d.changed).toBe(true);
    expect(d.action).toBe('none');
    expect(d.transition).toMatchObject({ type: 'failing_started', from: 'active', to: 'failing', severity: 'ALERT' });
    expect(d.transition!.message).toContain('Segment answered 403');
  });

  it('while failing: keeps failingSince, updates lastFailureAt and detail, no transition', () => {
    const d = onCredentialFailure(failing(), T0 + 5 * HOUR, 'OAuth token request refused');
    expect(d.next).toEqual({
      status: 'failing',
      failingSince: T0,
      lastFailureAt: T0 + 5 * HOUR,
      detail: 'OAuth token request refused',
    });
    expect(d.changed).toBe(true);
    expect(d.transition).toBeUndefined();
  });

  it('a repeated identical failure at an earlier time (another instance with a slower clock) changes nothing', () => {
    const s: CredentialState = {
      status: 'failing',
      failingSince: T0,
      lastFailureAt: T0 + HOUR,
      detail: 'Segment answered 401',
    };
    const d = onCredentialFailure(s, T0 + 30 * MIN, 'Segment answered 401');
    expect(d).toEqual({ next: s, changed: false, action: 'none' });
  });

  it('does not expire by itself, even far past the grace period (expire/onProbe do that)', () => {
    const d = onCredentialFailure(failing(), T0 + 100 * HOUR, 'Segment answered 401');
    expect(d.next.status).toBe('failing');
    expect(d.transition).toBeUndefined();
  });

  it('while expired: stays expired, keeps failingSince, asks to drop anything parked', () => {
    const d = onCredentialFailure(expired(), T0 + 60 * HOUR, 'secret disabled');
    expect(d.next).toMatchObject({ status: 'expired', failingSince: T0, lastFailureAt: T0 + 60 * HOUR });
    expect(d.action).toBe('drop_parked');
    expect(d.transition).toBeUndefined();
  });
});

describe('onCredentialSuccess', () => {
  it('from active: nothing changes and nothing is written', () => {
    expect(onCredentialSuccess(INITIAL_STATE, T0)).toEqual({ next: INITIAL_STATE, changed: false, action: 'none' });
  });

  it.each([
    ['failing', failing()],
    ['expired', expired()],
  ])('from %s: recovered (NOTICE) to active, drain the parked groups', (from, s) => {
    const d = onCredentialSuccess(s, T0 + 50 * HOUR);
    expect(d.next).toEqual({ status: 'active', recoveredAt: T0 + 50 * HOUR });
    expect(d.action).toBe('drain');
    expect(d.transition).toMatchObject({ type: 'recovered', from, to: 'active', severity: 'NOTICE', failingSince: T0 });
  });
});

describe('expire (the probe moving failing → expired)', () => {
  it('does nothing while active or within the grace period', () => {
    expect(expire(INITIAL_STATE, T0 + 1000 * HOUR, DEFAULT_GRACE_MS)).toEqual({
      next: INITIAL_STATE,
      changed: false,
      action: 'none',
    });
    expect(expire(failing(), T0 + DEFAULT_GRACE_MS, DEFAULT_GRACE_MS).changed).toBe(false);
  });

  it('expires a failing connector past the grace period and asks to drop the parked groups', () => {
    const d = expire(failing(), T0 + DEFAULT_GRACE_MS + 1, DEFAULT_GRACE_MS);
    expect(d.next.status).toBe('expired');
    expect(d.action).toBe('drop_parked');
    expect(d.transition?.type).toBe('expired');
  });

  it('on an expired connector: no change, but still drop_parked (catches groups parked late by a race)', () => {
    expect(expire(expired(), T0 + 60 * HOUR, DEFAULT_GRACE_MS)).toEqual({
      next: expired(),
      changed: false,
      action: 'drop_parked',
    });
  });
});

describe('onProbe', () => {
  it('success from failing recovers and drains; success from active also drains (leftovers) without a change', () => {
    const d = onProbe(failing(), T0 + HOUR, DEFAULT_GRACE_MS, { ok: true });
    expect(d.transition?.type).toBe('recovered');
    expect(d.action).toBe('drain');
    const a = onProbe(INITIAL_STATE, T0, DEFAULT_GRACE_MS, { ok: true });
    expect(a).toEqual({ next: INITIAL_STATE, changed: false, action: 'drain' });
  });

  it('failure within the grace period keeps failing (failingSince unchanged)', () => {
    const d = onProbe(failing(), T0 + 47 * HOUR + 59 * MIN, DEFAULT_GRACE_MS, { ok: false, detail: 'still 401' });
    expect(d.next).toMatchObject({ status: 'failing', failingSince: T0, detail: 'still 401' });
    expect(d.action).toBe('none');
    expect(d.transition).toBeUndefined();
  });

  it('failure past the grace period expires and asks to drop the parked groups', () => {
    const d = onProbe(failing(), T0 + 48 * HOUR + MIN, DEFAULT_GRACE_MS, { ok: false, detail: 'still 401' });
    expect(d.next).toMatchObject({ status: 'expired', failingSince: T0, detail: 'still 401' });
    expect(d.action).toBe('drop_parked');
    expect(d.transition).toMatchObject({ type: 'expired', severity: 'ALERT' });
  });

  it('failure from active starts failing (the probe can be the first to notice)', () => {
    const d = onProbe(INITIAL_STATE, T0, DEFAULT_GRACE_MS, { ok: false, detail: 'secret destroyed' });
    expect(d.transition?.type).toBe('failing_started');
    expect(d.next).toMatchObject({ status: 'failing', failingSince: T0 });
  });
});

describe('compare-and-set: an observation decided on a state that changed since', () => {
  const refused = { ok: false as const, detail: 'still 401' };

  it('a failure on an active connector whose basis no longer holds is ignored (it may predate the recovery)', () => {
    const recovered: CredentialState = { status: 'active', recoveredAt: T0 + HOUR };
    expect(onCredentialFailure(recovered, T0 + 2 * HOUR, 'Segment answered 401', false)).toEqual({
      next: recovered,
      changed: false,
      action: 'none',
    });
    expect(onProbe(recovered, T0 + 2 * HOUR, DEFAULT_GRACE_MS, refused, false)).toEqual({
      next: recovered,
      changed: false,
      action: 'none',
    });
    // with its basis holding it starts the episode, as always
    expect(onCredentialFailure(recovered, T0 + 2 * HOUR, 'x', true).transition?.type).toBe('failing_started');
  });

  it('a failure on a failing or expired connector whose basis changed is the same episode: failingSince stays', () => {
    const f = onCredentialFailure(failing(), T0 + 3 * HOUR, 'OAuth token request refused', false);
    expect(f.next).toEqual({
      status: 'failing',
      failingSince: T0,
      lastFailureAt: T0 + 3 * HOUR,
      detail: 'OAuth token request refused',
    });
    expect(f.transition).toBeUndefined();
    const e = onProbe(expired(), T0 + 60 * HOUR, DEFAULT_GRACE_MS, refused, false);
    expect(e.next).toMatchObject({ status: 'expired', failingSince: T0 });
    expect(e.action).toBe('drop_parked');
  });

  it.each([
    ['failing', failing()],
    ['expired', expired()],
  ])('a success whose basis no longer holds never recovers a %s connector', (_name, s) => {
    expect(onCredentialSuccess(s, T0 + HOUR, false)).toEqual({ next: s, changed: false, action: 'none' });
    const d = onProbe(s, T0 + HOUR, DEFAULT_GRACE_MS, { ok: true }, false);
    expect(d.next.status).toBe(s.status);
    expect(d.transition).toBeUndefined();
    expect(d.action).toBe(s.status === 'expired' ? 'drop_parked' : 'none');
  });

  it('a stale success still lets the time rule expire a failing connector past the grace period', () => {
    const d = onProbe(failing(), T0 + DEFAULT_GRACE_MS + 1, DEFAULT_GRACE_MS, { ok: true }, false);
    expect(d.next).toMatchObject({ status: 'expired', failingSince: T0 });
    expect(d.transition?.type).toBe('expired');
    expect(d.action).toBe('drop_parked');
  });

  it('a stale success on an active connector changes nothing and still drains leftovers', () => {
    expect(onProbe(INITIAL_STATE, T0, DEFAULT_GRACE_MS, { ok: true }, false)).toEqual({
      next: INITIAL_STATE,
      changed: false,
      action: 'drain',
    });
  });
});

describe('onProbe with an untested outcome (active, nothing parked: the credential was not tried)', () => {
  it('on active: no change, drain leftovers', () => {
    expect(onProbe(INITIAL_STATE, T0, DEFAULT_GRACE_MS, { untested: true })).toEqual({
      next: INITIAL_STATE,
      changed: false,
      action: 'drain',
    });
  });

  it.each([true, false])('never recovers a failing or expired connector (basis holds: %s)', (holds) => {
    const f = onProbe(failing(), T0 + HOUR, DEFAULT_GRACE_MS, { untested: true }, holds);
    expect(f).toEqual({ next: failing(), changed: false, action: 'none' });
    const e = onProbe(expired(), T0 + 60 * HOUR, DEFAULT_GRACE_MS, { untested: true }, holds);
    expect(e).toEqual({ next: expired(), changed: false, action: 'drop_parked' });
  });

  it('only applies the time rule: failing past the grace period expires', () => {
    const d = onProbe(failing(), T0 + DEFAULT_GRACE_MS + 1, DEFAULT_GRACE_MS, { untested: true });
    expect(d.next.status).toBe('expired');
    expect(d.transition?.type).toBe('expired');
  });
});

describe('helpers', () => {
  it('graceRemainingMs counts down to 0 while failing and is undefined otherwise', () => {
    expect(graceRemainingMs(failing(), T0 + HOUR, DEFAULT_GRACE_MS)).toBe(47 * HOUR);
    expect(graceRemainingMs(failing(), T0 + 50 * HOUR, DEFAULT_GRACE_MS)).toBe(0);
    expect(graceRemainingMs(INITIAL_STATE, T0, DEFAULT_GRACE_MS)).toBeUndefined();
    expect(graceRemainingMs(expired(), T0, DEFAULT_GRACE_MS)).toBeUndefined();
  });

  it('parkedExpireAt is failingSince + grace + margin (now + grace + margin if not failing yet)', () => {
    expect(parkedExpireAt(failing(), T0 + 5 * HOUR, DEFAULT_GRACE_MS)).toBe(
      T0 + DEFAULT_GRACE_MS + DEFAULT_PARK_TTL_MARGIN_MS,
    );
    expect(parkedExpireAt(INITIAL_STATE, T0 + 5 * HOUR, HOUR, 0)).toBe(T0 + 6 * HOUR);
  });
});

// ---- properties over arbitrary histories ----

type Step =
  | { kind: 'admit'; dt: number }
  | { kind: 'failure'; dt: number }
  | { kind: 'success'; dt: number }
  | { kind: 'expire'; dt: number }
  | { kind: 'probe'; dt: number; ok: boolean };

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ kind: fc.constant('admit' as const), dt: fc.integer({ min: 0, max: 20 * HOUR }) }),
  fc.record({ kind: fc.constant('failure' as const), dt: fc.integer({ min: 0, max: 20 * HOUR }) }),
  fc.record({ kind: fc.constant('success' as const), dt: fc.integer({ min: 0, max: 20 * HOUR }) }),
  fc.record({ kind: fc.constant('expire' as const), dt: fc.integer({ min: 0, max: 20 * HOUR }) }),
  fc.record({ kind: fc.constant('probe' as const), dt: fc.integer({ min: 0, max: 20 * HOUR }), ok: fc.boolean() }),
);
const graceArb = fc.integer({ min: HOUR, max: 7 * 24 * HOUR });

function apply(s: CredentialState, step: Step, now: number, grace: number) {
  switch (step.kind) {
    case 'admit':
      return admit(s, now, grace);
    case 'failure':
      return onCredentialFailure(s, now, 'fail');
    case 'success':
      return onCredentialSuccess(s, now);
    case 'expire':
      return expire(s, now, grace);
    case 'probe':
      return onProbe(s, now, grace, step.ok ? { ok: true } : { ok: false, detail: 'probe failed' });
  }
}

/**
 * Runs `steps` from the initial state with the clock moving by each step's `dt`, and hands `check` each decision with
 * the state it was made from and the time.
 */
function walk(
  steps: readonly Step[],
  grace: number,
  check: (before: CredentialState, d: ReturnType<typeof apply>, now: number) => void,
): void {
  let s: CredentialState = INITIAL_STATE;
  let now = T0;
  for (const step of steps) {
    now += step.dt;
    const d = apply(s, step, now, grace);
    check(s, d, now);
    s = d.next;
  }
}

describe('properties', () => {
  it('failingSince never changes while failing/expired; it is set once, when the episode starts', () => {
    fc.assert(
      fc.property(fc.array(stepArb, { maxLength: 40 }), graceArb, (steps, grace) => {
        walk(steps, grace, (s, d, now) => {
          if (s.status !== 'active' && d.next.status !== 'active') {
            expect(d.next.failingSince).toBe(s.failingSince);
          }
          if (s.status === 'active' && d.next.status !== 'active') {
            expect(d.next.failingSince).toBe(now);
            expect(d.transition?.type).toBe('failing_started');
          }
        });
      }),
    );
  });

  it('the state becomes expired only when now - failingSince > grace, and only from failing', () => {
    fc.assert(
      fc.property(fc.array(stepArb, { maxLength: 40 }), graceArb, (steps, grace) => {
        walk(steps, grace, (s, d, now) => {
          if (d.next.status === 'expired' && s.status !== 'expired') {
            expect(s.status).toBe('failing');
            expect(now - d.next.failingSince).toBeGreaterThan(grace);
            expect(d.transition).toMatchObject({ type: 'expired', severity: 'ALERT' });
          }
        });
      }),
    );
  });

  it('admit parks exactly up to and including failingSince + grace, drops after, for any grace and offset', () => {
    fc.assert(
      fc.property(graceArb, fc.integer({ min: 0, max: 14 * 24 * HOUR }), (grace, offset) => {
        const d = admit(failing(), T0 + offset, grace);
        expect(d.action).toBe(offset > grace ? 'drop' : 'park');
        expect(d.next.status).toBe(offset > grace ? 'expired' : 'failing');
        expect(isPastGrace(T0, T0 + offset, grace)).toBe(offset > grace);
      }),
    );
  });

  it('a transition is reported exactly when the status changes, with the documented severity', () => {
    fc.assert(
      fc.property(fc.array(stepArb, { maxLength: 40 }), graceArb, (steps, grace) => {
        walk(steps, grace, (s, d) => {
          expect(d.transition !== undefined).toBe(d.next.status !== s.status);
          if (d.transition) {
            expect(d.transition.from).toBe(s.status);
            expect(d.transition.to).toBe(d.next.status);
            expect(d.transition.severity).toBe(d.transition.type === 'recovered' ? 'NOTICE' : 'ALERT');
            expect(d.changed).toBe(true);
          }
          if (!d.changed) expect(d.next).toBe(s);
        });
      }),
    );
  });

  it('active never parks or drops, and an active connector never changes on admit (no write per event)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1e13 }), graceArb, (now, grace) => {
        const d = admit(INITIAL_STATE, now, grace);
        expect(d.action).toBe('send');
        expect(d.changed).toBe(false);
      }),
    );
  });
});

// ---- a quick model of several instances interleaving (no I/O): reads, credential checks and compare-and-set writes ----

type Action =
  | { a: 'push'; instance: number; cacheLag: number }
  | { a: 'probe'; instance: number; parked: boolean }
  | { a: 'finish'; instance: number }
  | { a: 'toggle' }
  | { a: 'tick'; dt: number };

const instanceArb = fc.integer({ min: 0, max: 1 });
const actionArb: fc.Arbitrary<Action> = fc.oneof(
  { arbitrary: fc.record({ a: fc.constant('push' as const), instance: instanceArb, cacheLag: fc.nat(2) }), weight: 3 },
  {
    arbitrary: fc.record({ a: fc.constant('probe' as const), instance: instanceArb, parked: fc.boolean() }),
    weight: 3,
  },
  { arbitrary: fc.record({ a: fc.constant('finish' as const), instance: instanceArb }), weight: 4 },
  { arbitrary: fc.record({ a: fc.constant('toggle' as const) }), weight: 2 },
  { arbitrary: fc.record({ a: fc.constant('tick' as const), dt: fc.integer({ min: 0, max: 90 * MIN }) }), weight: 1 },
);

describe('interleaved instances (pure model of the compare-and-set)', () => {
  it('failing → active only on a credential check that worked after the failure it ends; failingSince never moves', () => {
    const grace = 2 * HOUR;
    fc.assert(
      fc.property(fc.array(actionArb, { maxLength: 30 }), (actions) => {
        // The stored document, its versions over time (instances may act on an older read, as a cache does), and what
        // each instance is in the middle of: the basis it read, what it saw of the credential, and when it saw it.
        let stored = { state: INITIAL_STATE as CredentialState, version: 0 };
        const history = [stored];
        let now = T0;
        let valid = true;
        let seq = 0;
        let failureSeenAt = -1; // when the failure evidence the stored episode holds was seen (sequence number)
        const busy = new Map<number, { basis: number; seenAt: number; outcome: ProbeOutcome | 'failure' }>();
        const write = (next: CredentialState) => {
          stored = { state: next, version: stored.version + 1 };
          history.push(stored);
        };
        for (const act of actions) {
          seq++;
          if (act.a === 'toggle') valid = !valid;
          else if (act.a === 'tick') now += act.dt;
          else if (act.a === 'push' && !busy.has(act.instance)) {
            const read = history[Math.max(0, history.length - 1 - act.cacheLag)]!;
            // An instance sends only when it read `active`; a failure is what it can see (a success changes nothing).
            if (read.state.status === 'active' && !valid) {
              busy.set(act.instance, { basis: read.version, seenAt: seq, outcome: 'failure' });
            }
          } else if (act.a === 'probe' && !busy.has(act.instance)) {
            const e = expire(stored.state, now, grace);
            if (e.changed) write(e.next);
            const tested = stored.state.status !== 'active' || act.parked;
            const outcome: ProbeOutcome = !tested
              ? { untested: true }
              : valid
                ? { ok: true }
                : { ok: false, detail: 'refused' };
            busy.set(act.instance, { basis: stored.version, seenAt: seq, outcome });
          } else if (act.a === 'finish' && busy.has(act.instance)) {
            const op = busy.get(act.instance)!;
            busy.delete(act.instance);
            const holds = op.basis === stored.version;
            const before = stored.state;
            const d =
              op.outcome === 'failure'
                ? onCredentialFailure(before, now, 'refused', holds)
                : onProbe(before, now, grace, op.outcome, holds);
            if (d.transition?.type === 'recovered') {
              // a real check that worked, and newer than the failure evidence the episode holds
              expect(op.outcome).toEqual({ ok: true });
              expect(op.seenAt).toBeGreaterThan(failureSeenAt);
            }
            if (before.status !== 'active' && d.next.status !== 'active') {
              expect(d.next.failingSince).toBe(before.failingSince);
            }
            const failed = op.outcome === 'failure' || op.outcome.ok === false;
            if (failed && d.next.status !== 'active') {
              failureSeenAt = before.status === 'active' ? op.seenAt : Math.max(failureSeenAt, op.seenAt);
            }
            if (d.changed) write(d.next);
          }
        }
      }),
      { numRuns: 3000 },
    );
  });
});

describe('describeDuration', () => {
  it('says seconds under a minute, minutes under two hours, then hours', () => {
    expect(describeDuration(0)).toBe('0 s');
    expect(describeDuration(42_400)).toBe('42 s');
    expect(describeDuration(60_000)).toBe('1 min');
    expect(describeDuration(119 * 60_000)).toBe('119 min');
    expect(describeDuration(49 * 3_600_000 + 6 * 60_000)).toBe('49.1 h');
  });
});
