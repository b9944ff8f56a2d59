/**
 * Every outcome of an event published while `npm start -- --keep-running` waits, one line each: for people, or with
 * `--json` one JSON object per line whose `kind` names the outcome. Delivered events keep their own line (printed by
 * `tail` as the Segment servers accept them: `{"region","messageId","call"}`, no `kind`); the others come from what
 * the deployed product reports too:
 *
 * | kind            | from                                                        | says                                  |
 * |-----------------|-------------------------------------------------------------|---------------------------------------|
 * | `skipped`       | the function's `batch_done` log line, `skipped` by reason   | how many, the reason, what it means    |
 * | `dead_lettered` | the connector's dead-letter topic (a subscription of ours)  | the event id and type, reason, detail  |
 * | `parked`        | `events_parked` (and the last `credential_failure` detail)  | how many, why the credential fails     |
 * | `dropped`       | `events_dropped`                                            | how many of each type, why             |
 * | `retrying`      | `delivery_retry`; a push not handled (`internal_error` with a `reason`: Firestore, the dead-letter topic… unavailable) | how many, the `reason` (and `detail`) |
 * | `refused`       | the receiver's `receiver_request` line, any answer but 200  | the status and the receiver's reason   |
 * | `duplicate`     | the Segment server: a messageId it already had, again       | the messageId, how many times it came  |
 *
 * The pure part (this file's functions but `watchOutcomes`) turns a log line, a dead letter or the servers' receipts
 * into outcomes, and an outcome into its line.
 */
import { randomBytes } from 'node:crypto';
import { acknowledge, createClients, leaseAll, type DeadLetterView } from '../cli/ops/dead-letter-queue';
import type { SegmentRegion } from '../shared/connector';
import type { LocalStack } from './stack';
import { setTimeout as sleep } from 'node:timers/promises';

/** Skip reasons in the order they are always shown, each with what it means for the event. */
export const SKIP_REASONS: Readonly<Record<string, string>> = {
  not_selected: "its type is not one of the connector's events",
  not_exportable:
    'its type is not exported: behaviour the app or Segment produced that the connector does not name in events ' +
    '(it would come back as a duplicate), a type never exported (agent runs, profile bookkeeping), or a type the ' +
    'catalogue does not know (misspelled, or new from Braze: exportUnknownTypes exports those); `currents translate` names the reason per type',
  no_external_user_id: 'it has no user.external_user_id, and the connector does not include anonymous users',
};

/** The entries of a count map by reason, in SKIP_REASONS' order, then any other reason alphabetically. */
export function inReasonOrder(counts: Readonly<Record<string, number>>): [string, number][] {
  const known = Object.keys(SKIP_REASONS);
  const rank = (r: string) => (known.includes(r) ? known.indexOf(r) : known.length);
  return Object.entries(counts).sort(([a], [b]) => rank(a) - rank(b) || a.localeCompare(b));
}

export type Outcome =
  | {
      kind: 'skipped';
      connector: string;
      reason: string;
      events: number;
      pubsubMessageId?: string;
    }
  | {
      kind: 'dead_lettered';
      connector: string;
      reason: string;
      detail: string;
      eventId?: string;
      eventType?: string;
    }
  | { kind: 'parked'; connector: string; events: number; detail?: string }
  | { kind: 'dropped'; connector: string; events: number; byType: Record<string, number>; detail: string }
  | { kind: 'retrying'; connector: string; events: number; reason?: string; detail?: string }
  | { kind: 'refused'; connector: string; status: number; outcome: string }
  | { kind: 'duplicate'; region: SegmentRegion; messageId: string; receipts: number };

/**
 * The outcomes one structured log line of a connector's function or receiver reports. `lastFailure` is the detail of
 * the connector's latest credential failure (why events are parked).
 */
export function outcomesOfLogLine(
  connector: string,
  entry: Readonly<Record<string, unknown>>,
  lastFailure?: string,
): Outcome[] {
  const num = (v: unknown) => (typeof v === 'number' ? v : 0);
  const messageId = typeof entry.pubsubMessageId === 'string' ? entry.pubsubMessageId : undefined;
  switch (entry.event) {
    case 'batch_done':
      return inReasonOrder((entry.skipped as Record<string, number> | undefined) ?? {})
        .filter(([, n]) => n > 0)
        .map(([reason, events]) => ({
          kind: 'skipped',
          connector,
          reason,
          events,
          ...(messageId ? { pubsubMessageId: messageId } : {}),
        }));
    case 'events_parked':
      return [
        { kind: 'parked', connector, events: num(entry.parked), ...(lastFailure ? { detail: lastFailure } : {}) },
      ];
    case 'events_dropped':
      return [
        {
          kind: 'dropped',
          connector,
          events: num(entry.dropped),
          byType: (entry.counts as Record<string, number> | undefined) ?? {},
          // The function's message without its count ("2 event(s) dropped: " / "2 parked event(s) dropped: ").
          detail: String(entry.message ?? '').replace(/^\d+ (parked )?event\(s\) dropped: /, ''),
        },
      ];
    case 'delivery_retry':
      return [{ kind: 'retrying', connector, events: num(entry.retryLater), reason: 'segment_unavailable' }];
    case 'internal_error':
      // A push the function could not handle (answered 503): Pub/Sub redelivers it.
      return typeof entry.reason === 'string'
        ? [
            {
              kind: 'retrying',
              connector,
              events: num(entry.events),
              reason: entry.reason,
              detail: String(entry.detail),
            },
          ]
        : [];
    case 'receiver_request':
      return typeof entry.status === 'number' && entry.status !== 200
        ? [{ kind: 'refused', connector, status: entry.status, outcome: String(entry.outcome ?? '') }]
        : [];
    default:
      return [];
  }
}

/** The outcome of one dead letter read from the connector's dead-letter topic. */
export function outcomeOfDeadLetter(connector: string, letter: DeadLetterView): Outcome {
  return {
    kind: 'dead_lettered',
    connector,
    reason: letter.reason,
    detail: letter.detail,
    ...(letter.eventId !== undefined ? { eventId: letter.eventId } : {}),
    ...(letter.eventType !== undefined ? { eventType: letter.eventType } : {}),
  };
}

/**
 * Duplicates among accepted events: each event whose receipts grew since `seen` (messageId → receipts, updated here).
 * An event seen for the first time is not a duplicate unless it already came more than once.
 */
export function newDuplicates(
  region: SegmentRegion,
  accepted: readonly { messageId: string; receipts: number }[],
  seen: Map<string, number>,
): Outcome[] {
  const out: Outcome[] = [];
  for (const e of accepted) {
    const before = seen.get(e.messageId) ?? 1;
    if (e.receipts > before) out.push({ kind: 'duplicate', region, messageId: e.messageId, receipts: e.receipts });
    seen.set(e.messageId, e.receipts);
  }
  return out;
}

const events = (n: number) => `${n} event${n === 1 ? '' : 's'}`;

/** The line people read for an outcome. */
export function describeOutcome(o: Outcome): string {
  switch (o.kind) {
    case 'skipped':
      return `[${o.connector}] skipped ${events(o.events)} (${o.reason}): ${SKIP_REASONS[o.reason] ?? 'skipped on purpose'}`;
    case 'dead_lettered':
      return (
        `[${o.connector}] dead-lettered event ${o.eventId ?? '(no id)'}${o.eventType ? ` (${o.eventType})` : ''}, ` +
        `${o.reason}: ${o.detail}`
      );
    case 'parked':
      return (
        `[${o.connector}] parked ${events(o.events)}: the Segment credential is failing` +
        `${o.detail ? ` (${o.detail})` : ''}; the probe delivers them once it works again`
      );
    case 'dropped':
      return `[${o.connector}] dropped ${events(o.events)} (${inReasonOrder(o.byType)
        .map(([t, n]) => `${t} ${n}`)
        .join(', ')}): ${o.detail}`;
    case 'retrying':
      return o.reason === undefined || o.reason === 'segment_unavailable'
        ? `[${o.connector}] Segment did not accept ${events(o.events)} yet; Pub/Sub redelivers the message`
        : `[${o.connector}] a message of ${events(o.events)} was not handled (${o.reason}: ${o.detail ?? ''}); ` +
            'Pub/Sub redelivers it';
    case 'refused':
      return `[${o.connector}] the receiver answered ${o.status} (${o.outcome}): nothing was published`;
    case 'duplicate':
      return `[${o.region}] duplicate of messageId ${o.messageId} (received ${o.receipts} times; Segment keeps the first)`;
  }
}

/** The JSON line of an outcome (`--json`): `kind` first. */
export function outcomeJson(o: Outcome): string {
  return JSON.stringify(o);
}

/** Passes every log line of the stack's processes on to whoever listens now (the watch starts after the run). */
/** A function's structured log line as an object; undefined for any other output line. */
export function logEntry(line: string): Record<string, unknown> | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    return JSON.parse(line) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

export class LogTap {
  private readonly listeners = new Set<(connector: string, line: string) => void>();

  emit(connector: string, line: string): void {
    for (const l of this.listeners) l(connector, line);
  }

  /** Returns a function that stops listening. */
  listen(listener: (connector: string, line: string) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

/**
 * Emits, from now on, every outcome but delivery reported by the stack's functions and receivers (through `logs`) and
 * every dead letter of its connectors (read from a subscription of our own on each dead-letter topic, so that the
 * hold subscription `currents dead-letters` reads keeps them). Duplicates are the caller's (it reads the servers).
 */
export async function watchOutcomes(
  stack: LocalStack,
  logs: LogTap,
  emit: (o: Outcome) => void,
): Promise<{ stop(): Promise<void> }> {
  const lastFailure = new Map<string, string>();
  const unlisten = logs.listen((connector, line) => {
    const entry = logEntry(line);
    if (!entry) return;
    if (entry.event === 'credential_failure' && typeof entry.detail === 'string') {
      lastFailure.set(connector, entry.detail);
    }
    for (const o of outcomesOfLogLine(connector, entry, lastFailure.get(connector))) emit(o);
  });
  const { subscriber, publisher } = await createClients(stack.projectId);
  const suffix = randomBytes(3).toString('hex');
  const watches = await Promise.all(
    stack.connectors.map(async (l) => {
      const name = `projects/${stack.projectId}/subscriptions/${l.names.deadLetterTopic}-watch-${suffix}`;
      await subscriber.createSubscription({
        name,
        topic: `projects/${stack.projectId}/topics/${l.names.deadLetterTopic}`,
        ackDeadlineSeconds: 30,
      });
      return { connector: l.connector.name, name };
    }),
  );
  let running = true;
  const poller = (async () => {
    while (running) {
      for (const w of watches) {
        const letters = await leaseAll(subscriber, w.name, { max: 1000 }).catch(() => []);
        for (const d of letters) emit(outcomeOfDeadLetter(w.connector, d));
        await acknowledge(subscriber, w.name, letters).catch(() => undefined);
      }
      await sleep(500);
    }
  })();
  return {
    stop: async () => {
      running = false;
      unlisten();
      await poller;
      await Promise.allSettled(watches.map((w) => subscriber.deleteSubscription({ subscription: w.name })));
      await Promise.allSettled([subscriber.close(), publisher.close()]);
    },
  };
}
