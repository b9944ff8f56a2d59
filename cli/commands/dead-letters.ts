/**
 * `currents dead-letters list|show|replay`: the dead letters waiting in a connector's hold subscription.
 *
 * - `list` leases every dead letter for a few seconds, prints them and releases them at once (Pub/Sub has no peek).
 * - `show ID` prints one (by event id or dead-letter message id): its attributes and its data pretty-printed.
 * - `replay` republishes them to the connector's ingest topic (all, or those matching --reason / --type / --id),
 *   acknowledging each only after its republish succeeded. The events keep their ids, so Segment deduplicates them:
 *   replaying twice never delivers twice. `--dry-run` shows what would be replayed and changes nothing.
 */
import { parse, UsageError } from '../../common/args';
import * as specs from '../specs';
import { table } from '../../common/table';
import {
  checkAccess,
  guarded,
  type OpsTarget,
  resolveTargets,
  subscriptionPath,
  topicPath,
  whereLabel,
} from '../ops/context';
import {
  countByReason,
  createClients,
  type DeadLetterFilter,
  type DeadLetterView,
  leaseAll,
  matches,
  peekAll,
  release,
  replay,
} from '../ops/dead-letter-queue';
import { progress } from '../ops/progress';

const REPLAY_LEASE_SECONDS = 300;

type Clients = Awaited<ReturnType<typeof createClients>>;

function filterOf(values: { reason?: string; type?: string; id?: string }): DeadLetterFilter {
  return { reason: values.reason, type: values.type, id: values.id };
}

const holdOf = (t: OpsTarget) => subscriptionPath(t, t.names.deadLetterSubscription);
const holdLabel = (t: OpsTarget) => `dead-letter subscription ${t.names.deadLetterSubscription}`;

function oneLine(text: string, max = 80): string {
  const flat = text.replace(/\s+/g, ' ');
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

function rows(entries: { target: OpsTarget; letter: DeadLetterView }[], withConnector: boolean) {
  return entries.map(({ target, letter: l }) => [
    ...(withConnector ? [target.connector.name] : []),
    l.messageId,
    l.publishTime ?? '',
    l.reason,
    l.eventType ?? '',
    l.eventId ?? '',
    oneLine(l.detail),
  ]);
}

const HEADERS = ['dead letter', 'published', 'reason', 'event type', 'event id', 'detail'];

function jsonOf(target: OpsTarget, l: DeadLetterView) {
  return {
    connector: target.connector.name,
    messageId: l.messageId,
    publishTime: l.publishTime,
    reason: l.reason,
    detail: l.detail,
    eventType: l.eventType,
    eventId: l.eventId,
    attributes: l.attributes,
    data: l.data.toString('utf8'),
  };
}

function summary(letters: readonly DeadLetterView[]): string {
  return Object.entries(countByReason(letters))
    .sort()
    .map(([k, n]) => `${k} ${n}`)
    .join(', ');
}

async function list(targets: OpsTarget[], clients: Clients, f: DeadLetterFilter, json: boolean): Promise<number> {
  const found = await Promise.all(
    targets.map((target) =>
      guarded(target, holdLabel(target), () => peekAll(clients.subscriber, holdOf(target))).then((letters) => ({
        target,
        letters,
      })),
    ),
  );
  const entries = found.flatMap(({ target, letters }) =>
    letters.filter((l) => matches(l, f)).map((letter) => ({ target, letter })),
  );
  if (json) {
    console.log(
      JSON.stringify(
        entries.map((e) => jsonOf(e.target, e.letter)),
        null,
        2,
      ),
    );
    return 0;
  }
  if (entries.length) {
    const withConnector = targets.length > 1;
    console.log(table(withConnector ? ['connector', ...HEADERS] : HEADERS, rows(entries, withConnector)));
    console.log('');
  }
  for (const { target, letters } of found) {
    const shown = letters.filter((l) => matches(l, f));
    console.log(
      `${target.connector.name}: ${shown.length} dead letter(s)${shown.length !== letters.length ? ` matching (of ${letters.length})` : ''}` +
        `${shown.length ? ` (${summary(shown)})` : ''} in ${target.names.deadLetterSubscription}, ${whereLabel(target.project)}`,
    );
  }
  return 0;
}

function pretty(data: Buffer): { kind: string; text: string } {
  const text = data.toString('utf8');
  if (!text) return { kind: 'empty', text: '' };
  try {
    return { kind: 'JSON', text: JSON.stringify(JSON.parse(text), null, 2) };
  } catch {
    // JSON Lines (a whole message) or text that is not JSON: each JSON line pretty-printed, the rest as is.
    const lines = text.split('\n');
    if (lines.length > 1) {
      try {
        return {
          kind: 'JSON Lines',
          text: lines
            .filter((l) => l.trim())
            .map((l) => JSON.stringify(JSON.parse(l), null, 2))
            .join('\n'),
        };
      } catch {
        /* not JSON Lines either */
      }
    }
    return { kind: 'not JSON', text };
  }
}

async function show(targets: OpsTarget[], clients: Clients, id: string, json: boolean): Promise<number> {
  const found = (
    await Promise.all(
      targets.map((target) =>
        guarded(target, holdLabel(target), () => peekAll(clients.subscriber, holdOf(target))).then((letters) =>
          letters.filter((l) => matches(l, { id })).map((letter) => ({ target, letter })),
        ),
      ),
    )
  ).flat();
  if (!found.length) {
    console.error(
      `no dead letter with event id or message id '${id}' waiting for connector ${targets.map((t) => `'${t.connector.name}'`).join(', ')}`,
    );
    return 1;
  }
  if (json) {
    console.log(
      JSON.stringify(
        found.map((e) => jsonOf(e.target, e.letter)),
        null,
        2,
      ),
    );
    return 0;
  }
  const blocks = found.map(({ target, letter: l }) => {
    const attrs = Object.entries(l.attributes).sort(([a], [b]) => a.localeCompare(b));
    const width = Math.max(0, ...attrs.map(([k]) => k.length));
    const data = pretty(l.data);
    return [
      `dead letter ${l.messageId} of connector ${target.connector.name} (${target.names.deadLetterSubscription})`,
      `  published  ${l.publishTime ?? '?'}`,
      `  reason     ${l.reason}`,
      `  detail     ${l.detail || '-'}`,
      `  event      ${l.eventType || l.eventId ? `${l.eventType ?? '?'} ${l.eventId ?? ''}`.trimEnd() : 'a whole Pub/Sub message (see data)'}`,
      'attributes:',
      ...attrs.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`),
      `data (${data.kind}, ${l.data.length} bytes):`,
      data.text,
    ].join('\n');
  });
  console.log(blocks.join('\n\n'));
  return 0;
}

async function replayOne(
  target: OpsTarget,
  clients: Clients,
  f: DeadLetterFilter,
  dryRun: boolean,
): Promise<{ replayed: number; failed: number; matched: number }> {
  const hold = holdOf(target);
  const topic = topicPath(target, target.names.ingestTopic);
  const leased = await guarded(target, holdLabel(target), () =>
    leaseAll(clients.subscriber, hold, { leaseSeconds: dryRun ? 10 : REPLAY_LEASE_SECONDS }),
  );
  const chosen = leased.filter((l) => matches(l, f));
  const others = leased.filter((l) => !matches(l, f));
  await guarded(target, holdLabel(target), () => release(clients.subscriber, hold, dryRun ? leased : others));
  const name = target.connector.name;
  if (!chosen.length) {
    console.log(
      `${name}: nothing to replay (${leased.length ? `none of the ${leased.length} dead letter(s) match` : 'no dead letters waiting'})`,
    );
    return { replayed: 0, failed: 0, matched: 0 };
  }
  if (dryRun) {
    console.log(
      table(
        HEADERS,
        rows(
          chosen.map((letter) => ({ target, letter })),
          false,
        ),
      ),
    );
    console.log(
      `${name}: dry run: ${chosen.length} dead letter(s) (${summary(chosen)}) would be replayed to ${target.names.ingestTopic}; nothing changed`,
    );
    return { replayed: 0, failed: 0, matched: chosen.length };
  }
  const again = chosen.filter((l) => l.reason === 'invalid' || l.reason === 'too_large').length;
  if (again) {
    console.log(
      `${name}: note: ${again} of them were dead-lettered as invalid or too large; unless the translation changed, they come back`,
    );
  }
  const bar = progress(`${name}: replaying`);
  bar.update(0, chosen.length);
  let result: Awaited<ReturnType<typeof replay>>;
  try {
    result = await guarded(target, `ingest topic ${target.names.ingestTopic}`, () =>
      replay(clients, hold, topic, chosen, (p) => bar.update(p.done, p.total)),
    );
  } finally {
    bar.end();
  }
  for (const { letter, error } of result.failed.slice(0, 10)) {
    console.error(`${name}: could not replay dead letter ${letter.messageId} (${letter.eventId ?? '?'}): ${error}`);
  }
  console.log(
    `${name}: replayed ${result.replayed.length} of ${chosen.length} dead letter(s) to ${target.names.ingestTopic}` +
      (result.failed.length ? `; ${result.failed.length} failed and are kept for a later replay` : ''),
  );
  return { replayed: result.replayed.length, failed: result.failed.length, matched: chosen.length };
}

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse(specs.deadLetters, argv);
  const [sub, ...rest] = positionals;
  if (sub !== 'list' && sub !== 'show' && sub !== 'replay') {
    throw new UsageError(sub ? `unknown subcommand '${sub}' (list, show or replay)` : 'list, show or replay?');
  }
  const id = sub === 'show' ? (rest.shift() ?? values.id) : undefined;
  if (sub === 'show' && !id) throw new UsageError('show needs the id of a dead letter (its event id or message id)');
  if (values.dryRun && sub !== 'replay') throw new UsageError('--dry-run goes with replay');
  const targets = resolveTargets(values, rest[0]);
  await checkAccess(targets);
  const clients = await createClients(targets[0]?.project);
  try {
    if (sub === 'list') return await list(targets, clients, filterOf(values), Boolean(values.json));
    if (sub === 'show') return await show(targets, clients, id!, Boolean(values.json));
    let replayed = 0;
    let failed = 0;
    let matched = 0;
    const errors: string[] = [];
    for (const target of targets) {
      try {
        const r = await replayOne(target, clients, filterOf(values), Boolean(values.dryRun));
        replayed += r.replayed;
        failed += r.failed;
        matched += r.matched;
      } catch (err) {
        errors.push((err as Error).message);
        console.error((err as Error).message);
      }
    }
    if (targets.length > 1) {
      console.log(
        values.dryRun
          ? `dry run: ${matched} dead letter(s) would be replayed; nothing changed`
          : `replayed ${replayed} dead letter(s) in total${failed ? `, ${failed} failed` : ''}`,
      );
    }
    return failed || errors.length ? 1 : 0;
  } finally {
    await Promise.allSettled([clients.subscriber.close(), clients.publisher.close()]);
  }
}
