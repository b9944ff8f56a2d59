/**
 * Structured logs in Cloud Logging's JSON format: one JSON object per line on stdout, which Cloud Functions (2nd gen) turns
 * into a LogEntry whose `severity` and `message` are taken from the fields of the same name and whose other fields land in
 * `jsonPayload`.
 *
 * Every line carries `severity`, `message`, `connector` and `event`. The infrastructure's log-based metrics filter on
 * `jsonPayload.event` and `jsonPayload.connector`, so the event names below are an interface: add names, never rename.
 *
 * | event                | severity                    | when                                                               |
 * |----------------------|-----------------------------|--------------------------------------------------------------------|
 * | `batch_done`         | INFO                        | one incoming Pub/Sub message handled; `counts` by outcome;         |
 * |                      |                             | `segmentMs`, `segmentStatus` (worst answer) when Segment was called|
 * | `credential_failure` | ERROR                       | a credential failure was seen (401/403, token refused, secret gone)|
 * | `state_change`       | ALERT (failing_started,     | the credential state changed; `transition`, `from`, `to`,          |
 * |                      | expired) / NOTICE (recovered)| `failingSince`                                                    |
 * | `events_parked`      | WARNING                     | events parked while failing; `counts`                              |
 * | `events_dropped`     | ERROR                       | events dropped by the expiry rule; `counts` by event type, `total` |
 * | `dead_lettered`      | WARNING                     | events written to the dead-letter topic; `counts` by reason        |
 * | `probe`              | INFO                        | the scheduled probe ran; its outcome                               |
 * | `drain`              | INFO                        | parked groups delivered after recovery; `counts`                   |
 * | `delivery_retry`     | WARNING                     | a Segment call is retried (status, attempt)                        |
 * | `config_error`       | CRITICAL                    | the function's configuration is invalid                            |
 * | `internal_error`     | ERROR                       | an unexpected error (message nacked for redelivery)                |
 * | `receiver_request`   | INFO (2xx) / WARNING (4xx)  | the receiver answered one request from Braze; `status`, `events`,  |
 * |                      | / ERROR (5xx)               | `bytes`, `publishMs`, `outcome` (never the token or event content) |
 * | `credential_unverified` | WARNING                  | the write-key source check got no answer from the Public API (down, |
 * |                      |                             | 429, its token refused); `detail`, `when`; no state change         |
 *
 * What may be logged: counts, event types, ids (Currents event ids, Pub/Sub message ids, Firestore document ids), status
 * codes, durations. Never personal data (no emails, phone numbers, names, event payloads or properties) and never secrets.
 * Two safeguards back that up on every line: values registered with `registerSecret` (the credential read from the secret
 * source, in the forms it could leak: as is, JSON-escaped, base64, HTTP Basic) are replaced by `[REDACTED]`, and anything
 * shaped like an email address is replaced by `[EMAIL]`.
 */

import type { Transition } from './core/expiry';

export type Severity = 'DEBUG' | 'INFO' | 'NOTICE' | 'WARNING' | 'ERROR' | 'CRITICAL' | 'ALERT' | 'EMERGENCY';

/** The machine names of log entries (see the table above). Log-based metrics depend on them. */
export const LOG_EVENTS = [
  'batch_done',
  'credential_failure',
  'state_change',
  'events_parked',
  'events_dropped',
  'dead_lettered',
  'probe',
  'drain',
  'delivery_retry',
  'config_error',
  'internal_error',
  'receiver_request',
  'credential_unverified',
] as const;
export type LogEventName = (typeof LOG_EVENTS)[number];

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

export const REDACTED = '[REDACTED]';
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
