/** `currents translate`, spawned as a user would run it, on fixture files and stdin. */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_CATALOG } from '../../../shared/catalog';

const root = join(__dirname, '..', '..', '..');
const fixture = (f: string) => join(root, 'test', 'fixtures', 'currents', f);
const run = (args: string[], input?: string) =>
  spawnSync(process.execPath, [join(root, 'bin', 'currents.js'), 'translate', ...args], {
    encoding: 'utf8',
    input,
    cwd: root,
  });
const lines = (s: string) =>
  s
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);

describe('currents translate', () => {
  it('translates several files (envelope and JSON Lines) into one Segment call per line, with a summary', () => {
    const r = run([fixture('envelope.json'), fixture('flat.jsonl')]);
    const calls = lines(r.stdout);
    expect(calls.map((c) => [c.event, c.messageId])).toEqual([
      ['Email Link Clicked', 'evt-email-click-1'],
      ['Push Notification Tapped', 'evt-push-open-1'],
      ['WhatsApp Sent', 'evt-wa-send-1'],
      ['Campaign Aborted', 'evt-camp-abort-1'],
    ]);
    for (const c of calls) expect(c).toEqual(expect.objectContaining({ type: 'track', timestamp: expect.any(String) }));
    expect(r.stderr).toContain(
      '8 event(s) from 2 input(s): 4 translated (Segment calls the function would send), 1 skipped no_external_user_id, 1 skipped not_exportable, 2 dead-lettered invalid',
    );
    expect(r.stderr).toContain(
      "invalid (users.messages.email.Open, id evt-bad-time): field 'time' must be an integer, got a string",
    );
    expect(r.stderr).toContain('flat.jsonl: invalid: line 3 of the message body is not JSON');
    expect(r.status).toBe(1);
  });

  it('reads stdin, with the event type of flat records given as the Pub/Sub attribute would be', () => {
    const input = readFileSync(fixture('flat-no-type.json'), 'utf8');
    const r = run(['--event-type', 'users.messages.email.Delivery'], input);
    expect(r.status).toBe(0);
    expect(lines(r.stdout)).toEqual([
      expect.objectContaining({ event: 'Email Delivered', messageId: 'evt-email-delivery-flat' }),
    ]);
    expect(r.stderr).toMatch(
      /1 event\(s\) from 1 input\(s\): 1 translated \(Segment calls the function would send\)$/m,
    );
    const single = run([fixture('single-nested.json')]);
    expect(lines(single.stdout)).toEqual([
      expect.objectContaining({
        event: 'Canvas Entered',
        properties: expect.objectContaining({ in_control_group: false }),
      }),
    ]);
  });

  it("applies a connector's selection and field policy (prod/email-eu hashes email_address)", () => {
    const r = run(['--connector', 'email-eu', '--env', 'prod', fixture('envelope.json')]);
    const calls = lines(r.stdout);
    expect(calls).toHaveLength(1);
    const traits = (calls[0]!.context as { traits: { email: string } }).traits;
    expect(traits.email).toMatch(/^[0-9a-f]{64}$/);
    expect(r.stderr).toContain('2 skipped not_selected');
  });

  it('names each type that is not exportable and the closest exportable one; skips exit 0, and nothing is said sent', () => {
    const event = (type: string, id: string) => ({
      event_type: type,
      id,
      time: 1717434860,
      user: { external_user_id: 'user-1' },
      properties: {},
    });
    const input = [
      event('users.messages.email.Opn', 'e1'),
      event('users.messages.email.Opn', 'e2'),
      event('users.behaviors.CustomEvent', 'e3'),
      event('users.messages.email.Open', 'e4'),
    ]
      .map((e) => JSON.stringify(e))
      .join('\n');
    const r = run([], input);
    expect(r.status).toBe(0);
    expect(lines(r.stdout)).toEqual([expect.objectContaining({ event: 'Email Opened', messageId: 'e4' })]);
    expect(r.stderr.split('\n').filter(Boolean)).toEqual([
      `currents translate (all ${DEFAULT_CATALOG.length} types exported by default): 4 event(s) from 1 input(s): 1 translated (Segment calls the function would send), 3 skipped not_exportable`,
      '  stdin: users.messages.email.Opn is not an exportable Currents type (2 events skipped); did you mean `users.messages.email.Open`?',
      expect.stringMatching(
        /^ {2}stdin: users\.behaviors\.CustomEvent is not exported by default: .*from Segment.*loop.*; a connector that wants it names it in events \(1 event skipped\)$/,
      ),
    ]);
    expect(r.stderr).not.toMatch(/\bsent\b/);
  });

  it('reports a body that is not JSON as one dead letter, and usage errors with exit 2', () => {
    const bad = run([fixture('not-json.txt')]);
    expect(bad.stdout).toBe('');
    expect(bad.stderr).toContain('not-json.txt: invalid: message body is not JSON (nor JSON Lines)');
    expect(bad.status).toBe(1);
    const usage = run(['--connector', 'email-eu']);
    expect(usage.status).toBe(2);
    expect(usage.stderr).toContain('--connector and --env go together');
    const missing = run(['no/such/file.json']);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toContain('cannot read no/such/file.json: ENOENT');
    const unknown = run(['--connector', 'nope', '--env', 'prod']);
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toContain("no connector 'nope' in environment 'prod'");
  });
});
