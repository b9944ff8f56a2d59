/**
 * The local Segment server in a child process (`currents segment-server --ids-only`), for benchmarks: its JSON parsing
 * and bookkeeping then do not share the event loop (or the core) with what is measured; counts come from its
 * `/__admin/stats`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { DEFAULT_REGION, type SegmentRegion } from '../shared/regions';

export interface ServerStats {
  requests: number;
  acceptedUnique: number;
  duplicates: number;
  bytesReceived: number;
  requestsByStatus: Record<string, number>;
}

export async function startServerProcess(
  writeKey: string,
  region: SegmentRegion = DEFAULT_REGION,
): Promise<{ url: string; child: ChildProcess }> {
  const bin = join(__dirname, '..', 'bin', 'currents.js');
  const child = spawn(
    process.execPath,
    [bin, 'segment-server', '--port', '0', '--region', region, '--ids-only', '--write-key', writeKey],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const url = await new Promise<string>((resolve, reject) => {
    const rl = createInterface({ input: child.stdout! });
    rl.on('line', (line) => {
      const m = /listening on (http:\/\/[\d.]+:\d+)/.exec(line);
      if (m) resolve(m[1]!);
    });
    child.once('exit', (code) => reject(new Error(`segment server exited (${code})`)));
  });
  return { url, child };
}

export async function admin(url: string, path: string, method = 'GET'): Promise<ServerStats> {
  return (await (await fetch(`${url}/__admin/${path}`, { method })).json()) as ServerStats;
}
