import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

const bin = join(__dirname, '..', '..', '..', 'bin', 'currents.js');

describe('currents segment-server', () => {
  it('starts on a free port, prints its URL, answers, and stops on SIGTERM', async () => {
    const child = spawn(
      process.execPath,
      [
        ...[bin, 'segment-server', '--port', '0', '--region', 'eu', '--write-key', 'wk-cli'],
        ...['--source', 'src_cli:wk-cli-src', '--public-api-token', 'papi-cli'],
      ],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const lines: string[] = [];
    const url = await new Promise<string>((resolve, reject) => {
      const rl = createInterface({ input: child.stdout });
      rl.on('line', (line) => {
        lines.push(line);
        const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(line);
        if (m) resolve(m[1]!);
      });
      child.once('exit', () => reject(new Error(`exited early: ${stderr}`)));
    });
    try {
      const post = await fetch(`${url}/v1/batch`, {
        method: 'POST',
        headers: {
          authorization: 'Basic ' + Buffer.from('wk-cli:').toString('base64'),
          'content-type': 'application/json',
        },
        body: JSON.stringify({ batch: [{ type: 'track', event: 'E', userId: 'u', messageId: 'cli-1' }] }),
      });
      expect(post.status).toBe(200);
      const stats = (await (await fetch(`${url}/__admin/stats`)).json()) as Record<string, unknown>;
      expect(stats).toMatchObject({ region: 'eu', acceptedUnique: 1 });
      const events = (await (await fetch(`${url}/__admin/events`)).json()) as { events: { messageId: string }[] };
      expect(events.events.map((e) => e.messageId)).toEqual(['cli-1']);
      expect(lines.join('\n')).toContain(`GET ${url}/__admin/events`);
      const source = await fetch(`${url}/sources/src_cli`, { headers: { authorization: 'Bearer papi-cli' } });
      expect(await source.json()).toMatchObject({ data: { source: { enabled: true, writeKeys: ['wk-cli-src'] } } });
      expect(lines.join('\n')).toContain(`Public API: GET ${url}/sources/{id}  (2 source(s), 1 token(s))`);
      expect(lines.join('\n')).not.toContain('wk-cli');
      expect(lines.join('\n')).not.toContain('papi-cli');
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
    expect(stderr).toBe('');
  });

  it('refuses a region that is not us or eu, with its usage', () => {
    const r = spawnSync(process.execPath, [bin, 'segment-server', '--region', 'ap'], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--region must be us or eu, got 'ap'/);
    expect(r.stderr).toMatch(/Usage: currents segment-server/);
  });
});
