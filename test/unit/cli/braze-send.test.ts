/** `currents braze-send` as a child process against a scripted receiver over real HTTP. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli } from '../../support/ops/helpers';
import {
  events,
  ok,
  startScriptedReceiver,
  type Rule,
  type ScriptedReceiver,
} from '../../support/local/braze-receiver-script';

const TOKEN = 'braze-send-cli-token_0123456789';

let dir: string;
let receiver: ScriptedReceiver | undefined;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'braze-send-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(async () => {
  await receiver?.close();
  receiver = undefined;
});

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

const row = (out: string, label: string) => new RegExp(`^${label}\\s+(\\d+)$`, 'm').exec(out)?.[1];

async function send(rule: Rule, files: string[], args: string[] = [], env: Record<string, string> = {}) {
  receiver = await startScriptedReceiver(rule);
  const r = await cli(['braze-send', ...files, '--url', receiver.url, ...args], env);
  expect(`${r.stdout}${r.stderr}`).not.toContain(TOKEN);
  return r;
}

describe('currents braze-send', () => {
  it('posts files like Braze, splits and drops on 400, prints the table, exits 1 when an event is not delivered', async () => {
    const lines = file(
      'a.jsonl',
      events(15, 'l')
        .map((e) => JSON.stringify(e))
        .join('\n') + '\n',
    );
    const envelope = file('b.json', JSON.stringify({ events: events(10, 'v') }, null, 2));
    const r = await send(
      (req) => ({ status: req.ids.includes('l-3') ? 400 : 200 }),
      [lines, envelope],
      ['--token', TOKEN, '--batch-size', '10', '--give-up-after', '20'],
    );
    expect(r.status).toBe(1);
    const requests = receiver!.requests;
    for (const q of requests) {
      expect(q.headers.authorization).toBe(`Bearer ${TOKEN}`);
      expect(q.body.events.length).toBeLessThanOrEqual(10);
    }
    expect(receiver!.acceptedIds().sort()).toEqual(
      [...events(15, 'l'), ...events(10, 'v')]
        .map((e) => e.id)
        .filter((id) => id !== 'l-3')
        .sort(),
    );
    expect(row(r.stdout, 'events given')).toBe('25');
    expect(row(r.stdout, 'accepted \\(2xx\\)')).toBe('24');
    expect(row(r.stdout, 'batches split on 400')).toBe('1');
    expect(row(r.stdout, 'dropped on 400')).toBe('1');
    expect(row(r.stdout, 'requests')).toBe(String(requests.length));
    expect(row(r.stdout, 'answered 400')).toBe('2');
    expect(r.stdout).toMatch(/^ {2}l-3: dropped: a single event answered 400/m);
    expect(r.stderr).toMatch(
      /braze-send: 25 event\(s\) from 2 file\(s\) to http:\/\/127\.0\.0\.1:\d+\/currents, batches of ≤ 10/,
    );
    expect(r.stderr).toMatch(/done: 24\/25 accepted/);
  });

  it('exits 0 when every event is accepted; --gzip, --json, and the token from CURRENTS_RECEIVER_TOKEN', async () => {
    const path = file('c.json', JSON.stringify(events(130, 'g')));
    const r = await send((req, i) => (i === 0 ? { status: 503 } : ok(req, i)), [path], ['--gzip', '--json'], {
      CURRENTS_RECEIVER_TOKEN: TOKEN,
    });
    expect(r.status).toBe(0);
    for (const q of receiver!.requests) {
      expect(q.headers['content-encoding']).toBe('gzip');
      expect(q.headers.authorization).toBe(`Bearer ${TOKEN}`);
    }
    const report = JSON.parse(r.stdout) as { accepted: number; resentRequests: number; byStatus: object };
    expect(report).toMatchObject({ accepted: 130, resentRequests: 1, byStatus: { '503': 1, '200': 2 } });
  });

  it('401: stops, says so, exits 1', async () => {
    const path = file('d.json', JSON.stringify({ events: events(250, 's') }));
    const r = await send(() => ({ status: 401 }), [path], ['--token', TOKEN, '--concurrency', '1']);
    expect(r.status).toBe(1);
    expect(receiver!.requests).toHaveLength(1);
    expect(r.stderr).toMatch(/answered 401: sending stops/);
    expect(row(r.stdout, 'not delivered: stopped by 401')).toBe('250');
    expect(r.stdout).toMatch(/250 event\(s\) not delivered:/);
    expect(r.stdout).toMatch(/… and 230 more/);
  });

  it('usage errors exit 2 and say what is wrong', async () => {
    const good = file('e.json', '{"id":"x"}');
    const broken = file('broken.jsonl', '{"id":"1"}\n{"id":"2"}\n{"id": 3,\n');
    const cases: Array<[string[], RegExp]> = [
      [[good], /--url is required/],
      [[good, '--url', 'not a url'], /--url is not a URL/],
      [
        [good, '--url', 'http://127.0.0.1:9/', '--batch-size', '0'],
        /--batch-size must be a whole number ≥ 1 \(got '0'\)/,
      ],
      [[good, '--url', 'http://127.0.0.1:9/', '--rate', 'fast'], /--rate must be a number ≥ 0/],
      [[good, '--url', 'http://127.0.0.1:9/', '--token', 'bad token'], /characters a bearer token cannot hold/],
      [[broken, '--url', 'http://127.0.0.1:9/'], /broken\.jsonl: line 3, column \d+ is not JSON/],
      [[join(dir, 'missing.json'), '--url', 'http://127.0.0.1:9/'], /missing\.json: cannot be read \(ENOENT\)/],
      [['--url', 'http://127.0.0.1:9/'], /missing required argument 'FILE'/],
    ];
    for (const [args, message] of cases) {
      const r = await cli(['braze-send', ...args]);
      expect({ args, status: r.status }).toEqual({ args, status: 2 });
      expect(r.stderr).toMatch(message);
      expect(r.stderr).not.toContain('bad token');
    }
  });

  it("posts to a local run's workspace door named in its ready object (--ready, --workspace)", async () => {
    receiver = await startScriptedReceiver(() => ({ status: 200 }));
    const ready = file(
      'ready.json',
      JSON.stringify({
        environment: 'dev',
        workspaces: [
          { workspace: 'ws-a', receiverUrl: 'http://127.0.0.1:9/', receiverToken: 'other-token', connectors: ['a'] },
          { workspace: 'ws-b', receiverUrl: receiver.url, receiverToken: TOKEN, connectors: ['b', 'c'] },
        ],
      }) + '\n{"kind":"accepted"}\n',
    );
    const events3 = file('c.json', JSON.stringify({ events: events(3, 'w') }));
    const r = await cli(['braze-send', events3, '--ready', ready, '--workspace', 'ws-b']);
    expect(`${r.stdout}${r.stderr}`).not.toContain(TOKEN);
    expect(r.status).toBe(0);
    expect(receiver.requests.map((q) => q.headers.authorization)).toEqual([`Bearer ${TOKEN}`]);
    expect(receiver.acceptedIds().sort()).toEqual(['w-0', 'w-1', 'w-2']);
    const ambiguous = await cli(['braze-send', events3, '--ready', ready]);
    expect(ambiguous.status).not.toBe(0);
    expect(ambiguous.stderr).toMatch(/--workspace is required: .* has 2 workspace doors \(ws-a, ws-b\)/);
  });
});
