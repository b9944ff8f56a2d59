/**
 * `npm start`'s path with a small feed: the local run's own dev environment (two connectors of one Braze workspace, a
 * third of another) created on the emulators from the same code as the infrastructure, one Braze feed per workspace
 * through its door (or a feed per connector published in every input shape), and a summary that reconciles.
 */
import { randomBytes } from 'node:crypto';
import { emulatorsFromEnv } from '../../../local/emulators';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { runLocal } from '../../../local/start';
import { parseOptions } from '../../../local/start-options';
import { curlLine } from '../../../local/start-print';
import { readyObject } from '../../../local/start-ready';
import { tail } from '../../../local/start-tail';

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
    const { lines, result } = run({ via: 'topic' });
    const { summaries, doors } = await result;
    expect(doors).toEqual([]);
    expect(summaries.map((s) => s.connector)).toEqual(['email-eu', 'messaging-us', 'journeys-us']);
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
    expect(text).toMatch(/^messaging-us\s+300\s+\d+ \(us\)/m);
    expect(text).toMatch(/Reconciled: 900 event\(s\) published/);
    // The last progress line says what the summary says (it is printed once more when the pipeline went quiet).
    const delivered = summaries.reduce((n, s) => n + s.delivered, 0);
    expect(lines.filter((l) => l.startsWith('published ')).pop()).toMatch(
      new RegExp(`^published 900/900 · delivered ${delivered} · `),
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
    expect(lines.filter((l) => /^\[(messaging|journeys)-us\] state /.test(l))).toEqual([]);
  });

  it('shows a rotated write key seen by the source check: parked, the new key in the secret, drained, reconciled', async () => {
    const { lines, result } = run({ scenario: 'write-key-rotated' });
    const { summaries } = await result;
    const text = lines.join('\n');
    expect(summaries.map((s) => [s.connector, s.reconciled, s.problems])).toEqual([
      ['email-eu', true, []],
      ['messaging-us', true, []],
      ['journeys-us', true, []],
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

  it('one Braze feed per workspace through its door: each event delivered by the connector that selects it', async () => {
    const { lines, result } = run({});
    const { summaries, doors } = await result;
    expect(doors.map((d) => [d.workspace, d.connectors, d.sent, d.reconciled, d.problems])).toEqual([
      ['local-eu', ['email-eu'], 300, true, []],
      ['local-us', ['journeys-us', 'messaging-us'], 300, true, []],
    ]);
    const us = doors[1]!;
    expect(us.view.byStatus).toEqual({ 200: 3 });
    expect(us.view.events).toBe(300);
    // Types neither US connector selects (email, webhook, whatsapp…, and non-exportable ones) counted at the door.
    expect(Object.values(us.view.notSelected).reduce((a, b) => a + b, 0)).toBe(us.expectedNotSelected);
    expect(us.expectedNotSelected).toBeGreaterThan(0);
    expect(Object.keys(us.view.notSelected)).not.toContainEqual(expect.stringMatching(/^users\.(canvas|campaigns)\./));
    const byName = new Map(summaries.map((s) => [s.connector, s]));
    expect(us.view.routed).toEqual({
      'journeys-us': byName.get('journeys-us')!.published,
      'messaging-us': byName.get('messaging-us')!.published,
    });
    for (const s of summaries) {
      expect([s.connector, s.problems, s.deliveredByOther, s.duplicates]).toEqual([s.connector, [], 0, 0]);
      expect(s.delivered).toBe(s.expected.delivered);
      expect(s.skipped.not_selected ?? 0).toBe(0); // the door routed each event to the connector that selects it
    }
    expect(byName.get('messaging-us')!.published + byName.get('journeys-us')!.published).toBe(
      300 - us.expectedNotSelected,
    );
    const text = lines.join('\n');
    expect(text).toMatch(/^local-us\s+3\s+200: 3\s+300\/300\s+journeys-us: \d+, messaging-us: \d+\s+\d+\s+yes$/m);
    expect(text).toMatch(/Braze workspace 'local-us' sent \d+ event\(s\) of \d+ type\(s\) no connector selects/);
    expect(text).toMatch(/Reconciled: 600 event\(s\) published/);
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
      expect(ready.connectors.map((c) => c.name)).toEqual(['email-eu', 'messaging-us', 'journeys-us']);
      for (const c of ready.connectors) {
        expect(c.receiverUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
        expect(c.receiverToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
      }
      // One door per workspace; each connector's receiverUrl / receiverToken is its workspace's door.
      expect(ready.workspaces.map((w) => [w.workspace, w.connectors])).toEqual([
        ['local-eu', ['email-eu']],
        ['local-us', ['journeys-us', 'messaging-us']],
      ]);
      const us = ready.workspaces[1]!;
      for (const name of ['messaging-us', 'journeys-us']) {
        expect(ready.connectors.find((c) => c.name === name)).toMatchObject({
          receiverUrl: us.receiverUrl,
          receiverToken: us.receiverToken,
        });
      }
      expect(us.receiverToken).not.toBe(ready.workspaces[0]!.receiverToken);
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
