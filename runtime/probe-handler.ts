/**
 * The scheduled credential probe (`POST /probe`; runtime/app.ts routes it here): expire the connector when it has failed
 * past the grace period, try the credential, apply what the try found, then deliver the parked events (recovered) or
 * drop them (expired), and answer with the connector's state (`currents probe` shows it).
 */
import { addCounts } from './core/counts';
import type { CredentialState, FollowUp, ProbeOutcome } from './core/expiry';
import { CredentialUnavailableError } from './core/types';
import type { ConnectorStatus, DeliveryReport, DropResult, ParkedGroup, ParkedItem, StoredDecision } from './ports';
import { type AppContext, type HttpResult, rejectedLetters } from './app-context';
import { describeError } from './log';

type Outcome = ProbeOutcome & { inconclusive?: boolean };

/** Longest wait for the source check, or for Segment's check of the credential without an event. */
const CHECK_BUDGET_MS = 10_000;

/** What trying the credential found. */
interface Tried {
  readonly outcome: Outcome;
  /** The oldest parked group, when the try delivered it: its events delivered. */
  readonly firstGroup?: { readonly events: number };
  /** Why the credential cannot be had (an active connector's credential read, not tried). */
  readonly unreadable?: string;
}

/** What the parked groups' drain did, and what stopped it. */
interface Drained {
  groups: number;
  delivered: number;
  stoppedBy?: string;
}

export async function handleProbe(ctx: AppContext): Promise<HttpResult> {
  const { deps } = ctx;
  const started = deps.clock.now();
  const deadline = started + deps.policy.probeBudgetMs;
  try {
    deps.credentials.invalidate();
    deps.store.invalidateCache();
    // 1. Past the grace period? Then expire (once, across instances) and drop what is parked, counted by type.
    const expiry = await deps.store.expire();
    ctx.transition(expiry);
    const expiredDrop = expiry.action === 'drop_parked' ? await dropParked(ctx) : undefined;
    // 2. Try the credential: on the oldest parked group when there is one, otherwise without sending an event. What is
    //    tried is decided on the state `expire()` read (the basis): an active connector with nothing parked is not
    //    tried, and that outcome (untested) can never recover a connector another instance moved to failing meanwhile.
    const tried = await tryCredential(ctx, expiry.next.status, deadline);
    // 3. Apply the outcome (an inconclusive try — Segment down — changes nothing).
    const decision = tried.outcome.inconclusive ? undefined : await applyOutcome(ctx, tried.outcome, expiry.version);
    const dropped = mergeDrops(expiredDrop, decision?.dropped);
    const drained = decision?.action === 'drain' ? await drain(ctx, deadline, decision.version) : undefined;
    const final = await deps.store.readStatus();
    const body = probeBody(final, tried, drained, dropped, deps.clock.now() - started);
    deps.logger.info('probe', `probe: state ${body.state}, credential ${body.credential}`, {
      state: body.state,
      credential: body.credential,
      drainedEvents: body.drainedEvents,
      droppedEvents: body.droppedEvents,
      parkedEvents: body.parkedEvents,
    });
    return { status: 200, body };
  } catch (err) {
    deps.logger.error('internal_error', `probe failed: ${describeError(err)}`);
    return { status: 503, body: { error: 'probe failed; it will run again' } };
  }
}

/**
 * Tries the credential of a connector in state `status`: the write-key source check first (sending with a bad write
 * key is answered 200 and lost), then the oldest parked group, else an active connector is not tried, else Segment is
 * asked without sending an event.
 */
async function tryCredential(ctx: AppContext, status: CredentialState['status'], deadline: number): Promise<Tried> {
  const { deps } = ctx;
  const { groups } = status === 'expired' ? { groups: [] } : await deps.store.listParked({ limit: 1 });
  const check = await ctx.checkSource(Math.min(CHECK_BUDGET_MS, deadline - deps.clock.now()), 'probe');
  if (check && check.status !== 'ok') {
    return {
      outcome: { ok: false, detail: check.detail, ...(check.status === 'inconclusive' ? { inconclusive: true } : {}) },
    };
  }
  if (groups[0]) return tryOnParked(ctx, groups[0], deadline);
  // A source check that passed did test the write key.
  if (status === 'active') {
    return check
      ? { outcome: { ok: true } }
      : { outcome: { untested: true }, unreadable: await credentialUnreadable(ctx) };
  }
  const budgetMs = Math.min(CHECK_BUDGET_MS, deadline - deps.clock.now());
  return { outcome: await deps.segment.verifyCredential({ budgetMs }) };
}

/** Tries the credential by delivering the oldest parked group (deleted once all its events are final). */
async function tryOnParked(ctx: AppContext, group: ParkedGroup, deadline: number): Promise<Tried> {
  const report = await ctx.deps.segment.deliver(group.items, { budgetMs: deadline - ctx.deps.clock.now() });
  if (report.credentialFailure.length) {
    return { outcome: { ok: false, detail: report.credentialError ?? 'credential refused' } };
  }
  if (report.retryLater.length) return { outcome: { ok: false, detail: 'Segment unavailable', inconclusive: true } };
  await finishGroup(ctx, group, report);
  return { outcome: { ok: true }, firstGroup: { events: report.delivered.length } };
}

/** An active connector's credential read, not tried (a secret with no version yet): why not, alerted; no state change. */
async function credentialUnreadable({ deps }: AppContext): Promise<string | undefined> {
  const err = await deps.credentials.get().catch((e: unknown) => e);
  if (!(err instanceof CredentialUnavailableError)) return undefined;
  const detail = err.message;
  deps.logger.warning('credential_unverified', `probe: credential unreadable: ${detail}`, { detail, when: 'probe' });
  return detail;
}

/** Stores a conclusive outcome decided on state version `basis`, and drops what is parked if the connector expired. */
async function applyOutcome(
  ctx: AppContext,
  outcome: Outcome,
  basis: number,
): Promise<StoredDecision<FollowUp> & { dropped?: DropResult }> {
  const { deps } = ctx;
  const decision = await deps.store.probe(outcome, basis);
  ctx.transition(decision);
  if (outcome.ok === false) {
    deps.logger.error('credential_failure', `probe: Segment credential still failing: ${outcome.detail}`, {
      detail: outcome.detail,
      state: decision.next.status,
    });
  }
  return decision.action === 'drop_parked' ? { ...decision, dropped: await dropParked(ctx) } : decision;
}

/**
 * Delivers parked groups oldest first within the budget, deleting each only after all its events are final. `basis`:
 * the state version the drain was decided on.
 */
async function drain(ctx: AppContext, deadline: number, basis: number): Promise<Drained> {
  const { deps } = ctx;
  const result: Drained = { groups: 0, delivered: 0 };
  while (deps.clock.now() < deadline) {
    const { groups } = await deps.store.listParked({ limit: 10 });
    if (!groups.length) return result;
    for (const group of groups) {
      const budgetMs = deadline - deps.clock.now();
      if (budgetMs <= 0) return { ...result, stoppedBy: 'budget' };
      const report = await deps.segment.deliver(group.items, { budgetMs });
      if (report.credentialFailure.length) {
        await ctx.credentialFailed(report.credentialError ?? 'credential refused', basis);
        return { ...result, stoppedBy: 'credential_failure' };
      }
      if (report.retryLater.length) return { ...result, stoppedBy: 'segment_unavailable' };
      await finishGroup(ctx, group, report);
      result.groups++;
      result.delivered += report.delivered.length;
      if (report.delivered.length) await deps.store.noteDelivery();
    }
  }
  return { ...result, stoppedBy: 'budget' };
}

/** A parked group Segment answered for every event: its refused events to the dead-letter topic, then the group deleted. */
async function finishGroup(ctx: AppContext, group: ParkedGroup, report: DeliveryReport<ParkedItem>): Promise<void> {
  if (report.rejected.length) {
    await ctx.deps.deadLetters.publish(rejectedLetters(report, (i) => safeParse(i.json)));
  }
  await ctx.deps.store.deleteGroup(group);
}

async function dropParked({ deps }: AppContext): Promise<DropResult> {
  const r = await deps.store.dropAllParked();
  if (r.events) {
    deps.logger.alert(
      'events_dropped',
      `${r.events} parked event(s) dropped: the credential failed past the grace period`,
      { counts: r.byType, dropped: r.events },
    );
  }
  return r;
}

/** The probe's answer: the connector's state, what the try found, and what was drained and dropped. */
function probeBody(
  final: ConnectorStatus,
  tried: Tried,
  drained: Drained | undefined,
  dropped: DropResult | undefined,
  tookMs: number,
) {
  const { outcome } = tried;
  return {
    state: final.state.status,
    failingSince: 'failingSince' in final.state ? new Date(final.state.failingSince).toISOString() : undefined,
    credential: outcome.ok ? 'ok' : outcome.ok === false && !outcome.inconclusive ? 'failing' : 'unknown',
    detail: outcome.ok === false ? outcome.detail : outcome.ok ? undefined : notTried(tried.unreadable),
    drainedGroups: (drained?.groups ?? 0) + (tried.firstGroup ? 1 : 0),
    drainedEvents: (drained?.delivered ?? 0) + (tried.firstGroup?.events ?? 0),
    droppedEvents: dropped?.events ?? 0,
    droppedByType: dropped?.byType ?? {},
    parkedEvents: final.parkedEvents,
    stoppedBy: drained?.stoppedBy,
    tookMs,
  };
}

const notTried = (unreadable?: string) => `not tried: active, nothing parked${unreadable ? `; but ${unreadable}` : ''}`;

/** Both drops of one probe (on expiry, and after its outcome) added together. */
function mergeDrops(a: DropResult | undefined, b: DropResult | undefined): DropResult | undefined {
  if (!a || !b) return a ?? b;
  return { docs: a.docs + b.docs, events: a.events + b.events, byType: addCounts({ ...a.byType }, b.byType) };
}

function safeParse(json: string): unknown {
  try {
    return JSON.parse(json);
  } catch {
    return json;
  }
}
