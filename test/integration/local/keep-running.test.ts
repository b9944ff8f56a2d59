/**
 * `npm start -- --keep-running` as a newcomer runs it: tsx's own command (as `npm start` runs it), in its own process
 * group, with a clean environment (it starts its own emulators). Events posted through a receiver show every outcome
 * with its reason (delivered, skipped, dead-lettered, refused, duplicate), as JSON lines with `--json` and as lines for
 * people without; and whatever stops the run — SIGTERM or SIGINT or SIGHUP to its process group, or SIGKILL to the run's
 * own process (as tsx does when its child is slow to acknowledge a signal) — nothing it started survives: no process
 * of its tree, no Java emulator on its ports.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

jest.setTimeout(150_000);

const ROOT = join(__dirname, '..', '..', '..');
const TSX = join(ROOT, 'node_modules', '.bin', 'tsx');

interface Proc {
  pid: number;
  ppid: number;
  pgid: number;
  state: string;
  start: string;
  cmd: string;
}

/** Every process on the machine, from /proc. */
function processes(): Map<number, Proc> {
  const out = new Map<number, Proc>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const cmd = readFileSync(`/proc/${name}/cmdline`, 'utf8').replace(/\0/g, ' ');
      out.set(Number(name), {
        pid: Number(name),
        state: rest[0]!,
        ppid: Number(rest[1]),
        pgid: Number(rest[2]),
        start: rest[19]!,
        cmd,
      });
    } catch {
      /* gone meanwhile */
    }
  }
  return out;
}

/** `root` and every process below it (by parent pid). */
function tree(root: number): Proc[] {
  const all = [...processes().values()];
  const found: Proc[] = all.filter((p) => p.pid === root);
  for (let i = 0; i < found.length; i++) found.push(...all.filter((p) => p.ppid === found[i]!.pid));
  return found;
}

/** The same process (same pid and start time), still running (a zombie has ended). */
function stillRunning(p: Proc, now: Map<number, Proc>): boolean {
  const q = now.get(p.pid);
  return q !== undefined && q.start === p.start && q.state !== 'Z';
}

interface Run {
  child: ChildProcess;
  stdout: string[];
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: string | null }>;
  waitFor(match: (line: string) => boolean, what: string, timeoutMs?: number): Promise<string>;
}

function startRun(args: string[]): Run {
  const child = spawn(TSX, ['local/start.ts', '--keep-running', '--events', '20', '--timeout', '90', ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' },
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stdout: string[] = [];
  let err = '';
  let buf = '';
  child.stdout!.on('data', (c: Buffer) => {
    buf += c.toString();
    const parts = buf.split('\n');
    buf = parts.pop()!;
    stdout.push(...parts);
  });
  child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  return {
    child,
    stdout,
    stderr: () => err,
    exited,
    waitFor: async (match, what, timeoutMs = 90_000) => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const line = stdout.find(match);
        if (line !== undefined) return line;
        if (child.exitCode !== null || Date.now() > deadline) {
          throw new Error(`no line ${what} (exit ${child.exitCode}):\n${stdout.join('\n')}\n${err}`);
        }
        await sleep(100);
      }
    },
  };
}

/** POSTs a body to a receiver as Braze does; resolves with the answer's status. */
async function post(url: string, token: string, body: string): Promise<number> {
  const res = await fetch(`${url}/`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'braze-currents-version': '1', 'content-type': 'application/json' },
    body,
  });
  await res.arrayBuffer();
  return res.status;
}

const event = (id: string | undefined, user: Record<string, string>) =>
  JSON.stringify({
    events: [
      {
        event_type: 'users.messages.email.Open',
        ...(id ? { id } : {}),
        time: Math.floor(Date.now() / 1000),
        user,
        properties: {},
      },
    ],
  });

/**
 * Stops the run with `signal` (to its process group, or SIGKILL to the process running start.ts alone) and checks that
 * every process of its tree, and every process on its emulator ports, is gone.
 */
/** Processes whose command line names one of `ports` (`HOST:PORT` or `--port=PORT`). */
const onPorts = (ports: string[]) =>
  [...processes().values()].filter((p) => ports.some((port) => new RegExp(`[:=]${port}\\b`).test(p.cmd)));

async function stopAndCheck(run: Run, signal: NodeJS.Signals, ports: string[]) {
  const before = tree(run.child.pid!);
  const emulators = onPorts(ports);
  // Both emulators: gcloud's wrapper and its Java child each.
  expect(emulators.filter((p) => p.cmd.startsWith('java ')).length).toBe(2);
  const watched = [...before, ...emulators];
  if (signal === 'SIGKILL') {
    const main = before.find((p) => p.cmd.includes('local/start.ts') && p.pid !== run.child.pid)!;
    process.kill(main.pid, 'SIGKILL');
  } else {
    process.kill(-run.child.pid!, signal);
  }
  await run.exited;
  // Bounded wait for the processes to go (emulators get 5 s of SIGTERM before SIGKILL).
  let left: Proc[] = watched;
  for (let i = 0; i < 300 && left.length; i++) {
    await sleep(100);
    const now = processes();
    left = watched.filter((p) => stillRunning(p, now));
  }
  expect(left.map((p) => `${p.pid} ${p.cmd.slice(0, 120)}`)).toEqual([]);
  expect(onPorts(ports).map((p) => p.cmd.slice(0, 120))).toEqual([]);
}

describe('npm start -- --keep-running', () => {
  it('--json: one line per outcome, with its reason; SIGTERM to the group stops everything', async () => {
    const run = startRun(['--json']);
    try {
      const ready = JSON.parse(await run.waitFor((l) => l.startsWith('{"environment"'), 'with the ready object')) as {
        pubsubHost: string;
        firestoreHost: string;
        connectors: { name: string; receiverUrl: string; receiverToken: string }[];
      };
      const { receiverUrl: url, receiverToken: token, name } = ready.connectors[0]!;
      const tag = randomBytes(4).toString('hex');
      const ok = `ok-${tag}`;
      expect(await post(url, token, event(ok, { user_id: 'b1', external_user_id: 'u1' }))).toBe(200);
      expect(await post(url, token, event(`anon-${tag}`, { user_id: 'b2' }))).toBe(200);
      expect(await post(url, token, 'this is not json')).toBe(200);
      expect(await post(url, token, event(undefined, { user_id: 'b3', external_user_id: 'u3' }))).toBe(200);
      expect(await post(url, token, event(ok, { user_id: 'b9', external_user_id: 'u9' }))).toBe(200);
      expect(await post(url, `wrong-${tag}`, event(`never-${tag}`, { external_user_id: 'u4' }))).toBe(401);

      const json = (line: string) => JSON.parse(line) as Record<string, unknown>;
      const parsed = async (match: (o: Record<string, unknown>) => boolean, what: string) =>
        json(await run.waitFor((l) => l.startsWith('{') && match(json(l)), what, 30_000));
      // Delivered: the accepted-event line exactly as before (no `kind`).
      const accepted = await parsed((o) => o.messageId === ok && !('kind' in o), 'accepting the event');
      expect(Object.keys(accepted)).toEqual(['region', 'messageId', 'call']);
      expect(accepted.region).toBe('eu');
      expect(await parsed((o) => o.kind === 'skipped', 'skipping the anonymous event')).toEqual({
        kind: 'skipped',
        connector: name,
        reason: 'no_external_user_id',
        events: 1,
        pubsubMessageId: expect.any(String),
      });
      expect(
        await parsed((o) => o.kind === 'dead_lettered' && /not JSON/.test(String(o.detail)), 'for the non-JSON body'),
      ).toEqual({
        kind: 'dead_lettered',
        connector: name,
        reason: 'invalid',
        detail: expect.stringMatching(/not JSON/),
      });
      expect(
        await parsed((o) => o.kind === 'dead_lettered' && /'id'/.test(String(o.detail)), 'for the event without id'),
      ).toEqual({
        kind: 'dead_lettered',
        connector: name,
        reason: 'invalid',
        detail: "missing required field 'id'",
        eventType: 'users.messages.email.Open',
      });
      expect(await parsed((o) => o.kind === 'refused', 'for the wrong token')).toEqual({
        kind: 'refused',
        connector: name,
        status: 401,
        outcome: 'unauthorized',
        workspace: 'local-eu', // the door of email-eu's Braze workspace
      });
      // The same event id again, with another user: Segment keeps the first (dedup on messageId).
      expect(await parsed((o) => o.kind === 'duplicate', 'for the repeated id')).toEqual({
        kind: 'duplicate',
        region: 'eu',
        messageId: ok,
        receipts: 2,
      });
      const ports = [ready.pubsubHost, ready.firestoreHost].map((h) => h.split(':')[1]!);
      await stopAndCheck(run, 'SIGTERM', ports);
      expect(run.stderr()).toMatch(/SIGTERM: stopping everything…/);
    } finally {
      if (run.child.exitCode === null) process.kill(-run.child.pid!, 'SIGKILL');
    }
  });

  it('for people: each outcome in words; SIGINT (Ctrl-C) stops everything', async () => {
    const run = startRun([]);
    try {
      const line = await run.waitFor((l) => /^\s+receiver http/.test(l), 'naming a receiver');
      const [, url, token] = /receiver (\S+)\s+token (\S+)/.exec(line)!;
      const tag = randomBytes(4).toString('hex');
      expect(await post(url!, token!, event(`ok-${tag}`, { user_id: 'b1', external_user_id: 'u1' }))).toBe(200);
      expect(await post(url!, token!, event(`anon-${tag}`, { user_id: 'b2' }))).toBe(200);
      expect(await post(url!, token!, '{"events":[{"id":"shape-1","time":"yesterday"}]}')).toBe(200);
      await run.waitFor((l) => l === `[eu] accepted Email Opened for u1 (messageId ok-${tag})`, 'accepting it');
      const skipped = await run.waitFor((l) => /\] skipped /.test(l), 'skipping the anonymous event');
      expect(skipped).toBe(
        '[email-eu] skipped 1 event (no_external_user_id): it has no user.external_user_id, and the connector does ' +
          'not include anonymous users',
      );
      const dead = await run.waitFor((l) => /\] dead-lettered /.test(l), 'dead-lettering the unknown shape');
      expect(dead).toMatch(/^\[email-eu\] dead-lettered event shape-1, invalid: \S.*/);
      const ports = [...run.stdout.join('\n').matchAll(/_EMULATOR_HOST=127\.0\.0\.1:(\d+)/g)].map((m) => m[1]!);
      await stopAndCheck(run, 'SIGINT', [...new Set(ports)]);
    } finally {
      if (run.child.exitCode === null) process.kill(-run.child.pid!, 'SIGKILL');
    }
  });

  it.each(['SIGHUP', 'SIGKILL'] as const)('%s stops everything too (SIGKILL: to the run alone)', async (signal) => {
    const run = startRun(['--json']);
    try {
      const ready = JSON.parse(await run.waitFor((l) => l.startsWith('{"environment"'), 'with the ready object')) as {
        pubsubHost: string;
        firestoreHost: string;
      };
      await stopAndCheck(
        run,
        signal,
        [ready.pubsubHost, ready.firestoreHost].map((h) => h.split(':')[1]!),
      );
    } finally {
      if (run.child.exitCode === null) process.kill(-run.child.pid!, 'SIGKILL');
    }
  });
});
