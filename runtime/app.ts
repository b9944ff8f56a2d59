/**
 * The connector's request handling, with every adapter injected: one Pub/Sub push (`handlePush`) and the scheduled
 * credential probe (`handleProbe`). runtime/runtime.ts wires the real adapters; tests and benchmarks wire the same
 * adapters to the emulators and the local Segment server.
 *
 * A push is answered 2xx only when every event of the message has a final outcome: delivered, skipped on purpose,
 * parked, dropped by the expiry rule, or written to the dead-letter topic. Anything else (Segment still failing when the
 * delivery budget is spent, Firestore or Pub/Sub unavailable) is answered 503, and Pub/Sub redelivers the message with
 * its backoff; events already delivered are sent again and Segment deduplicates them by messageId.
 */
import type { RuntimeBudgets } from '../shared/policy';
import { addCounts, countBy, sum } from './core/counts';
import { worstSegmentStatus } from './core/segment-status';
import type { FollowUp, ProbeOutcome } from './core/expiry';
import { parsePushEnvelope, PUSH_FAILURE_REASONS } from './core/push';
import { type Translator, unknownTypeReports } from './core/translate';
import type { Clock, CredentialSource, DeadLetter, DeliveryItem, TranslatedEvent } from './core/types';
import { CredentialUnavailableError } from './core/types';
import type {
  CredentialCheck,
  CredentialCheckResult,
  DeadLetterSink,
  Delivery,
  DeliveryReport,
  DropResult,
  ParkedItem,
  StateStore,
  StoredDecision,
  TraceSink,
} from './ports';
import { describeError, logTransition, type Logger } from './log';

export type { Delivery, StateStore, TraceSink } from './ports';

export interface AppDeps {
  /** The connector's translator, or where to get it (a keyed hash needs its key read first: runtime/adapters/translator-source.ts). */
  readonly translator: Translator | (() => Promise<Translator>);
  readonly segment: Delivery;
  readonly credentials: CredentialSource;
  readonly store: StateStore;
  readonly deadLetters: DeadLetterSink;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly policy: Pick<RuntimeBudgets, 'deliveryBudgetMs' | 'probeBudgetMs'>;
  readonly traces?: TraceSink;
  /**
   * The write-key source check through Segment's Public API (connectors with `segment.sourceId`), run by the probe before
   * it sends anything, and once per instance before its first delivery (never per push). A failed check is a credential
   * failure; an inconclusive one changes nothing and is logged as `credential_unverified` (alerted).
   */
  readonly credentialCheck?: CredentialCheck;
}

/** Longest wait for the source check an instance runs once before its first delivery. */
export const START_CHECK_BUDGET_MS = 5_000;

export interface HttpResult {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

/** The outcome counts of one message, as logged and returned. */
export interface PushCounts {
  received: number;
  delivered: number;
  skipped: Record<string, number>;
  deadLettered: Record<string, number>;
  parked: number;
  dropped: number;
  retryLater: number;
}

const TRACE_ATTRIBUTE = 'currents_trace';

/** Dead letters for the events Segment refused (400 down to a single event). */
function rejectedLetters<T extends DeliveryItem & { eventType: string }>(
  report: DeliveryReport<T>,
  raw: (item: T) => unknown,
): DeadLetter[] {
  return report.rejected.map(({ item, status, detail }) => ({
    reason: 'rejected' as const,
    detail: `Segment answered ${status}${detail ? `: ${detail}` : ''}`,
    eventType: item.eventType,
    id: item.messageId,
    raw: raw(item),
  }));
}

function parkedItems(events: readonly TranslatedEvent[]): ParkedItem[] {
  return events.map((e) => ({ messageId: e.messageId, eventType: e.eventType, json: e.json }));
}

export function createApp(deps: AppDeps) {
  const { store, logger } = deps;

  const transition = (d: { transition?: Parameters<typeof logTransition>[1] }) => {
    if (d.transition) logTransition(logger, d.transition);
  };

  /** Records a credential failure seen while the state was at version `basis` (logged, with its transition if any). */
  async function credentialFailed(detail: string, basis: number): Promise<StoredDecision<FollowUp>> {
    deps.credentials.invalidate();
    const d = await store.recordFailure(detail, basis);
    logger.error('credential_failure', `Segment credential failed: ${detail}`, { detail, state: d.next.status });
    transition(d);
    return d;
  }

  /** An active connector's credential read, not tried (a secret with no version yet): why not, alerted; no state change. */
  async function credentialUnreadable(): Promise<string | undefined> {
    const err = await deps.credentials.get().catch((e: unknown) => e);
    if (!(err instanceof CredentialUnavailableError)) return undefined;
    const detail = err.message;
    logger.warning('credential_unverified', `probe: credential unreadable: ${detail}`, { detail, when: 'probe' });
    return detail;
  }

  /** Runs the source check (when the connector has one); logs an inconclusive answer. Never throws. */
  async function checkSource(budgetMs: number, when: 'probe' | 'start'): Promise<CredentialCheckResult | undefined> {
    if (!deps.credentialCheck) return undefined;
    const r: CredentialCheckResult = await deps.credentialCheck
      .check({ budgetMs: Math.max(1, budgetMs) })
      .catch((err: unknown) => ({ status: 'inconclusive', detail: describeError(err) }));
    if (r.status === 'inconclusive') {
      logger.warning('credential_unverified', `${when}: the Segment credential cannot be verified: ${r.detail}`, {
        detail: r.detail,
        when,
      });
    }
    return r;
  }

  let startCheck: Promise<boolean> | undefined;
  /**
   * Once per instance, before its first delivery: a failed source check is recorded as a credential failure, decided on
   * state version `basis`. Resolves true when a failure was recorded (the caller then admits again).
   */
  function checkAtStart(basis: number): Promise<boolean> {
    startCheck ??= checkSource(START_CHECK_BUDGET_MS, 'start')
      .then(async (r) => {
        if (r?.status !== 'failed') return false;
        await credentialFailed(r.detail, basis);
        return true;
      })
      .catch((err: unknown) => {
        logger.error('internal_error', `start check not recorded: ${describeError(err)}`);
        return false;
      });
    return startCheck;
  }

  async function drop(events: readonly { eventType: string }[], log: Logger, why: string): Promise<void> {
    if (!events.length) return;
    const byType = countBy(events, (e) => e.eventType);
    await store.recordDropped(byType);
    log.alert('events_dropped', `${events.length} event(s) dropped: ${why}`, {
      counts: byType,
      dropped: events.length,
    });
  }

  async function handlePush(body: unknown): Promise<HttpResult> {
    const parsed = parsePushEnvelope(body);
    if (!parsed.ok) {
      logger.warning('internal_error', `bad push request: ${parsed.error}`);
      return { status: 400, body: { error: parsed.error } };
    }
    const msg = parsed.message;
    const log = logger.child({ pubsubMessageId: msg.messageId });
    const counts: PushCounts = {
      received: 0,
      delivered: 0,
      skipped: {},
      deadLettered: {},
      parked: 0,
      dropped: 0,
      retryLater: 0,
    };
    /** What the push was doing: the reason it could not be handled, should it fail (PUSH_FAILURE_REASONS). */
    let step: keyof typeof PUSH_FAILURE_REASONS = 'translate';
    try {
      const translator = typeof deps.translator === 'function' ? await deps.translator() : deps.translator;
      const tr = translator.translateMessage(msg.data, msg.attributes);
      counts.received = tr.send.length + tr.skipped.length + tr.deadLetters.length;
      counts.skipped = countBy(tr.skipped, (s) => s.reason);
      const letters: DeadLetter[] = [...tr.deadLetters];
      let toPark: TranslatedEvent[] = [];
      let toDrop: TranslatedEvent[] = [];
      /** Time spent in Segment's Tracking API and its worst answer (dashboard: latency, answers by status). */
      let segment: { segmentMs: number; segmentStatus?: string } | undefined;
      if (tr.send.length) {
        step = 'state';
        let admission = await store.admit();
        transition(admission);
        if (deps.credentialCheck && (await checkAtStart(admission.version))) {
          admission = await store.admit();
          transition(admission);
        }
        if (admission.action === 'send') {
          const sentAt = deps.clock.now();
          step = 'segment';
          const report = await deps.segment.deliver(tr.send, { budgetMs: deps.policy.deliveryBudgetMs });
          segment = { segmentMs: deps.clock.now() - sentAt, segmentStatus: worstSegmentStatus(report.statuses ?? {}) };
          counts.delivered = report.delivered.length;
          counts.retryLater = report.retryLater.length;
          letters.push(...rejectedLetters(report, (e) => e.raw));
          step = 'state';
          if (report.delivered.length) await store.noteDelivery();
          if (report.credentialFailure.length) {
            const d = await credentialFailed(report.credentialError ?? 'credential refused', admission.version);
            if (d.next.status === 'expired') toDrop = report.credentialFailure;
            else toPark = report.credentialFailure;
          }
          if (report.retryLater.length) {
            log.warning(
              'delivery_retry',
              `${report.retryLater.length} event(s) not accepted yet; Pub/Sub will redeliver`,
              {
                retryLater: report.retryLater.length,
              },
            );
          }
        } else if (admission.action === 'park') toPark = tr.send;
        else toDrop = tr.send;
      }
      // Dead letters first, then parking, then counting drops last: a failure at any step nacks the message, and
      // a redelivery repeats only what is idempotent (dead letters may repeat; parking is per message; drops are
      // counted once, by the step that completes the message).
      if (letters.length) {
        step = 'dead_letters';
        const r = await deps.deadLetters.publish(letters);
        counts.deadLettered = { ...r.byReason };
        log.warning('dead_lettered', `${letters.length} event(s) written to the dead-letter topic`, {
          counts: r.byReason,
          ids: letters.slice(0, 20).map((l) => l.id ?? '?'),
        });
      }
      if (toPark.length) {
        step = 'park';
        const r = await store.park({ pubsubMessageId: msg.messageId, items: parkedItems(toPark) });
        counts.parked = toPark.length;
        log.warning('events_parked', `${toPark.length} event(s) parked while the credential fails`, {
          parked: toPark.length,
          alreadyParked: r.alreadyParked,
        });
      }
      if (toDrop.length) {
        step = 'state';
        await drop(toDrop, log, 'the credential has been failing for longer than the grace period');
        counts.dropped = toDrop.length;
      }
      // A type the catalogue does not know (a new Braze type, the day it arrives): a line per type, a count for status.
      for (const u of unknownTypeReports(tr)) log.warning('unknown_event_type', u.message, u.fields);
      if (tr.unknownTypes) await store.noteUnknownTypes(tr.unknownTypes);
      const final = counts.retryLater === 0;
      log.info('batch_done', final ? 'message handled' : 'message not fully delivered; asking Pub/Sub to redeliver', {
        counts: {
          received: counts.received,
          delivered: counts.delivered,
          skipped: sum(counts.skipped),
          deadLettered: sum(counts.deadLettered),
          parked: counts.parked,
          dropped: counts.dropped,
          retryLater: counts.retryLater,
        },
        skipped: counts.skipped,
        ...(tr.unknownTypes ? { unknownTypes: tr.unknownTypes } : {}),
        deliveryAttempt: msg.deliveryAttempt,
        ...segment,
      });
      const trace = msg.attributes[TRACE_ATTRIBUTE];
      step = 'trace';
      if (trace && deps.traces && final) await deps.traces.record(trace, { ...counts, at: deps.clock.now() });
      return { status: final ? 204 : 503, body: { ...counts } };
    } catch (err) {
      const reason = PUSH_FAILURE_REASONS[step];
      const detail = describeError(err);
      log.error('internal_error', `message not handled (${reason}); Pub/Sub will redeliver: ${detail}`, {
        reason,
        events: counts.received,
        detail,
      });
      return { status: 503, body: { error: 'temporarily unable to handle the message', reason } };
    }
  }

  /**
   * Delivers parked groups oldest first within the budget, deleting each only after all its events are final. `basis`:
   * the state version the drain was decided on.
   */
  async function drain(deadline: number, basis: number) {
    const result = { groups: 0, delivered: 0, deadLettered: 0, stoppedBy: undefined as string | undefined };
    while (deps.clock.now() < deadline) {
      const { groups } = await store.listParked({ limit: 10 });
      if (!groups.length) return result;
      for (const group of groups) {
        const budgetMs = deadline - deps.clock.now();
        if (budgetMs <= 0) {
          result.stoppedBy = 'budget';
          return result;
        }
        const report = await deps.segment.deliver(group.items, { budgetMs });
        if (report.credentialFailure.length) {
          await credentialFailed(report.credentialError ?? 'credential refused', basis);
          result.stoppedBy = 'credential_failure';
          return result;
        }
        if (report.retryLater.length) {
          result.stoppedBy = 'segment_unavailable';
          return result;
        }
        if (report.rejected.length) {
          await deps.deadLetters.publish(rejectedLetters(report, (i) => safeParse(i.json)));
          result.deadLettered += report.rejected.length;
        }
        await store.deleteGroup(group);
        result.groups++;
        result.delivered += report.delivered.length;
        if (report.delivered.length) await store.noteDelivery();
      }
    }
    result.stoppedBy = 'budget';
    return result;
  }

  async function handleProbe(): Promise<HttpResult> {
    const started = deps.clock.now();
    const deadline = started + deps.policy.probeBudgetMs;
    try {
      deps.credentials.invalidate();
      store.invalidateCache();
      // 1. Past the grace period? Then expire (once, across instances) and drop what is parked, counted by type.
      const expiry = await store.expire();
      transition(expiry);
      let dropped: DropResult | undefined;
      if (expiry.action === 'drop_parked') dropped = await dropParked();
      // 2. Try the credential: on the oldest parked group when there is one, otherwise without sending an event. What is
      //    tried is decided on the state `expire()` read (the basis): an active connector with nothing parked is not
      //    tried, and that outcome (untested) can never recover a connector another instance moved to failing meanwhile.
      const status = expiry.next.status;
      const basis = expiry.version;
      let outcome: ProbeOutcome & { inconclusive?: boolean };
      let firstGroupEvents = 0;
      let firstGroupDelivered = false;
      let unreadable: string | undefined; // why the credential cannot be had (active: read, not tried)
      const { groups } = status === 'expired' ? { groups: [] } : await store.listParked({ limit: 1 });
      // A write key is checked through the Public API first: sending with a bad one is answered 200 and lost.
      const check = await checkSource(Math.min(10_000, deadline - deps.clock.now()), 'probe');
      if (check && check.status !== 'ok') {
        outcome = {
          ok: false,
          detail: check.detail,
          ...(check.status === 'inconclusive' ? { inconclusive: true } : {}),
        };
      } else if (groups[0]) {
        const report = await deps.segment.deliver(groups[0].items, { budgetMs: deadline - deps.clock.now() });
        if (report.credentialFailure.length) {
          outcome = { ok: false, detail: report.credentialError ?? 'credential refused' };
        } else if (report.retryLater.length) {
          outcome = { ok: false, detail: 'Segment unavailable', inconclusive: true };
        } else {
          outcome = { ok: true };
          if (report.rejected.length) {
            await deps.deadLetters.publish(rejectedLetters(report, (i) => safeParse(i.json)));
          }
          await store.deleteGroup(groups[0]);
          firstGroupDelivered = true;
          firstGroupEvents = report.delivered.length;
        }
      } else if (status === 'active') {
        outcome = check ? { ok: true } : { untested: true }; // a source check that passed did test the write key
        if (!check) unreadable = await credentialUnreadable();
      } else {
        outcome = await deps.segment.verifyCredential({ budgetMs: Math.min(10_000, deadline - deps.clock.now()) });
      }
      // 3. Apply the outcome (an inconclusive try — Segment down — changes nothing).
      let decision: StoredDecision<FollowUp> | undefined;
      if (!outcome.inconclusive) {
        decision = await store.probe(outcome, basis);
        transition(decision);
        if (outcome.ok === false) {
          logger.error('credential_failure', `probe: Segment credential still failing: ${outcome.detail}`, {
            detail: outcome.detail,
            state: decision.next.status,
          });
        }
        if (decision.action === 'drop_parked') {
          const more = await dropParked();
          dropped = dropped ? mergeDrops(dropped, more) : more;
        }
      }
      const drained = decision?.action === 'drain' ? await drain(deadline, decision.version) : undefined;
      const final = await store.readStatus();
      const body = {
        state: final.state.status,
        failingSince: 'failingSince' in final.state ? new Date(final.state.failingSince).toISOString() : undefined,
        credential: outcome.ok ? 'ok' : outcome.ok === false && !outcome.inconclusive ? 'failing' : 'unknown',
        detail: outcome.ok === false ? outcome.detail : outcome.ok ? undefined : notTried(unreadable),
        drainedGroups: (drained?.groups ?? 0) + (firstGroupDelivered ? 1 : 0),
        drainedEvents: (drained?.delivered ?? 0) + firstGroupEvents,
        droppedEvents: dropped?.events ?? 0,
        droppedByType: dropped?.byType ?? {},
        parkedEvents: final.parkedEvents,
        stoppedBy: drained?.stoppedBy,
        tookMs: deps.clock.now() - started,
      };
      logger.info('probe', `probe: state ${body.state}, credential ${body.credential}`, {
        state: body.state,
        credential: body.credential,
        drainedEvents: body.drainedEvents,
        droppedEvents: body.droppedEvents,
        parkedEvents: body.parkedEvents,
      });
      return { status: 200, body };
    } catch (err) {
      logger.error('internal_error', `probe failed: ${describeError(err)}`);
      return { status: 503, body: { error: 'probe failed; it will run again' } };
    }
  }

  async function dropParked(): Promise<DropResult> {
    const r = await store.dropAllParked();
    if (r.events) {
      logger.alert(
        'events_dropped',
        `${r.events} parked event(s) dropped: the credential failed past the grace period`,
        {
          counts: r.byType,
          dropped: r.events,
        },
      );
    }
    return r;
  }

  return { handlePush, handleProbe };
}

const notTried = (unreadable?: string) => `not tried: active, nothing parked${unreadable ? `; but ${unreadable}` : ''}`;

function mergeDrops(a: DropResult, b: DropResult): DropResult {
  return { docs: a.docs + b.docs, events: a.events + b.events, byType: addCounts({ ...a.byType }, b.byType) };
}

function safeParse(json: string): unknown {
  try {
    return JSON.parse(json);
  } catch {
    return json;
  }
}

export type ConnectorApp = ReturnType<typeof createApp>;
