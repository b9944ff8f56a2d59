/**
 * CPU time of the processes a benchmark runs, from Linux's /proc (user + system, every thread): of one process, or of a
 * process group (the emulators: gcloud's wrapper and the JVM it starts). Elsewhere than Linux, undefined.
 */
import { readdirSync, readFileSync } from 'node:fs';

const TICKS_PER_SECOND = 100; // USER_HZ: 100 on every Linux Node supports

/** utime + stime (ms) and the process group of /proc/<pid>/stat; undefined once the process is gone. */
function stat(pid: number | string): { cpuMs: number; group: number } | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name (field 2) is in parentheses and may hold spaces: the fields are counted after its last `)`.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14 and 15)
  return { cpuMs: (ticks * 1000) / TICKS_PER_SECOND, group: Number(fields[2]) };
}

/** CPU milliseconds used so far by the process `pid`. */
export function processCpuMs(pid: number): number | undefined {
  if (process.platform !== 'linux') return undefined;
  return stat(pid)?.cpuMs;
}

/** CPU milliseconds used so far by the living processes of the group `group`. */
export function groupCpuMs(group: number): number | undefined {
  if (process.platform !== 'linux') return undefined;
  let total = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const s = stat(entry);
    if (s?.group === group) total += s.cpuMs;
  }
  return total;
}

/** CPU milliseconds used so far by this process. */
export const ownCpuMs = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};
