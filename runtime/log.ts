/**
 * Structured logs in Cloud Logging's JSON format: one JSON object per line on stdout, which Cloud Functions (2nd gen) turns
 * into a LogEntry whose `severity` and `message` are taken from the fields of the same name and whose other fields land in
 * `jsonPayload`.
 *
 * Every line carries `severity`, `message`, `connector` and `event`. The infrastructure's log-based metrics filter on
 * `jsonPayload.event` and `jsonPayload.connector`, so the event names below are an interface: add names, never rename.
 * LOG_EVENT_SPECS below is the table of record (severities and fields of each event, checked by test/unit/runtime/log.test.ts
 * against this table and against the lines the function really writes):
 *
 * | event                   | severity                  | fields                                                         |
 * |-------------------------|---------------------------|----------------------------------------------------------------|
 * | `batch_done`            | INFO                      | `counts`, `skipped`, `deliveryAttempt`, `pubsubMessageId`, `segmentMs`, `segmentStatus`, `unknownTypes` |
 * | `credential_failure`    | ERROR                     | `detail`, `state`                                              |
 * | `state_change`          | ALERT, NOTICE             | `transition`, `from`, `to`, `at`, `failingSince`               |
 * | `events_parked`         | WARNING                   | `parked`, `alreadyParked`, `pubsubMessageId`                   |
 * | `events_dropped`        | ALERT                     | `counts`, `dropped`, `pubsubMessageId`                         |
 * | `dead_lettered`         | WARNING                   | `counts`, `ids`, `pubsubMessageId`                             |
 * | `probe`                 | INFO                      | `state`, `credential`, `drainedEvents`, `droppedEvents`, `parkedEvents` |
 * | `delivery_retry`        | WARNING                   | `retryLater`, `pubsubMessageId`                                |
 * | `config_error`          | CRITICAL                  |                                                                |
 * | `internal_error`        | ERROR, WARNING            | `pubsubMessageId`, `object`, `error`, `reason`, `events`, `detail` |
 * | `receiver_request`      | INFO, WARNING, ERROR      | `workspace`, `status`, `outcome`, `events`, `routed`, `notSelected`, `bytes`, `publishMs` |
 * | `credential_unverified` | WARNING                   | `detail`, `when`                                               |
 * | `storage_import`        | INFO                      | `status`, `object`, `eventType`, `records`, `published`, `resumedAfter`, `reason` |
 * | `storage_import_failed` | ERROR                     | `status`, `object`, `eventType`, `records`, `published`, `resumedAfter`, `reason`, `detail`, `offset`, `recordsBefore` |
 * | `state_unavailable`     | WARNING, ERROR            | `ageMs`, `limitMs`, `detail`                                   |
 * | `unknown_event_type`    | WARNING                   | `eventType`, `events`, `exported`, `pubsubMessageId`           |
 *
 * What may be logged: counts, event types, ids (Currents event ids, Pub/Sub message ids, Firestore document ids), status
 * codes, durations. Never personal data (no emails, phone numbers, names, event payloads or properties) and never secrets.
 * Two safeguards back that up on every line: values registered with `registerSecret` (the credential read from the secret
 * source, in the forms it could leak: as is, JSON-escaped, base64, HTTP Basic) are replaced by `[REDACTED]`, and anything
 * shaped like an email address is replaced by `[EMAIL]`.
 */

import type { Transition } from './core/expiry';
import { REDACTED } from './core/types';

/** The machine names of log entries (see LOG_EVENT_SPECS). Log-based metrics and alerts depend on them. */
export const LOG_EVENTS = [
  'batch_done',
  'credential_failure',
  'state_change',
  'events_parked',
  'events_dropped',
  'dead_lettered',
  'probe',
  'delivery_retry',
  'config_error',
  'internal_error',
  'receiver_request',
  'credential_unverified',
  'storage_import',
  'storage_import_failed',
  'state_unavailable',
  'unknown_event_type',
] as const;
export type LogEventName = (typeof LOG_EVENTS)[number];

export type Severity = 'DEBUG' | 'INFO' | 'NOTICE' | 'WARNING' | 'ERROR' | 'CRITICAL' | 'ALERT' | 'EMERGENCY';

/** What each event is logged for, at which severities, and with which fields (besides the four every line has). */
export interface LogEventSpec {
  readonly when: string;
  readonly severities: readonly Severity[];
  readonly fields: readonly string[];
}

/** The log events of record: the table above, as data. */
export const LOG_EVENT_SPECS: Readonly<Record<LogEventName, LogEventSpec>> = {
  batch_done: {
    when:
      'one incoming Pub/Sub message handled; `counts` by outcome, `skipped` by reason; when Segment was called, the ' +
      'time spent there (`segmentMs`) and its worst answer (`segmentStatus`: HTTP status or network); events of types ' +
      'the catalogue does not know, by type (`unknownTypes`, when there were any)',
    severities: ['INFO'],
    fields: ['counts', 'skipped', 'deliveryAttempt', 'pubsubMessageId', 'segmentMs', 'segmentStatus', 'unknownTypes'],
  },
  credential_failure: {
    when: 'a credential failure was seen (401/403, token refused, secret gone, source check failed)',
    severities: ['ERROR'],
    fields: ['detail', 'state'],
  },
  state_change: {
    when: 'the credential state changed: ALERT for failing_started and expired, NOTICE for recovered',
    severities: ['ALERT', 'NOTICE'],
    fields: ['transition', 'from', 'to', 'at', 'failingSince'],
  },
  events_parked: {
    when: 'events parked while the credential fails',
    severities: ['WARNING'],
    fields: ['parked', 'alreadyParked', 'pubsubMessageId'],
  },
  events_dropped: {
    when: 'events dropped by the expiry rule (on arrival, or parked ones by the probe); `counts` by event type',
    severities: ['ALERT'],
    fields: ['counts', 'dropped', 'pubsubMessageId'],
  },
  dead_lettered: {
    when: 'events written to the dead-letter topic; `counts` by reason, the first event `ids`',
    severities: ['WARNING'],
    fields: ['counts', 'ids', 'pubsubMessageId'],
  },
  probe: {
    when: 'the scheduled probe ran; its outcome',
    severities: ['INFO'],
    fields: ['state', 'credential', 'drainedEvents', 'droppedEvents', 'parkedEvents'],
  },
  delivery_retry: {
    when: 'events Segment did not accept within the delivery budget: Pub/Sub redelivers the message',
    severities: ['WARNING'],
    fields: ['retryLater', 'pubsubMessageId'],
  },
  config_error: {
    when: "the function's configuration is invalid (written at start, before any logger exists)",
    severities: ['CRITICAL'],
    fields: [],
  },
  internal_error: {
    when:
      'a push could not be handled (nacked for redelivery; `reason` says why: state_unavailable, ' +
      'dead_letters_unavailable, parking_unavailable, trace_unavailable, internal_error), another unexpected error, ' +
      'or WARNING for a malformed push request, or for a door that routes with the slower JavaScript scan because ' +
      'its WebAssembly scan could not be had (`reason` scan_in_javascript)',
    severities: ['ERROR', 'WARNING'],
    fields: ['pubsubMessageId', 'object', 'error', 'reason', 'events', 'detail'],
  },
  receiver_request: {
    when: "a workspace's door answered one request from Braze (never the token or event content); `routed`: events published by connector, `notSelected`: events of types no connector of the workspace selects, by type",
    severities: ['INFO', 'WARNING', 'ERROR'],
    fields: ['workspace', 'status', 'outcome', 'events', 'routed', 'notSelected', 'bytes', 'publishMs'],
  },
  credential_unverified: {
    when: 'the write-key source check got no answer from the Public API (down, 429, its token refused); no state change',
    severities: ['WARNING'],
    fields: ['detail', 'when'],
  },
  storage_import: {
    when: 'the storage importer handled one storage-export object (or ignored a notification)',
    severities: ['INFO'],
    fields: ['status', 'object', 'eventType', 'records', 'published', 'resumedAfter', 'reason'],
  },
  storage_import_failed: {
    when: 'a damaged storage-export object was marked failed; the records before the damage were published',
    severities: ['ERROR'],
    fields: [
      'status',
      'object',
      'eventType',
      'records',
      'published',
      'resumedAfter',
      'reason',
      'detail',
      'offset',
      'recordsBefore',
    ],
  },
  state_unavailable: {
    when:
      'the credential state could not be read (Firestore unreachable or slow): the last known active state, read ' +
      '`ageMs` ago, is used for up to `limitMs` (WARNING); after that, or if it was not active, pushes are answered ' +
      '503 (ERROR; alerted)',
    severities: ['WARNING', 'ERROR'],
    fields: ['ageMs', 'limitMs', 'detail'],
  },
  unknown_event_type: {
    when:
      'a message held events of a type the catalogue does not know (one line per type): `events` of it, and whether ' +
      'they were `exported` (exportUnknownTypes) or skipped; the log metric of it counts them by type',
    severities: ['WARNING'],
    fields: ['eventType', 'events', 'exported', 'pubsubMessageId'],
  },
};

/** What is wrong with a parsed log line against LOG_EVENT_SPECS (an unknown event, a severity or a field it lacks). */
export function logLineProblems(entry: Record<string, unknown>): string[] {
  const event = String(entry.event);
  const spec = (LOG_EVENT_SPECS as Record<string, LogEventSpec | undefined>)[event];
  if (!spec) return [`unknown log event '${event}'`];
  const problems: string[] = [];
  if (!spec.severities.includes(entry.severity as Severity)) {
    problems.push(`${event}: severity ${String(entry.severity)} is not one of ${spec.severities.join(', ')}`);
  }
  for (const key of Object.keys(entry)) {
    if (!RESERVED.has(key) && !spec.fields.includes(key)) problems.push(`${event}: field '${key}' is not documented`);
  }
  return problems;
}

/** Scalars a log field may hold. Nested objects are only count maps (`Record<string, number>`). */
export type LogValue =
  string | number | boolean | null | undefined | readonly string[] | Readonly<Record<string, number>>;

/** Extra fields of an entry: counts by outcome/type/reason, ids, status codes, durations. No payloads. */
export interface LogFields {
  readonly counts?: Readonly<Record<string, number>>;
  readonly [key: string]: LogValue;
}

/** Receives each finished line (without the newline). Default: stdout. */
export type LogSink = (line: string) => void;

export { REDACTED };
const EMAIL = /[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/g;
/** Shorter values are not registered (they would blank out ordinary words; no real credential is this short). */
export const MIN_SECRET_LENGTH = 8;

/**
 * Replaces every occurrence of each of `secrets` in `text` by `[REDACTED]` (longest first, so that a value containing
 * another is redacted whole).
 */
export function redactSecrets(text: string, secrets: Iterable<string>): string {
  const list = [...new Set(secrets)].filter((s) => s.length > 0).sort((a, b) => b.length - a.length);
  let out = text;
  for (const s of list) if (out.includes(s)) out = out.split(s).join(REDACTED);
  return out;
}

/** The forms in which a secret value could show up in a JSON log line. */
export function secretVariants(value: string): string[] {
  const v = value.trim();
  if (v.length < MIN_SECRET_LENGTH) return [];
  const variants = new Set<string>([v, value]);
  variants.add(JSON.stringify(v).slice(1, -1)); // JSON-escaped (newlines of a PEM key become \n)
  variants.add(Buffer.from(v).toString('base64'));
  variants.add(Buffer.from(`${v}:`).toString('base64')); // HTTP Basic with the write key as user name
  // A multi-line value (a PEM key): each substantial line on its own, in case a fragment leaks.
  for (const line of v.split(/\r?\n/)) {
    const l = line.trim();
    if (l.length >= 16 && !/^-----(BEGIN|END) /.test(l)) variants.add(l);
  }
  return [...variants].filter((s) => s.length >= MIN_SECRET_LENGTH);
}

/** A set of secret values to keep out of log lines. Shared between a logger and its children. */
export class SecretRedactor {
  private readonly values = new Set<string>();
  private sorted: string[] = [];

  /** Registers a secret value (and the forms it could leak in). Values shorter than MIN_SECRET_LENGTH are ignored. */
  add(value: string): void {
    let added = false;
    for (const v of secretVariants(value)) {
      if (!this.values.has(v)) {
        this.values.add(v);
        added = true;
      }
    }
    if (added) this.sorted = [...this.values].sort((a, b) => b.length - a.length);
  }

  get size(): number {
    return this.values.size;
  }

  redact(text: string): string {
    let out = text;
    for (const s of this.sorted) if (out.includes(s)) out = out.split(s).join(REDACTED);
    return out;
  }
}

export interface Logger {
  readonly connector: string;
  log(severity: Severity, event: LogEventName, message: string, fields?: LogFields): void;
  info(event: LogEventName, message: string, fields?: LogFields): void;
  notice(event: LogEventName, message: string, fields?: LogFields): void;
  warning(event: LogEventName, message: string, fields?: LogFields): void;
  error(event: LogEventName, message: string, fields?: LogFields): void;
  alert(event: LogEventName, message: string, fields?: LogFields): void;
  /** Keeps `value` (e.g. the credential just read) out of every later line of this logger and its children. */
  registerSecret(value: string): void;
  /** A logger whose lines all carry `fields` too (e.g. the Pub/Sub message id). */
  child(fields: LogFields): Logger;
}

export interface LoggerOptions {
  readonly connector: string;
  /** Default: one line per entry on stdout. Tests pass a function that collects lines. */
  readonly sink?: LogSink;
  readonly redactor?: SecretRedactor;
  /** Fields on every line (besides connector). */
  readonly base?: LogFields;
}

const RESERVED = new Set(['severity', 'message', 'connector', 'event']);

const stdoutSink: LogSink = (line) => {
  process.stdout.write(`${line}\n`);
};

function cleanFields(fields: LogFields | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (!fields) return out;
  for (const [k, v] of Object.entries(fields)) {
    if (v === undefined || RESERVED.has(k)) continue;
    out[k] = v;
  }
  return out;
}

/** A short, safe description of an error for a log field (its name and message, cut to 300 characters). */
export function describeError(err: unknown): string {
  const e = err as { name?: unknown; message?: unknown; code?: unknown };
  const text =
    err instanceof Error || (typeof e?.message === 'string' && e.message)
      ? `${typeof e.name === 'string' ? e.name : 'Error'}${e.code !== undefined ? ` (code ${String(e.code)})` : ''}: ${String(e.message)}`
      : String(err);
  return text.length > 300 ? `${text.slice(0, 297)}...` : text;
}

/** Creates a logger. Serializing or writing a line never throws into the caller. */
export function createLogger(opts: LoggerOptions): Logger {
  const sink = opts.sink ?? stdoutSink;
  const redactor = opts.redactor ?? new SecretRedactor();
  const base = cleanFields(opts.base);
  const write = (severity: Severity, event: LogEventName, message: string, fields?: LogFields) => {
    try {
      const entry = { severity, message, connector: opts.connector, event, ...base, ...cleanFields(fields) };
      const line = redactor.redact(JSON.stringify(entry)).replace(EMAIL, '[EMAIL]');
      sink(line);
    } catch {
      /* logging must never break the function */
    }
  };
  return {
    connector: opts.connector,
    log: write,
    info: (e, m, f) => write('INFO', e, m, f),
    notice: (e, m, f) => write('NOTICE', e, m, f),
    warning: (e, m, f) => write('WARNING', e, m, f),
    error: (e, m, f) => write('ERROR', e, m, f),
    alert: (e, m, f) => write('ALERT', e, m, f),
    registerSecret: (value) => redactor.add(value),
    child: (fields) =>
      createLogger({ ...opts, redactor, sink, base: { ...base, ...cleanFields(fields) } as LogFields }),
  };
}

/** The state_change line for a transition of the credential state machine (runtime/core/expiry.ts). */
export function logTransition(logger: Logger, t: Transition): void {
  logger.log(t.severity, 'state_change', t.message, {
    transition: t.type,
    from: t.from,
    to: t.to,
    at: new Date(t.at).toISOString(),
    failingSince: t.failingSince !== undefined ? new Date(t.failingSince).toISOString() : undefined,
  });
}
