/**
 * `currents braze-send`: plays one Braze workspace's Custom Currents Export against its door (local or deployed): the
 * door is `--url` (and `--token`), or, for a local run, the workspace's entry of `npm start -- --keep-running --json`'s
 * ready object (`--ready FILE --workspace ID`). It posts the events
 * of the files in batches in the export's envelope, with its headers and the bearer token, reacts to every answer as
 * Braze does (local/braze), prints progress, then a table of what was sent, re-sent, split, dropped and given up.
 * Exit 0 only when every event was answered 2xx. The token is never printed.
 */
import { isReceiverTokenForm } from '../../shared/receiver-auth';
import { readFileSync } from 'node:fs';
import { DEFAULTS, readBrazeFiles, sendLikeBraze, type BrazeSendReport } from '../braze';
import { parse, UsageError } from '../../common/args';
import * as specs from '../../cli/specs';
import { table } from '../../common/table';

const TOKEN_ENV = 'CURRENTS_RECEIVER_TOKEN';

const LIST_LIMIT = 20;

function number(option: string, text: string | undefined, fallback: number, rule: 'whole>0' | '>=0' | '>0'): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  const ok =
    text.trim() !== '' &&
    Number.isFinite(n) &&
    (rule === 'whole>0' ? Number.isInteger(n) && n > 0 : rule === '>0' ? n > 0 : n >= 0);
  if (!ok) {
    const want = rule === 'whole>0' ? 'a whole number ≥ 1' : rule === '>0' ? 'a number > 0' : 'a number ≥ 0';
    throw new UsageError(`${option} must be ${want} (got '${text}')`);
  }
  return n;
}

/**
 * The door of `--workspace` in a local run's ready object (the first line of `npm start -- --keep-running --json`, in
 * a file): its URL and token. With one workspace, `--workspace` may be left out.
 */
export function doorFromReady(file: string, workspace?: string): { url: string; token: string } {
  let ready: { workspaces?: { workspace: string; receiverUrl?: string; receiverToken?: string }[] };
  try {
    ready = JSON.parse(readFileSync(file, 'utf8').split('\n')[0]!) as typeof ready;
  } catch (err) {
    throw new UsageError(`--ready ${file}: not a ready object (${(err as Error).message.split('\n')[0]})`);
  }
  const doors = ready.workspaces ?? [];
  const names = doors.map((d) => d.workspace).join(', ') || 'none';
  if (workspace === undefined && doors.length !== 1) {
    throw new UsageError(`--workspace is required: ${file} has ${doors.length} workspace doors (${names})`);
  }
  const door = workspace === undefined ? doors[0] : doors.find((d) => d.workspace === workspace);
  if (!door?.receiverUrl || !door.receiverToken) {
    throw new UsageError(`--ready ${file}: no door of workspace '${workspace}' (workspaces: ${names})`);
  }
  return { url: door.receiverUrl, token: door.receiverToken };
}

function checkUrl(text: string | undefined): string {
  if (text === undefined) throw new UsageError('--url is required (the door to post to), or --ready FILE');
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`--url is not a URL (got '${text}')`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UsageError(`--url must be http:// or https:// (got '${url.protocol}')`);
  }
  return text;
}

/** The final tables, and the undelivered events (the first LIST_LIMIT). */
export function formatReport(r: BrazeSendReport): string {
  const events: (string | number)[][] = [
    ['events given', r.events],
    ['accepted (2xx)', r.accepted],
    ['batches split on 400', r.splitsOn400],
    ['dropped on 400', r.droppedOn400],
    ['batches split on 413', r.splitsOn413],
    ['dropped on 413', r.droppedOn413],
    [`not delivered: stopped by ${r.stoppedBy?.status ?? '401/403/404'}`, r.stoppedBy?.events ?? 0],
    ['given up at the deadline', r.gaveUp],
    ...(r.aborted ? [['aborted (interrupted)', r.aborted]] : []),
  ];
  const requests: (string | number)[][] = [
    ['requests', r.requests],
    ['re-sent requests', r.resentRequests],
    ...Object.entries(r.byStatus)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([status, n]) => [`answered ${status}`, n]),
  ];
  const lines = [table(['events', 'count'], events), '', table(['requests', 'count'], requests)];
  if (r.notDelivered.length) {
    lines.push('', `${r.notDelivered.length} event(s) not delivered:`);
    for (const n of r.notDelivered.slice(0, LIST_LIMIT)) lines.push(`  ${n.id}: ${n.why}`);
    if (r.notDelivered.length > LIST_LIMIT) lines.push(`  … and ${r.notDelivered.length - LIST_LIMIT} more`);
  }
  return lines.join('\n');
}

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse(specs.brazeSend, argv);
  if (positionals.length === 0) throw new UsageError('name at least one file of events');
  if (values.workspace !== undefined && values.ready === undefined)
    throw new UsageError('--workspace goes with --ready');
  const local = values.ready === undefined ? undefined : doorFromReady(values.ready, values.workspace);
  const url = checkUrl(values.url ?? local?.url);
  const token = values.token ?? (process.env[TOKEN_ENV] || undefined) ?? local?.token;
  if (token !== undefined && !isReceiverTokenForm(token)) {
    throw new UsageError(
      'the token has characters a bearer token cannot hold (letters, digits, -._~+/ and trailing =)',
    );
  }
  const batchSize = number('--batch-size', values.batchSize, DEFAULTS.batchSize, 'whole>0');
  const concurrency = number('--concurrency', values.concurrency, DEFAULTS.concurrency, 'whole>0');
  const rate = number('--rate', values.rate, DEFAULTS.rate, '>=0');
  const giveUpAfterMs = number('--give-up-after', values.giveUpAfter, DEFAULTS.giveUpAfterMs / 1000, '>=0') * 1000;
  const requestTimeoutMs = number('--timeout', values.timeout, DEFAULTS.requestTimeoutMs / 1000, '>0') * 1000;

  let events: unknown[];
  try {
    events = await readBrazeFiles(positionals);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const where = new URL(url);
  const target = `${where.origin}${where.pathname}`;
  const say = (line: string) => process.stderr.write(`braze-send: ${line}\n`);
  say(
    `${events.length} event(s) from ${positionals.length} file(s) to ${target}, batches of ≤ ${batchSize}, ` +
      `${concurrency} in flight${rate ? `, ${rate} events/s` : ''}${values.gzip ? ', gzip' : ''}` +
      `${token ? ', bearer token' : ', no token'}; giving up after ${giveUpAfterMs / 1000} s`,
  );

  let accepted = 0;
  let requests = 0;
  const answers: Record<string, number> = {};
  const started = Date.now();
  let lastLine = started;
  const progress = () =>
    `${accepted}/${events.length} accepted, ${requests} request(s) (` +
    `${Object.entries(answers)
      .map(([s, n]) => `${s}: ${n}`)
      .join(', ')}), ${((Date.now() - started) / 1000).toFixed(1)} s`;
  // Ctrl-C stops sending and still prints what happened; a second one ends the process at once.
  const abort = new AbortController();
  const interrupt = () => {
    say('interrupted: sending stops, requests in flight finish (Ctrl-C again to quit at once)');
    abort.abort();
  };
  process.once('SIGINT', interrupt);
  const report = await sendLikeBraze(events, {
    signal: abort.signal,
    url,
    token,
    batchSize,
    concurrency,
    rate,
    gzip: values.gzip ?? false,
    giveUpAfterMs,
    requestTimeoutMs,
    onRequest: (r) => {
      requests++;
      answers[String(r.status)] = (answers[String(r.status)] ?? 0) + 1;
      if (typeof r.status === 'number' && r.status >= 200 && r.status < 300) accepted += r.events.length;
      if (r.status === 401 || r.status === 403 || r.status === 404) {
        say(`the receiver answered ${r.status}: sending stops, as Braze disables the Current until re-enabled`);
      }
      if (Date.now() - lastLine >= 1000) {
        lastLine = Date.now();
        say(progress());
      }
    },
  });
  process.removeListener('SIGINT', interrupt);
  say(`done: ${progress()}`);
  if (values.json) console.log(JSON.stringify(report));
  else console.log(formatReport(report));
  return report.accepted === report.events ? 0 : 1;
}
