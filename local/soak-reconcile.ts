/**
 * The soak's reconciliation (local/soak.ts): what was published against what Segment accepted and what sits in the
 * dead-letter subscription, per event id; and which missing events Pub/Sub still owes (their message never acknowledged
 * by the function) as against those really lost (their message acknowledged); and the report's table. Pure.
 */
import type { DeadLetterView } from '../cli/ops/dead-letter-queue';
import { table } from '../common/table';
import type { SoakReport } from './soak';
import type { Expected, SoakMessage } from './soak-events';

const EXHAUSTED = 'delivery_attempts_exhausted';

function bump(map: Record<string, number>, key: string, by = 1): void {
  map[key] = (map[key] ?? 0) + by;
}

export interface Reconciliation {
  /** Deliverable events accepted by Segment (unique messageIds). */
  readonly delivered: number;
  /** Events Segment received more than once (deduplicated by messageId), and the extra receipts. */
  readonly redeliveredEvents: number;
  readonly redeliveredReceipts: number;
  /** Dead letters by reason (unique events; bodies that are not JSON count one each). */
  readonly deadLettered: Record<string, number>;
  /** Dead letters of the same event written more than once (a redelivered message is translated again). */
  readonly deadLetterRepeats: number;
  readonly skipped: Record<string, number>;
  /** Event ids (or garbage markers) with no outcome. */
  readonly missing: readonly string[];
  /** What should not be: accepted/dead-lettered ids never published so, dead letters with the wrong reason. */
  readonly unexpected: readonly string[];
}

/** Event id (or garbage marker) → the reasons of its dead letters, one entry per dead letter. */
export function deadLetterKeys(
  letters: readonly Pick<DeadLetterView, 'eventId' | 'reason' | 'data' | 'messageId'>[],
  messages: readonly SoakMessage[],
): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const add = (key: string, reason: string) => {
    const list = out.get(key);
    if (list) list.push(reason);
    else out.set(key, [reason]);
  };
  const markers = new Map(messages.flatMap((m) => (m.garbageMarker ? [[m.data, m.garbageMarker] as const] : [])));
  for (const l of letters) {
    if (l.eventId) {
      add(l.eventId, l.reason);
      continue;
    }
    const text = l.data.toString('utf8');
    const marker = markers.get(text);
    if (marker) {
      add(marker, l.reason);
      continue;
    }
    if (l.reason === EXHAUSTED) {
      // A whole message Pub/Sub gave up on: every event in it is there, replayable.
      const ids = idsInMessage(text);
      for (const id of ids) add(id, l.reason);
      if (ids.length) continue;
    }
    add(`(dead letter ${l.messageId}: ${l.reason}, no event id)`, l.reason);
  }
  return out;
}

function idsInMessage(text: string): string[] {
  try {
    const parsed = JSON.parse(text) as { events?: unknown };
    const list = Array.isArray(parsed.events) ? (parsed.events as { id?: unknown }[]) : [];
    return list.flatMap((e) => (typeof e?.id === 'string' ? [e.id] : []));
  } catch {
    return [];
  }
}

/** Compares what was published with what Segment accepted and what sits in the dead-letter subscription. */
export function reconcile(input: {
  expected: ReadonlyMap<string, Expected>;
  messages: readonly SoakMessage[];
  accepted: readonly { messageId: string; receipts: number }[];
  letters: readonly Pick<DeadLetterView, 'eventId' | 'reason' | 'data' | 'messageId'>[];
}): Reconciliation {
  const accepted = new Map(input.accepted.map((a) => [a.messageId, a.receipts]));
  const dead = deadLetterKeys(input.letters, input.messages);
  const out = {
    delivered: 0,
    redeliveredEvents: 0,
    redeliveredReceipts: 0,
    deadLettered: {} as Record<string, number>,
    deadLetterRepeats: 0,
    skipped: {} as Record<string, number>,
    missing: [] as string[],
    unexpected: [] as string[],
  };
  for (const [id, receipts] of accepted) {
    const exp = input.expected.get(id);
    if (!exp) out.unexpected.push(`${id}: accepted by Segment but never published`);
    else if (exp.outcome !== 'deliver') {
      out.unexpected.push(`${id}: accepted by Segment but should have been ${exp.outcome} (${exp.reason})`);
    } else {
      out.delivered++;
      if (receipts > 1) {
        out.redeliveredEvents++;
        out.redeliveredReceipts += receipts - 1;
      }
    }
  }
  const perEventLetter = new Set<string>();
  for (const [key, reasons] of dead) {
    const exp = input.expected.get(key);
    // A whole message Pub/Sub gave up on may carry any published event: it is replayable, never wrong.
    const perEvent = reasons.filter((reason) => reason !== EXHAUSTED);
    if (perEvent.length) perEventLetter.add(key);
    out.deadLetterRepeats += Math.max(0, perEvent.length - 1);
    if (!exp) {
      out.unexpected.push(`${key}: dead-lettered (${reasons.join(', ')}) but never published`);
      continue;
    }
    const wrong = perEvent.filter((reason) => exp.outcome !== 'dead' || reason !== exp.reason);
    if (wrong.length) {
      out.unexpected.push(
        `${key}: dead-lettered (${wrong.join(', ')}) but should have been ${exp.outcome}` +
          ('reason' in exp ? ` (${exp.reason})` : ''),
      );
    } else if (exp.outcome === 'dead') bump(out.deadLettered, perEvent[0] ?? EXHAUSTED);
    else if (exp.outcome === 'deliver' && !accepted.has(key)) bump(out.deadLettered, EXHAUSTED);
  }
  for (const [id, exp] of input.expected) {
    if (exp.outcome === 'deliver' && !accepted.has(id) && !dead.has(id)) out.missing.push(id);
    if (exp.outcome === 'dead' && !dead.has(id)) out.missing.push(`${id} (expected a dead letter: ${exp.reason})`);
    if (exp.outcome === 'skip' && !accepted.has(id) && !perEventLetter.has(id)) bump(out.skipped, exp.reason);
  }
  return out;
}

/** What the soak's front end saw of one Pub/Sub message (local/soak-frontend.ts). */
export interface PushRecord {
  readonly count: number;
  readonly last: string;
  readonly acknowledged: boolean;
  /** When it was last pushed (ms since the epoch). */
  readonly lastAt: number;
}

/** The missing events split by who owes them. */
export interface Owing {
  /** Missing events whose message the function acknowledged (2xx): lost by the product. */
  readonly lost: readonly string[];
  /** Missing events whose message the function never acknowledged: Pub/Sub still owes their redelivery. */
  readonly owed: readonly string[];
  /**
   * Of `owed`, those whose message Pub/Sub is still pushing (within `stallMs`) and the function still fails: the
   * product's fault. The others' messages Pub/Sub stopped pushing (the emulator's stall, see soak-frontend.ts).
   */
  readonly owedFailing: readonly string[];
  /** Per message of a missing event: how often it was pushed, the last answer, and whether it is owed or lost. */
  readonly messages: readonly string[];
}

/**
 * Splits `missing` (from `reconcile`) into lost and owed, by their messages' pushes. `messageOf`: the Pub/Sub message
 * id of an event id; `stallMs`: a message not pushed for this long is no longer being retried by Pub/Sub.
 */
export function owing(
  missing: readonly string[],
  messageOf: ReadonlyMap<string, string>,
  pushes: ReadonlyMap<string, PushRecord>,
  now: number,
  stallMs: number,
): Owing {
  const lost: string[] = [];
  const owed: string[] = [];
  const owedFailing: string[] = [];
  const perMessage = new Map<string, number>();
  for (const m of missing) {
    const pubsubId = messageOf.get(m.split(' ')[0]!) ?? '?';
    perMessage.set(pubsubId, (perMessage.get(pubsubId) ?? 0) + 1);
    const p = pushes.get(pubsubId);
    if (p?.acknowledged) lost.push(m);
    else {
      owed.push(m);
      if (p && now - p.lastAt < stallMs) owedFailing.push(m);
    }
  }
  const messages = [...perMessage].map(([pubsubId, n]) => {
    const p = pushes.get(pubsubId);
    const pushed = p
      ? `pushed ${p.count} time(s), last answer ${p.last} ${Math.round((now - p.lastAt) / 1000)} s ago`
      : 'never pushed';
    const state = p?.acknowledged
      ? 'ACKNOWLEDGED by the function: LOST'
      : p && now - p.lastAt < stallMs
        ? 'never acknowledged, still pushed and failing: owed by Pub/Sub, the function fails it'
        : 'never acknowledged, no longer pushed: owed by Pub/Sub (the emulator stalled it)';
    return `Pub/Sub message ${pubsubId} (${n} missing event(s)): ${pushed}; ${state}`;
  });
  return { lost, owed, owedFailing, messages };
}

/** The soak's figures as a plain text table (and the first missing/unexpected ids, if any). */
export function formatSoakReport(r: SoakReport): string {
  const rows: [string, string | number][] = [
    ['published events', r.published],
    ['  in Pub/Sub messages', r.messages],
    ['delivered (accepted by Segment, once per messageId)', r.delivered],
    ['redelivered (deduplicated by Segment): events', r.redeliveredEvents],
    ['redelivered (deduplicated by Segment): extra receipts', r.redeliveredReceipts],
  ];
  for (const [reason, n] of Object.entries(r.deadLettered).sort()) rows.push([`dead-lettered: ${reason}`, n]);
  rows.push(['dead letters written again (redelivered message)', r.deadLetterRepeats]);
  for (const [reason, n] of Object.entries(r.skipped).sort()) rows.push([`skipped: ${reason}`, n]);
  rows.push(
    ['missing', r.missing.length],
    ['  of which in messages the function acknowledged (lost)', r.missingAcknowledged.length],
    ['  of which owed by Pub/Sub (never acknowledged; not lost)', r.owed.length],
    ['    of those, still pushed and failed by the function', r.owedFailing.length],
    ['unexpected', r.unexpected.length],
  );
  rows.push(['function kills / restarts', `${r.kills} / ${r.restarts}`]);
  for (const [kind, n] of Object.entries(r.faults)) rows.push([`faults injected: ${kind}`, n]);
  const statuses = Object.entries(r.requestsByStatus)
    .sort()
    .map(([s, n]) => `${s}: ${n}`)
    .join(', ');
  rows.push(['Segment requests by answer', statuses]);
  rows.push(['pushes handled / answered "redeliver"', `${r.pushesHandled} / ${r.pushesRedeliveryAsked}`]);
  rows.push(['pushes held while the function restarted (retries)', r.frontEndHeld]);
  rows.push(['pushes cut by a kill (answered 503 or reset)', r.frontEnd503]);
  rows.push(['publishing window (s)', r.publishSeconds.toFixed(1)]);
  rows.push(['duration, start to reconciled (s)', r.durationSeconds.toFixed(1)]);
  rows.push(['events/s (published / duration)', r.eventsPerSecond.toFixed(1)]);
  const owed = r.owed.length ? ` (${r.owed.length} event(s) still owed by Pub/Sub, none lost)` : '';
  rows.push(['result', r.ok ? (r.quiet ? 'PASS' : `PASS${owed || ' (deadline)'}`) : 'FAIL']);
  const lines = [
    table(
      ['soak', 'count'],
      rows.map(([k, v]) => [k, v]),
    ),
  ];
  const show = (title: string, list: readonly string[]) => {
    if (!list.length) return;
    lines.push(`\n${title} (${list.length}, first 20):`, ...list.slice(0, 20).map((x) => `  ${x}`));
  };
  show('missing: lost (their message acknowledged)', r.missingAcknowledged);
  show('missing: owed by Pub/Sub (their message never acknowledged)', r.owed);
  show('messages of the missing events', r.missingPushes);
  show('unexpected', r.unexpected);
  return lines.join('\n');
}
