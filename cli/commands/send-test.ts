/**
 * `currents send-test`: publishes one realistic test event of a chosen type to a connector's ingest topic (a fresh id,
 * external_user_id `currents-send-test`, the Pub/Sub attribute `currents_trace=<uuid>`), waits for the function to
 * write the message's outcome to `traces/<uuid>` in the connector's database (runtime/adapters/firestore-trace.ts),
 * prints it and deletes the trace. Exit 0 only when the event was delivered to Segment.
 */
import type { PushCounts } from '../../runtime/app';
import { randomInt, randomUUID } from 'node:crypto';
import type { Firestore } from '@google-cloud/firestore';
import { TRACE_COLLECTION } from '../../runtime/adapters/firestore-trace';
import { eventsEnvelope, nestEvent, sampleEvent } from '../../common/samples';
import { canonicalType, refusalOf, refusalText, suggestNames } from '../../shared/catalog';
import { selectedTypes } from '../../shared/connector';
import { parse, UsageError } from '../../common/args';
import * as specs from '../specs';
import {
  checkAccess,
  guarded,
  OpsError,
  type OpsTarget,
  resolveTargets,
  topicPath,
  whereLabel,
  withTimeout,
} from '../ops/context';
import { createClients } from '../ops/dead-letter-queue';

export const DEFAULT_TYPE = 'users.messages.email.Open';
export const TEST_USER = 'currents-send-test';
const TRACE_ATTRIBUTE = 'currents_trace';
const POLL_MS = 500;

/** The outcome the function records for a traced message. */
export type TraceOutcome = PushCounts & { at?: number };

export type Verdict = 'delivered' | 'skipped' | 'dead-lettered' | 'parked' | 'dropped' | 'unknown';

const keys = (counts: Record<string, number> | undefined) =>
  Object.entries(counts ?? {})
    .filter(([, n]) => n > 0)
    .map(([k]) => k);

/** What happened to the test event, and what to tell the operator. */
export function verdict(
  t: TraceOutcome,
  target: OpsTarget,
  eventId: string,
): { verdict: Verdict; explanation: string } {
  const name = target.connector.name;
  const env = target.environment.name;
  if (t.delivered > 0) {
    return {
      verdict: 'delivered',
      explanation: `delivered to Segment (${target.connector.segment.region.toUpperCase()}) as messageId ${eventId}`,
    };
  }
  if (t.parked > 0) {
    return {
      verdict: 'parked',
      explanation:
        'parked: the Segment credential is failing; the event is delivered when it works again ' +
        `(see \`npx currents status --env ${env} --connector ${name}\`)`,
    };
  }
  if (t.dropped > 0) {
    return {
      verdict: 'dropped',
      explanation:
        'dropped: the credential has been failing for longer than the grace period (connector expired); fix the secret, ' +
        `then \`npx currents probe --env ${env} --connector ${name}\``,
    };
  }
  const dead = keys(t.deadLettered);
  if (dead.length) {
    return {
      verdict: 'dead-lettered',
      explanation:
        `dead-lettered (${dead.join(', ')}); see \`npx currents dead-letters show ${eventId} --env ${env} ` +
        `--connector ${name}\``,
    };
  }
  const skipped = keys(t.skipped);
  if (skipped.length) {
    return { verdict: 'skipped', explanation: `skipped by the connector (${skipped.join(', ')})` };
  }
  return { verdict: 'unknown', explanation: `no event outcome in the trace: ${JSON.stringify(t)}` };
}

function parseTimeout(text: string | undefined): number {
  if (text === undefined) return 60_000;
  const s = Number(text);
  if (!Number.isFinite(s) || s <= 0) throw new UsageError(`--timeout must be a number of seconds (got '${text}')`);
  return s * 1000;
}

/** The type to send: --type (canonicalized), or the default when the connector selects it, else its first type. */
function chooseType(target: OpsTarget, asked: string | undefined): string {
  const selected = selectedTypes(target.connector);
  if (asked === undefined) return selected.includes(DEFAULT_TYPE) ? DEFAULT_TYPE : selected[0]!;
  const type = canonicalType(asked);
  const refusal = refusalOf(asked);
  if (!type && refusal?.kind === 'never') throw new UsageError(refusalText(asked, refusal));
  if (!type) {
    const s = suggestNames(asked);
    throw new UsageError(
      `'${asked}' is not an exportable Currents event type${s.length ? `; did you mean '${s[0]}'?` : ''} (see docs/events.md)`,
    );
  }
  if (!selected.includes(type)) {
    throw new OpsError(
      `connector '${target.connector.name}' does not select ${type}: the function would skip it, not send it. ` +
        `It selects ${selected.length} type(s): ${selected.slice(0, 8).join(', ')}${selected.length > 8 ? ', …' : ''}` +
        (refusal?.kind === 'opt-in' ? `. ${refusalText(type, refusal)}` : ''),
    );
  }
  return type;
}

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse(specs.sendTest, argv);
  const timeoutMs = parseTimeout(values.timeout);
  const [target] = resolveTargets(values, positionals[0], { requireConnector: true });
  const t = target!;
  const type = chooseType(t, values.type);
  await checkAccess([t]);

  const eventId = randomUUID();
  const traceId = randomUUID();
  const event = nestEvent(
    sampleEvent(
      type,
      { id: eventId, time: Math.floor(Date.now() / 1000), external_user_id: TEST_USER },
      randomInt(1, 2 ** 31 - 1),
    ),
  );
  const clients = await createClients(t.project);
  let db: Firestore | undefined;
  const name = t.connector.name;
  const log = (line: string) => {
    if (!values.json) console.log(line);
  };
  try {
    const started = Date.now();
    const [published] = await guarded(t, `ingest topic ${t.names.ingestTopic}`, () =>
      clients.publisher.publish(
        {
          topic: topicPath(t, t.names.ingestTopic),
          messages: [{ data: Buffer.from(eventsEnvelope([event])), attributes: { [TRACE_ATTRIBUTE]: traceId } }],
        },
        { timeout: 15_000 },
      ),
    );
    const messageId = published.messageIds?.[0] ?? '?';
    log(
      `${name}: published test event ${type} ${eventId} (external_user_id ${TEST_USER}) to ${t.names.ingestTopic}, ` +
        `${whereLabel(t.project)} (Pub/Sub message ${messageId}, trace ${traceId})`,
    );
    log(`${name}: waiting up to ${timeoutMs / 1000} s for the function's outcome…`);

    const { Firestore } = await import('@google-cloud/firestore');
    db = new Firestore({ projectId: t.project, databaseId: t.names.firestoreDatabase });
    const doc = db.collection(TRACE_COLLECTION).doc(traceId);
    let outcome: TraceOutcome | undefined;
    const database = `Firestore database ${t.names.firestoreDatabase}`;
    while (Date.now() - started < timeoutMs) {
      const snap = await guarded(t, database, () => withTimeout(doc.get(), 15_000, database));
      if (snap.exists) {
        outcome = snap.data() as TraceOutcome;
        break;
      }
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
    if (!outcome) {
      const explanation =
        `no outcome within ${timeoutMs / 1000} s. The function writes one only when the message is final: it may ` +
        'not be running or not reachable by its push subscription, or Segment may be unavailable and Pub/Sub ' +
        `redelivering (after ${t.connector.deadLetterMaxAttempts} attempts the message goes to the dead letters). ` +
        `Check \`npx currents status --env ${t.environment.name} --connector ${name}\` and the function's logs.`;
      if (values.json) console.log(JSON.stringify({ connector: name, type, eventId, traceId, verdict: 'timeout' }));
      console.error(`${name}: ${explanation}`);
      return 1;
    }
    await guarded(t, database, () => withTimeout(doc.delete(), 15_000, database));
    const v = verdict(outcome, t, eventId);
    const tookMs = Date.now() - started;
    if (values.json) {
      console.log(
        JSON.stringify({ connector: name, type, eventId, traceId, verdict: v.verdict, outcome, tookMs }, null, 2),
      );
    } else {
      const line = `${name}: ${v.explanation} (${(tookMs / 1000).toFixed(1)} s)`;
      if (v.verdict === 'delivered') console.log(line);
      else console.error(line);
    }
    return v.verdict === 'delivered' ? 0 : 1;
  } finally {
    await Promise.allSettled([clients.subscriber.close(), clients.publisher.close(), db?.terminate()]);
  }
}
