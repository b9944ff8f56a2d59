/**
 * The last guard that nothing a local run started outlives it, however the run ends: even by SIGKILL, which no handler
 * of the run sees (tsx, behind `npm start`, SIGKILLs its child when the child is slow to acknowledge a signal it
 * relayed; an operator may `kill -9` it).
 *
 * On first use, a small watcher process is started: in its own process group (a signal sent to the run's group does not
 * reach it) and deaf to SIGINT, SIGTERM and SIGHUP. The run tells it, one line each on the watcher's stdin, what to kill
 * when the run ends: `group <pgid>` (an emulator: gcloud's wrapper and its Java child share a group), `pid <pid>` (a
 * functions-framework host), `path <dir>` (a directory of secret files, removed), and `forget group|pid|path …` once
 * that was stopped (or removed) cleanly. The write end of that pipe is
 * held by the run alone (Node opens it close-on-exec), so when the run's process ends, for any reason, the watcher
 * reads end-of-file, sends SIGTERM to everything still registered, SIGKILL to what is left after 5 s, and exits.
 *
 * The graceful path (local/shutdown.ts, each handle's `stop()`) stops things itself; the watcher only acts on what
 * that path did not reach.
 */
import { spawn, type ChildProcess } from 'node:child_process';

/** The watcher, as plain JavaScript run by `node -e` (no loader, no TypeScript: it must start fast and stand alone). */
const WATCHER = `
const fs = require('fs');
const targets = new Set();
const paths = new Set();
for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(s, () => {});
let buf = '';
let reaping = false;
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => {
  buf += chunk;
  let nl;
  while ((nl = buf.indexOf('\\n')) >= 0) {
    const line = buf.slice(0, nl);
    buf = buf.slice(nl + 1);
    const p = /^(forget )?path (\\/.+)$/.exec(line);
    if (p) { if (p[1]) paths.delete(p[2]); else paths.add(p[2]); continue; }
    const m = /^(forget )?(group|pid) (\\d+)$/.exec(line);
    if (!m || Number(m[3]) <= 1) continue;
    const target = m[2] === 'group' ? -Number(m[3]) : Number(m[3]);
    if (m[1]) targets.delete(target); else targets.add(target);
  }
});
const alive = (t) => { try { process.kill(t, 0); return true; } catch { return false; } };
const send = (signal) => { for (const t of targets) { try { process.kill(t, signal); } catch {} } };
const reap = () => {
  if (reaping) return;
  reaping = true;
  for (const p of paths) { try { fs.rmSync(p, { recursive: true, force: true }); } catch {} }
  send('SIGTERM');
  const until = Date.now() + 5000;
  const check = () => {
    if (![...targets].some(alive)) process.exit(0);
    if (Date.now() > until) { send('SIGKILL'); process.exit(0); }
    setTimeout(check, 100);
  };
  check();
};
process.stdin.on('end', reap);
process.stdin.on('error', reap);
`;

let watcher: ChildProcess | undefined;

function tell(line: string): void {
  if (!watcher) {
    watcher = spawn(process.execPath, ['-e', WATCHER], {
      detached: true,
      stdio: ['pipe', 'ignore', 'ignore'],
      env: { PATH: process.env.PATH ?? '' },
    });
    watcher.on('error', () => undefined);
    watcher.stdin?.on('error', () => undefined);
    // Neither the watcher nor its pipe keeps this process alive.
    watcher.unref();
    (watcher.stdin as { unref?: () => void } | null)?.unref?.();
  }
  watcher.stdin?.write(`${line}\n`);
}

/** Kill this process group (`pgid`) when this process ends, unless `release`d first. */
export function guardGroup(pgid: number): void {
  tell(`group ${pgid}`);
}

/** Kill this process (`pid`) when this process ends, unless `release`d first. */
export function guardProcess(pid: number): void {
  tell(`pid ${pid}`);
}

/** Remove this directory (a local run's secret files) when this process ends, unless `forgetPath`ed first. */
export function guardPath(dir: string): void {
  tell(`path ${dir}`);
}

/** The directory was removed cleanly. */
export function forgetPath(dir: string): void {
  if (watcher) tell(`forget path ${dir}`);
}

/** The group or process was stopped cleanly: the watcher must not signal it (its number may be reused). */
export function release(kind: 'group' | 'pid', n: number): void {
  if (watcher) tell(`forget ${kind} ${n}`);
}
