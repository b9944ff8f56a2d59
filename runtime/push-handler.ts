/**
 * One Pub/Sub push to the connector function (runtime/app.ts routes it here): decode the push, translate its events,
 * admit and deliver them, settle the rest (dead letters, parking, drops), then answer.
 *
 * A push is answered 2xx only when every event of the message has a final outcome: delivered, skipped on purpose,
 * parked, dropped by the expiry rule, or written to the dead-letter topic. Anything else (Segment still failing when the
 * delivery budget is spent, Firestore or Pub/Sub unavailable) is answered 503, and Pub/Sub redelivers the message with
 * its backoff; events already delivered are sent again and Segment deduplicates them by messageId.
 */
import { countBy, sum } from './core/counts';
import type { AdmitAction } from './core/expiry';
import { parsePushEnvelope, PUSH_FAILURE_REASONS, type PushMessage } from './core/push';
import { worstSegmentStatus } from './core/segment-status';
import { unknownTypeReports } from './core/translate';
import type { DeadLetter, TranslatedEvent, TranslationResult } from './core/types';
import type { ParkedItem, StoredDecision } from './ports';
import { type AppContext, type HttpResult, rejectedLetters } from './app-context';
import { describeError, type Logger } from './log';

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

/** One push being handled: what it has counted so far, and the step it is at. */
interface PushRun {
  readonly ctx: AppContext;
  readonly msg: PushMessage;
  readonly log: Logger;
  readonly counts: PushCounts;
  /** What the push is doing: the reason it could not be handled, should it fail (PUSH_FAILURE_REASONS). */
  step: keyof typeof PUSH_FAILURE_REASONS;
}

/** Where the events that were not delivered (nor skipped) go, and how the call to Segment went. */
interface Fates {
  readonly letters: DeadLetter[];
  toPark: readonly TranslatedEvent[];
  toDrop: readonly TranslatedEvent[];
  /** Time spent in Segment's Tracking API and its worst answer (dashboard: latency, answers by status). */
  segment?: { segmentMs: number; segmentStatus?: string };
}

export async function handlePush(ctx: AppContext, body: unknown): Promise<HttpResult> {
  const parsed = parsePushEnvelope(body);
  if (!parsed.ok) {
    ctx.deps.logger.warning('internal_error', `bad push request: ${parsed.error}`);
    return { status: 400, body: { error: parsed.error } };
  }
  const msg = parsed.message;
  const run: PushRun = {
    ctx,
    msg,
    log: ctx.deps.logger.child({ pubsubMessageId: msg.messageId }),
    counts: { received: 0, delivered: 0, skipped: {}, deadLettered: {}, parked: 0, dropped: 0, retryLater: 0 },
    step: 'translate',
  };
  try {
    const tr = await translate(run);
    const fates: Fates = { letters: [...tr.deadLetters], toPark: [], toDrop: [] };
    if (tr.send.length) await admitAndDeliver(run, tr.send, fates);
    await settle(run, fates);
    // A type the catalogue does not know (a new Braze type, the day it arrives): a line per type, a count for status.
    for (const u of unknownTypeReports(tr)) run.log.warning('unknown_event_type', u.message, u.fields);
    if (tr.unknownTypes) await ctx.deps.store.noteUnknownTypes(tr.unknownTypes);
    return await answer(run, tr, fates);
  } catch (err) {
    const reason = PUSH_FAILURE_REASONS[run.step];
    const detail = describeError(err);
    run.log.error('internal_error', `message not handled (${reason}); Pub/Sub will redeliver: ${detail}`, {
      reason,
      events: run.counts.received,
      detail,
    });
    return { status: 503, body: { error: 'temporarily unable to handle the message', reason } };
  }
}

/** Translates the message's events and counts what was received and skipped. */
async function translate(run: PushRun): Promise<TranslationResult> {
  const { translator } = run.ctx.deps;
  const tr = (typeof translator === 'function' ? await translator() : translator).translateMessage(
    run.msg.data,
    run.msg.attributes,
  );
  run.counts.received = tr.send.length + tr.skipped.length + tr.deadLetters.length;
  run.counts.skipped = countBy(tr.skipped, (s) => s.reason);
  return tr;
}

/** Asks the state store what to do with the events (send, park or drop), and sends them when it says so. */
async function admitAndDeliver(run: PushRun, events: readonly TranslatedEvent[], fates: Fates): Promise<void> {
  const { ctx } = run;
  run.step = 'state';
  let admission = await ctx.deps.store.admit();
  ctx.transition(admission);
  if (ctx.deps.credentialCheck && (await ctx.checkAtStart(admission.version))) {
    admission = await ctx.deps.store.admit();
    ctx.transition(admission);
  }
  if (admission.action === 'send') await deliver(run, events, admission, fates);
  else if (admission.action === 'park') fates.toPark = events;
  else fates.toDrop = events;
}

/** Sends the events to Segment within the delivery budget and sorts out its report. */
async function deliver(
  run: PushRun,
  events: readonly TranslatedEvent[],
  admission: StoredDecision<AdmitAction>,
  fates: Fates,
): Promise<void> {
  const { deps } = run.ctx;
  const sentAt = deps.clock.now();
  run.step = 'segment';
  const report = await deps.segment.deliver(events, { budgetMs: deps.policy.deliveryBudgetMs });
  fates.segment = { segmentMs: deps.clock.now() - sentAt, segmentStatus: worstSegmentStatus(report.statuses ?? {}) };
  run.counts.delivered = report.delivered.length;
  run.counts.retryLater = report.retryLater.length;
  fates.letters.push(...rejectedLetters(report, (e) => e.raw));
  run.step = 'state';
  if (report.delivered.length) await deps.store.noteDelivery();
  if (report.credentialFailure.length) {
    const d = await run.ctx.credentialFailed(report.credentialError ?? 'credential refused', admission.version);
    if (d.next.status === 'expired') fates.toDrop = report.credentialFailure;
    else fates.toPark = report.credentialFailure;
  }
  if (report.retryLater.length) {
    run.log.warning('delivery_retry', `${report.retryLater.length} event(s) not accepted yet; Pub/Sub will redeliver`, {
      retryLater: report.retryLater.length,
    });
  }
}

/**
 * Dead letters first, then parking, then counting drops last: a failure at any step nacks the message, and a
 * redelivery repeats only what is idempotent (dead letters may repeat; parking is per message; drops are counted once,
 * by the step that completes the message).
 */
async function settle(run: PushRun, { letters, toPark, toDrop }: Fates): Promise<void> {
  const { deps } = run.ctx;
  if (letters.length) {
    run.step = 'dead_letters';
    const r = await deps.deadLetters.publish(letters);
    run.counts.deadLettered = { ...r.byReason };
    run.log.warning('dead_lettered', `${letters.length} event(s) written to the dead-letter topic`, {
      counts: r.byReason,
      ids: letters.slice(0, 20).map((l) => l.id ?? '?'),
    });
  }
  if (toPark.length) {
    run.step = 'park';
    const r = await deps.store.park({ pubsubMessageId: run.msg.messageId, items: parkedItems(toPark) });
    run.counts.parked = toPark.length;
    run.log.warning('events_parked', `${toPark.length} event(s) parked while the credential fails`, {
      parked: toPark.length,
      alreadyParked: r.alreadyParked,
    });
  }
  if (toDrop.length) {
    run.step = 'state';
    const byType = countBy(toDrop, (e) => e.eventType);
    await deps.store.recordDropped(byType);
    run.log.alert(
      'events_dropped',
      `${toDrop.length} event(s) dropped: the credential has been failing for longer than the grace period`,
      { counts: byType, dropped: toDrop.length },
    );
    run.counts.dropped = toDrop.length;
  }
}

/** Logs the message's outcome, records it for a traced message, and answers: 204 when every event is final, else 503. */
async function answer(run: PushRun, tr: TranslationResult, fates: Fates): Promise<HttpResult> {
  const { counts, msg, ctx } = run;
  const final = counts.retryLater === 0;
  run.log.info('batch_done', final ? 'message handled' : 'message not fully delivered; asking Pub/Sub to redeliver', {
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
    ...fates.segment,
  });
  const trace = msg.attributes[TRACE_ATTRIBUTE];
  run.step = 'trace';
  if (trace && ctx.deps.traces && final) await ctx.deps.traces.record(trace, { ...counts, at: ctx.deps.clock.now() });
  return { status: final ? 204 : 503, body: { ...counts } };
}

function parkedItems(events: readonly TranslatedEvent[]): ParkedItem[] {
  return events.map((e) => ({ messageId: e.messageId, eventType: e.eventType, json: e.json }));
}
