/**
 * `npm start`'s path with a small feed: the dev environment's connectors created on the emulators from the same code
 * as the infrastructure, a sample feed published in every input shape, and a summary that reconciles.
 */
import { randomBytes } from 'node:crypto';
import { emulatorsFromEnv } from '../../local/emulators';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { curlLine, parseOptions, readyObject, runLocal, tail } from '../../local/start';

const run = (extra: Partial<Parameters<typeof runLocal>[0]>) => {
  const lines: string[] = [];
  const result = runLocal({
    ...parseOptions(['--events', '300', '--timeout', '60']),
    emulators: emulatorsFromEnv(),
    projectId: `start-${randomBytes(4).toString('hex')}`,
    out: (l) => lines.push(l),
    tty: false,
    ...extra,
  });
  return { lines, result };
};

jest.setTimeout(120_000);

describe('the local end-to-end run', () => {
  it('delivers, skips and dead-letters the dev feed and reconciles every connector', async () => {
    const { lines, result } = run({});
    const { summaries } = await result;
    expect(summaries.map((s) => s.connector)).toEqual(['email-eu', 'engagement-us']);
    for (const s of summaries) {
      expect(s.problems).toEqual([]);
      expect(s.reconciled).toBe(true);
      expect(s.published).toBe(300);
      expect(s.delivered).toBe(s.expected.delivered);
      expect(s.delivered).toBeGreaterThan(200);
      expect(s.deliveredToOtherRegion).toBe(0);
      expect(s.deadLettered.invalid).toBe(s.expected['dead_letter:invalid']);
      expect(s.skipped.not_exportable).toBe(s.expected['skipped:not_exportable']);
    }
    const text = lines.join('\n');
    expect(text).toMatch(/^email-eu\s+300\s+\d+ \(eu\)/m);
    expect(text).toMatch(/^engagement-us\s+300\s+\d+ \(us\)/m);
    expect(text).toMatch(/Reconciled: 600 event\(s\) published/);
    // The last progress line says what the summary says (it is printed once more when the pipeline went quiet).
    const delivered = summaries.reduce((n, s) => n + s.delivered, 0);
    expect(lines.filter((l) => l.startsWith('published ')).pop()).toMatch(
      new RegExp(`^published 600/600 · delivered ${delivered} · `),
    );
    // Skip reasons in the fixed order, whatever order they arrived in.
    for (const s of summaries) {
      const order = ['not_selected', 'not_exportable', 'no_external_user_id'];
      const keys = Object.keys(s.skipped);
      expect(keys).toEqual([...keys].sort((a, b) => order.indexOf(a) - order.indexOf(b)));
    }
  });

  it('shows a credential failing and coming back: events parked, then drained, and still reconciles', async () => {
    const { lines, result } = run({ scenario: 'credential-failure' });
    const { summaries } = await result;
    expect(summaries.every((s) => s.reconciled)).toBe(true);
    const text = lines.join('\n');
    expect(text).toMatch(/\[email-eu\] state active → failing/);
    expect(text).toMatch(
      /\[email-eu\] \d+ event\(s\) parked in Firestore; the credential is put back into the secret now/,
    );
    expect(text).toMatch(/\[email-eu\] state failing → active/);
    expect(text).toMatch(/\[email-eu\] probe: drained \d+ parked event\(s\)/);
    // One failure episode, one clean pair of transitions: no flapping back to active while the credential is refused.
    const live = lines.filter((l) => l.startsWith('[email-eu] state '));
    expect(live.map((l) => l.slice(0, l.indexOf(':')))).toEqual([
      '[email-eu] state active → failing',
      '[email-eu] state failing → active',
    ]);
    const restored = lines.findIndex((l) => /the credential is put back into the secret now/.test(l));
    expect(lines.indexOf(live[1]!)).toBeGreaterThan(restored);
    expect(lines.filter((l) => l.startsWith('[engagement-us] state '))).toEqual([]);
  });

  it('shows a rotated write key seen by the source check: parked, the new key in the secret, drained, reconciled', async () => {
    const { lines, result } = run({ scenario: 'write-key-rotated' });
    const { summaries } = await result;
    const text = lines.join('\n');
    expect(summaries.map((s) => [s.connector, s.reconciled, s.problems])).toEqual([
      ['email-eu', true, []],
      ['engagement-us', true, []],
    ]);
    expect(text).toMatch(/Scenario write-key-rotated: the write key of Segment source local-email-eu-source/);
    expect(text).toMatch(/\[email-eu\] state active → failing: .*does not have the write key/);
    expect(text).toMatch(/\[email-eu\] \d+ event\(s\) parked in Firestore; the source's new write key is put into/);
    expect(text).toMatch(/\[email-eu\] state failing → active/);
    expect(text).toMatch(/\[email-eu\] probe: drained \d+ parked event\(s\)/);
    expect(text).toMatch(/Segment \(eu\) discarded 0 event\(s\)/);
    const live = lines.filter((l) => l.startsWith('[email-eu] state '));
    expect(live.map((l) => l.slice(0, l.indexOf(':')))).toEqual([
      '[email-eu] state active → failing',
      '[email-eu] state failing → active',
    ]);
    const fixed = lines.findIndex((l) => /the source's new write key is put into the secret now/.test(l));
    expect(lines.indexOf(live[1]!)).toBeGreaterThan(fixed);
    expect(summaries[0]!.delivered).toBe(summaries[0]!.expected.delivered);
  });

  it('goes through the door: the receivers count every event Braze sent, and every request was answered 200', async () => {
    const { lines, result } = run({});
    const { summaries } = await result;
    for (const s of summaries) {
      expect(s.receiver).toEqual({ requests: 3, byStatus: { 200: 3 }, events: 300 });
    }
    expect(lines.join('\n')).toMatch(/^email-eu\s+3\s+200: 3\s+300$/m);
  });

  it('keeps running: the ready object names everything, and the printed curl line posts through the receiver', async () => {
    const { lines, result } = run({ keepRunning: true, events: 20 });
    const { summaries, stack } = await result;
    try {
      expect(summaries.every((s) => s.reconciled)).toBe(true);
      const ready = readyObject(stack!);
      expect(ready).toMatchObject({
        environment: 'dev',
        pubsubHost: stack!.emulators.pubsub.host,
        segment: { us: stack!.servers.us.url, eu: stack!.servers.eu.url },
      });
      expect(ready.connectors.map((c) => c.name)).toEqual(['email-eu', 'engagement-us']);
      for (const c of ready.connectors) {
        expect(c.receiverUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
        expect(c.receiverToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
      }
      const first = stack!.connectors[0]!;
      const printed = lines.find((l) => l.trim().startsWith('curl '))!.trim();
      expect(printed).toContain(first.receiver!.url);
      const line = curlLine(first, 'curl-try-1');
      const { stdout } = await promisify(execFile)('bash', ['-c', line]);
      expect(JSON.parse(stdout)).toEqual({ ok: true, events: 1 });
      const deadline = Date.now() + 20_000;
      while (!stack!.servers.eu.accepted().some((e) => e.messageId === 'curl-try-1') && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(stack!.servers.eu.accepted().map((e) => e.messageId)).toContain('curl-try-1');
    } finally {
      await stack?.stop();
    }
  });

  it('keeps running: an event posted while the credential fails is shown parked, with why, then delivered', async () => {
    const { lines, result } = run({ keepRunning: true, events: 20 });
    const { stack, logs } = await result;
    const watched: string[] = [];
    const until = new AbortController();
    const watching = tail(stack!, (l) => watched.push(l), false, logs, until.signal);
    // The run's own lines (state changes) and the watch's (outcomes).
    const waitFor = async (re: RegExp, where = watched) => {
      const deadline = Date.now() + 30_000;
      while (!where.some((l) => re.test(l)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      expect(where).toContainEqual(expect.stringMatching(re));
    };
    try {
      const first = stack!.connectors[0]!;
      first.setSecret(undefined); // the secret loses its enabled version
      await waitFor(/^\[email-eu\] state active → failing/, lines);
      await promisify(execFile)('bash', ['-c', curlLine(first, 'parked-1')]);
      await waitFor(
        /^\[email-eu\] parked 1 event: the Segment credential is failing \(.+\); the probe delivers them once it works again$/,
      );
      first.setSecret(stack!.credentials.get(first.connector.name)!.secretValue);
      await waitFor(/^\[eu\] accepted .+ for try-user-1 \(messageId parked-1\)$/);
    } finally {
      until.abort();
      await watching;
      await stack?.stop();
    }
  });

  it('refuses unknown options with the usage', () => {
    expect(() => parseOptions(['--json'])).toThrow(/--json goes with --keep-running/);
    expect(() => parseOptions(['--via', 'carrier-pigeon'])).toThrow(/--via must be receiver or topic/);
    expect(() => parseOptions(['--events', 'many'])).toThrow(/--events must be a whole number/);
    expect(() => parseOptions(['--scenario', 'meteor'])).toThrow(
      /unknown --scenario 'meteor' \(known: credential-failure, write-key-rotated\)/,
    );
  });
});
