/**
 * The credential state machine of one connector (docs/reliability.md: a failing credential parks events for the grace
 * period, then drops them). PURE: no I/O, no clock of its own. Every decision takes the current state and `now` (ms since the epoch, from an injected Clock) and returns the
 * next state plus what the caller must do and log. The Firestore adapter runs these functions inside transactions so that
 * concurrent instances agree on one outcome.
 *
 * States:
 *  - `active`:  credential works; new events are sent.
 *  - `failing`: a credential failure was seen at `failingSince`; new events are parked, a probe retries the credential.
 *  - `expired`: `now - failingSince` went past the grace period; parked events are dropped, new events are dropped on
 *               arrival, until a probe succeeds.
 *
 * Boundary (documented, tested): a failing connector expires only when `now - failingSince > graceMs` (strictly greater).
 * At exactly `failingSince + graceMs` it is still failing and events are still parked.
 *
 * Transitions (each to be logged as event `state_change`):
 *  - `failing_started` active → failing, severity ALERT (the contact email is notified);
 *  - `expired`         failing → expired, severity ALERT (parked events must be dropped, counted, reported);
 *  - `recovered`       failing/expired → active, severity NOTICE (parked events must be drained, oldest first).
 * Later failures while failing keep `failingSince` unchanged (no transition; logged as `credential_failure` at ERROR).
 *
 * Compare-and-set: an observation of the credential (a failure seen by a push or a drain, the probe's outcome) is decided
 * on the state its observer read BEFORE trying the credential (its basis). The adapter applies it inside a transaction
 * and says whether the stored state is still that basis (`basisHolds`). When another instance changed the state in
 * between, the observation may be older than that change, and it is re-decided on the current state:
 *  - a failure on a failing/expired connector is a failure of the same episode (failingSince kept, as always);
 *  - a failure on an active connector is ignored: the connector recovered after the observer's read, so the failure may
 *    predate the recovery (the caller parks its events; the next probe tries them and so finds a real failure again);
 *  - a success is ignored: a failure recorded since may be newer than it (the next probe tries again).
 * Only the time rule (`expire`) still applies, as it depends on `now` alone. So `failing → active` happens only on a
 * credential check that succeeded after the failure it ends, and a late or stale decision never moves `failingSince`.
 */

export type CredentialStatus = 'active' | 'failing' | 'expired';

import { PARKED_TTL_MARGIN_MS } from '../../shared/policy';

/** The default grace period (48 hours) and the parked groups' TTL margin (24 hours) are defined in shared/policy.ts. */
export { DEFAULT_GRACE_MS } from '../../shared/policy';
/** Margin added to a parked group's expiry time so that the probe, not Firestore's TTL, does the (counted) dropping. */
export const DEFAULT_PARK_TTL_MARGIN_MS = PARKED_TTL_MARGIN_MS;

export interface ActiveState {
  readonly status: 'active';
  /** When the connector last returned to active (absent if it never failed). */
  readonly recoveredAt?: number;
}

export interface FailingState {
  readonly status: 'failing';
  /** When the first credential failure of this episode was recorded. Never changes while failing. */
  readonly failingSince: number;
  /** When the latest credential failure was seen. */
  readonly lastFailureAt: number;
  /** What failed, for people (e.g. "Segment answered 401"), never a secret. */
  readonly detail: string;
}

export interface ExpiredState {
  readonly status: 'expired';
  readonly failingSince: number;
  readonly lastFailureAt: number;
  readonly detail: string;
  /** When the grace period was found to have passed. */
  readonly expiredAt: number;
}

export type CredentialState = ActiveState | FailingState | ExpiredState;

export const INITIAL_STATE: ActiveState = { status: 'active' };

export type TransitionType = 'failing_started' | 'expired' | 'recovered';

/** Cloud Logging severities the transitions are logged at. */
export type TransitionSeverity = 'ALERT' | 'NOTICE';

/** A change of status, to be logged (event `state_change`) and, for ALERT, alerted on. */
export interface Transition {
  readonly type: TransitionType;
  readonly from: CredentialStatus;
  readonly to: CredentialStatus;
  readonly at: number;
  readonly failingSince?: number;
  readonly severity: TransitionSeverity;
  /** A short human message for the log line (no secrets, no personal data). */
  readonly message: string;
}

/**
 * The result of every decision: the next state, whether it differs from the input (only then does the adapter write it),
 * the transition if the status changed, and the action for the caller.
 */
export interface Decision<A extends string> {
  readonly next: CredentialState;
  /** True when `next` must be persisted (status change, or a failure's lastFailureAt / detail update). */
  readonly changed: boolean;
  readonly transition?: Transition;
  readonly action: A;
}

/** What to do with a new batch of events: `send` to Segment, `park` in Firestore, or `drop` (counted). */
export type AdmitAction = 'send' | 'park' | 'drop';

/**
 * What the caller does after a credential outcome:
 *  - `none`:        nothing more;
 *  - `drain`:       deliver the parked groups, oldest first (after a recovery, or after a successful probe);
 *  - `drop_parked`: drop every parked group, counting by type (the connector is expired).
 */
export type FollowUp = 'none' | 'drain' | 'drop_parked';

function unchanged<A extends string>(state: CredentialState, action: A): Decision<A> {
  return { next: state, changed: false, action };
}

/** A duration for people: seconds under a minute, minutes under two hours, then hours. */
export function describeDuration(ms: number): string {
  if (ms < 60_000) return `${Math.round(ms / 1000)} s`;
  if (ms < 2 * 3_600_000) return `${Math.round(ms / 60_000)} min`;
  return `${Math.round((ms / 3_600_000) * 10) / 10} h`;
}

/** True when a failing episode that began at `failingSince` is past the grace period at `now` (strictly). */
export function isPastGrace(failingSince: number, now: number, graceMs: number): boolean {
  return now - failingSince > graceMs;
}

/** Milliseconds left before a failing connector expires (0 once past; undefined when not failing). */
export function graceRemainingMs(state: CredentialState, now: number, graceMs: number): number | undefined {
  if (state.status !== 'failing') return undefined;
  return Math.max(0, state.failingSince + graceMs - now);
}

/**
 * The TTL expiry time (field `expireAt`) to give a parked group: failingSince + grace + margin, so that Firestore's TTL
 * only removes what the probe somehow failed to drop (TTL deletion is uncounted; the probe's dropping is counted).
 */
export function parkedExpireAt(
  state: CredentialState,
  now: number,
  graceMs: number,
  marginMs: number = DEFAULT_PARK_TTL_MARGIN_MS,
): number {
  const since = state.status === 'active' ? now : state.failingSince;
  return since + graceMs + marginMs;
}

/**
 * failing → expired when the grace period has passed; otherwise no change. Used by the scheduled probe and by `admit`.
 * The transition asks the caller to drop every parked group (`drop_parked`).
 */
export function expire(state: CredentialState, now: number, graceMs: number): Decision<FollowUp> {
  if (state.status !== 'failing' || !isPastGrace(state.failingSince, now, graceMs)) {
    return unchanged(state, state.status === 'expired' ? 'drop_parked' : 'none');
  }
  const next: ExpiredState = {
    status: 'expired',
    failingSince: state.failingSince,
    lastFailureAt: state.lastFailureAt,
    detail: state.detail,
    expiredAt: now,
  };
  return {
    next,
    changed: true,
    action: 'drop_parked',
    transition: {
      type: 'expired',
      from: 'failing',
      to: 'expired',
      at: now,
      failingSince: state.failingSince,
      severity: 'ALERT',
      message:
        `credential failing for longer than the grace period (${describeDuration(graceMs)}) since ` +
        `${new Date(state.failingSince).toISOString()}: parked and new events are dropped until the credential works`,
    },
  };
}

/**
 * What to do with a new event batch. `active` → send; `failing` within the grace period (including exactly at its end) →
 * park; `failing` past the grace period → transition to expired and drop; `expired` → drop.
 */
export function admit(state: CredentialState, now: number, graceMs: number): Decision<AdmitAction> {
  switch (state.status) {
    case 'active':
      return unchanged(state, 'send');
    case 'expired':
      return unchanged(state, 'drop');
    case 'failing': {
      const e = expire(state, now, graceMs);
      return e.changed ? { ...e, action: 'drop' } : unchanged(state, 'park');
    }
  }
}

/**
 * A credential failure was seen (401/403, token request refused, secret missing/disabled/destroyed). From `active`:
 * failing with failingSince = now (transition `failing_started`, ALERT). While failing or expired: failingSince is kept,
 * only lastFailureAt and detail are updated (no transition). This never expires the connector by itself; the caller (or
 * `onProbe`) applies `expire` for that. When the basis no longer holds (see the header), a failure on an active connector
 * is ignored.
 */
export function onCredentialFailure(
  state: CredentialState,
  now: number,
  detail: string,
  basisHolds = true,
): Decision<FollowUp> {
  if (state.status === 'active') {
    if (!basisHolds) return unchanged(state, 'none');
    const next: FailingState = { status: 'failing', failingSince: now, lastFailureAt: now, detail };
    return {
      next,
      changed: true,
      action: 'none',
      transition: {
        type: 'failing_started',
        from: 'active',
        to: 'failing',
        at: now,
        failingSince: now,
        severity: 'ALERT',
        message: `credential failure (${detail}): new events are parked until the credential works again`,
      },
    };
  }
  // Later failures: failingSince never moves. lastFailureAt never goes backwards (clocks of instances may differ).
  const lastFailureAt = Math.max(state.lastFailureAt, now);
  if (lastFailureAt === state.lastFailureAt && detail === state.detail) {
    return unchanged(state, state.status === 'expired' ? 'drop_parked' : 'none');
  }
  return {
    next: { ...state, lastFailureAt, detail },
    changed: true,
    action: state.status === 'expired' ? 'drop_parked' : 'none',
  };
}

/**
 * The credential worked (a probe, or a delivery). From `failing` or `expired`: back to `active` (transition `recovered`,
 * NOTICE) and drain the parked groups. From `active`: no change, no write. When the basis no longer holds (see the
 * header), nothing changes: the success may be older than the failure now stored.
 */
export function onCredentialSuccess(state: CredentialState, now: number, basisHolds = true): Decision<FollowUp> {
  if (state.status === 'active' || !basisHolds) return unchanged(state, 'none');
  const failedForMs = Math.max(0, now - state.failingSince);
  return {
    next: { status: 'active', recoveredAt: now },
    changed: true,
    action: 'drain',
    transition: {
      type: 'recovered',
      from: state.status,
      to: 'active',
      at: now,
      failingSince: state.failingSince,
      severity: 'NOTICE',
      message:
        `credential works again after ${describeDuration(failedForMs)}` +
        (state.status === 'expired' ? ' (events dropped while expired are lost)' : '') +
        ': parked events are drained',
    },
  };
}

/**
 * Outcome of the scheduled probe's attempt (re-read the secret, try the oldest parked group or an empty call):
 *  - `{ ok: true }` / `{ ok: false, detail }`: the credential was tried and worked / was refused;
 *  - `{ untested: true }`: the credential was not tried (the connector read as active and nothing was parked). It proves
 *    nothing: it never recovers a failing or expired connector, whatever another instance wrote meanwhile.
 */
export type ProbeOutcome =
  | { readonly ok: true }
  | { readonly ok: false; readonly detail: string }
  | { readonly ok?: undefined; readonly untested: true };

/**
 * The scheduled probe's decision. Success → `onCredentialSuccess` (drain; from active the action is still `drain`, so that
 * parked groups left behind by a race are delivered). Failure → `onCredentialFailure`, then `expire` when the grace period
 * has passed; the action is `drop_parked` whenever the result is expired (dropping is idempotent, so repeating it catches
 * groups parked late by instances that still had `failing` cached). Untested, or a success whose basis no longer holds →
 * only the time rule: `drain` on active (leftovers), `expire` otherwise, never a recovery.
 */
export function onProbe(
  state: CredentialState,
  now: number,
  graceMs: number,
  outcome: ProbeOutcome,
  basisHolds = true,
): Decision<FollowUp> {
  if (outcome.ok === true && basisHolds) {
    const d = onCredentialSuccess(state, now);
    return { ...d, action: 'drain' };
  }
  if (outcome.ok !== false) {
    return state.status === 'active' ? unchanged(state, 'drain') : expire(state, now, graceMs);
  }
  const failed = onCredentialFailure(state, now, outcome.detail, basisHolds);
  const expired = expire(failed.next, now, graceMs);
  const transition = failed.transition ?? expired.transition;
  return {
    next: expired.next,
    changed: failed.changed || expired.changed,
    action: expired.next.status === 'expired' ? 'drop_parked' : 'none',
    ...(transition ? { transition } : {}),
  };
}
