/**
 * Structured logging (runtime/log.ts): Cloud Logging JSON lines, event names, and the safeguards that keep secrets and
 * email addresses out of every line.
 */
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { INITIAL_STATE, onCredentialFailure, onCredentialSuccess } from '../../../runtime/core/expiry';
import {
  createLogger,
  describeError,
  LOG_EVENT_SPECS,
  LOG_EVENTS,
  type LogEventName,
  logLineProblems,
  logTransition,
  REDACTED,
  redactSecrets,
  SecretRedactor,
  secretVariants,
} from '../../../runtime/log';

function capture() {
  const lines: string[] = [];
  return { lines, sink: (l: string) => lines.push(l), parsed: () => lines.map((l) => JSON.parse(l)) };
}

const WRITE_KEY = 'wk_9fQ2xLr7TzA1bC3dE5fG7hJ9kL0mN2pQ';

describe('createLogger', () => {
  it('writes one JSON object per entry with severity, message, connector, event and the fields', () => {
    const c = capture();
    const log = createLogger({ connector: 'prod-eu', sink: c.sink });
    log.info('batch_done', 'message handled', { counts: { delivered: 3, skipped: 1 }, pubsubMessageId: '123' });
    expect(c.lines).toHaveLength(1);
    expect(c.lines[0]).not.toContain('\n');
    expect(JSON.parse(c.lines[0]!)).toEqual({
      severity: 'INFO',
      message: 'message handled',
      connector: 'prod-eu',
      event: 'batch_done',
      counts: { delivered: 3, skipped: 1 },
      pubsubMessageId: '123',
    });
  });

  it('fields cannot overwrite severity, message, connector or event; undefined fields are left out', () => {
    const c = capture();
    const log = createLogger({ connector: 'a', sink: c.sink });
    log.error('credential_failure', 'm', {
      severity: 'DEBUG',
      connector: 'b',
      event: 'x',
      message: 'y',
      gone: undefined,
    });
    expect(c.parsed()[0]).toEqual({ severity: 'ERROR', message: 'm', connector: 'a', event: 'credential_failure' });
  });

  it('has a method per severity used by the runtime, and child loggers add fields', () => {
    const c = capture();
    const log = createLogger({ connector: 'a', sink: c.sink }).child({ pubsubMessageId: 'm-1' });
    log.notice('probe', 'n');
    log.warning('dead_lettered', 'w', { counts: { invalid: 2 } });
    log.alert('state_change', 'al');
    log.log('CRITICAL', 'config_error', 'c');
    expect(c.parsed().map((e) => [e.severity, e.event, e.pubsubMessageId])).toEqual([
      ['NOTICE', 'probe', 'm-1'],
      ['WARNING', 'dead_lettered', 'm-1'],
      ['ALERT', 'state_change', 'm-1'],
      ['CRITICAL', 'config_error', 'm-1'],
    ]);
  });

  it('documents every event, its severities and its fields in the module comment exactly as LOG_EVENT_SPECS says', () => {
    const source = readFileSync(join(__dirname, '../../../runtime/log.ts'), 'utf8');
    const rows = new Map<string, { severities: string[]; fields: string[] }>();
    for (const m of source.matchAll(/^ \* \| `([a-z_]+)` +\| ([A-Z, ]+?) +\| (.*?) *\|$/gm)) {
      const fields = [...m[3]!.matchAll(/`([A-Za-z]+)`/g)].map((f) => f[1]!);
      rows.set(m[1]!, { severities: m[2]!.split(', '), fields });
    }
    expect([...rows.keys()].sort()).toEqual([...LOG_EVENTS].sort());
    for (const e of LOG_EVENTS) {
      expect({ event: e, ...rows.get(e) }).toEqual({
        event: e,
        severities: [...LOG_EVENT_SPECS[e].severities],
        fields: [...LOG_EVENT_SPECS[e].fields],
      });
    }
  });

  it('logLineProblems names an unknown event, a severity or a field the spec does not allow', () => {
    const line = { severity: 'ERROR', message: 'm', connector: 'c', event: 'events_dropped', counts: {}, total: 3 };
    expect(logLineProblems(line)).toEqual([
      'events_dropped: severity ERROR is not one of ALERT',
      "events_dropped: field 'total' is not documented",
    ]);
    expect(logLineProblems({ ...line, event: 'drain' })).toEqual(["unknown log event 'drain'"]);
    expect(
      logLineProblems({ severity: 'ALERT', message: 'm', connector: 'c', event: 'events_dropped', dropped: 3 }),
    ).toEqual([]);
  });

  it('every severity method the runtime calls with a literal event name is one the spec allows for it', () => {
    const files = [
      'app-context.ts',
      'push-handler.ts',
      'probe-handler.ts',
      'runtime.ts',
      'receiver/handler.ts',
      'receiver/runtime.ts',
    ].map((f) => readFileSync(join(__dirname, '../../../runtime', f), 'utf8'));
    const method: Record<string, string> = {
      info: 'INFO',
      notice: 'NOTICE',
      warning: 'WARNING',
      error: 'ERROR',
      alert: 'ALERT',
    };
    const calls: string[] = [];
    const wrong: string[] = [];
    for (const source of files) {
      for (const m of source.matchAll(/\.(info|notice|warning|error|alert)\(\s*'([a-z_]+)'/g)) {
        const [event, severity] = [m[2] as LogEventName, method[m[1]!]!];
        calls.push(event);
        if (!LOG_EVENT_SPECS[event]?.severities.includes(severity as never)) wrong.push(`${event} at ${severity}`);
      }
    }
    expect(wrong).toEqual([]);
    expect(new Set(calls).size).toBeGreaterThanOrEqual(8);
  });

  it('never throws into the caller, even when the sink does', () => {
    const log = createLogger({
      connector: 'a',
      sink: () => {
        throw new Error('stdout closed');
      },
    });
    expect(() => log.info('batch_done', 'x')).not.toThrow();
  });
});

describe('secret redaction', () => {
  it('replaces a registered write key wherever it appears: message, fields, count keys, base64 and Basic auth forms', () => {
    const c = capture();
    const log = createLogger({ connector: 'a', sink: c.sink });
    log.registerSecret(WRITE_KEY);
    const basic = Buffer.from(`${WRITE_KEY}:`).toString('base64');
    log.error('credential_failure', `Segment refused key ${WRITE_KEY}`, {
      header: `Basic ${basic}`,
      raw: Buffer.from(WRITE_KEY).toString('base64'),
      ids: [WRITE_KEY],
      counts: { [WRITE_KEY]: 1 },
    });
    const line = c.lines[0]!;
    expect(line).not.toContain(WRITE_KEY);
    expect(line).not.toContain(basic);
    expect(line).not.toContain(Buffer.from(WRITE_KEY).toString('base64'));
    expect(JSON.parse(line).message).toBe(`Segment refused key ${REDACTED}`);
    expect(line.split(REDACTED).length - 1).toBe(5);
  });

  it('redacts a PEM private key as a whole (JSON-escaped newlines) and any one of its lines on its own', () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
    const bodyLine = pem.split('\n')[3]!;
    const c = capture();
    const log = createLogger({ connector: 'a', sink: c.sink });
    log.registerSecret(pem);
    log.error('internal_error', `oops ${pem}`, { fragment: `...${bodyLine}...` });
    const line = c.lines[0]!;
    for (const l of pem.split('\n').filter((x) => x.length >= 16 && !x.startsWith('-----'))) {
      expect(line).not.toContain(l);
    }
    expect(JSON.parse(line).fragment).toBe(`...${REDACTED}...`);
  });

  it('child loggers share the registry: a secret registered later is redacted in the parent and the child', () => {
    const c = capture();
    const parent = createLogger({ connector: 'a', sink: c.sink });
    const child = parent.child({ pubsubMessageId: '1' });
    child.registerSecret(WRITE_KEY);
    parent.info('probe', WRITE_KEY);
    child.info('probe', WRITE_KEY);
    expect(c.lines.join('\n')).not.toContain(WRITE_KEY);
  });

  it('ignores values too short to be a credential instead of blanking ordinary words', () => {
    const r = new SecretRedactor();
    r.add('abc');
    expect(r.size).toBe(0);
    expect(r.redact('abc def')).toBe('abc def');
    expect(secretVariants('  short ')).toEqual([]);
  });

  it('redactSecrets replaces the longest value first', () => {
    expect(redactSecrets('key=abcdefgh12345678', ['abcdefgh', 'abcdefgh12345678'])).toBe(`key=${REDACTED}`);
    expect(redactSecrets('nothing here', ['abcdefgh'])).toBe('nothing here');
  });
});

describe('personal data safeguard', () => {
  it('replaces anything shaped like an email address', () => {
    const c = capture();
    const log = createLogger({ connector: 'a', sink: c.sink });
    log.warning('dead_lettered', 'bad event from jane.doe+x@example.co.uk', { detail: 'user bob@mail.example.com' });
    expect(c.lines[0]).not.toMatch(/@example|@mail/);
    expect(JSON.parse(c.lines[0]!).message).toBe('bad event from [EMAIL]');
  });
});

describe('logTransition', () => {
  it('logs failing_started at ALERT and recovered at NOTICE as state_change', () => {
    const c = capture();
    const log = createLogger({ connector: 'a', sink: c.sink });
    const f = onCredentialFailure(INITIAL_STATE, Date.UTC(2026, 0, 1), 'Segment answered 401');
    logTransition(log, f.transition!);
    const r = onCredentialSuccess(f.next, Date.UTC(2026, 0, 2));
    logTransition(log, r.transition!);
    expect(c.parsed().flatMap(logLineProblems)).toEqual([]);
    expect(c.parsed()).toEqual([
      expect.objectContaining({
        severity: 'ALERT',
        event: 'state_change',
        transition: 'failing_started',
        from: 'active',
        to: 'failing',
        failingSince: '2026-01-01T00:00:00.000Z',
      }),
      expect.objectContaining({ severity: 'NOTICE', event: 'state_change', transition: 'recovered', to: 'active' }),
    ]);
  });
});

describe('describeError', () => {
  it('names the error and its code, and cuts long messages', () => {
    const e = Object.assign(new Error('x'.repeat(1000)), { code: 5 });
    const d = describeError(e);
    expect(d.startsWith('Error (code 5): xxx')).toBe(true);
    expect(d.length).toBe(300);
    expect(describeError('plain')).toBe('plain');
  });
});
