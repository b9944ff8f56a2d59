/** The local Cloud Storage stand-in in its own process (`currents storage-server`), so that its bytes are not counted. */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { resolve } from 'node:path';

export async function startStorageProcess(bucket: string): Promise<{ apiEndpoint: string; stop: () => void }> {
  const child = spawn(
    process.execPath,
    [resolve(__dirname, '..', 'bin', 'currents.js'), 'storage-server', '--bucket', bucket],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const first = await new Promise<string>((res, rej) => {
    const rl = createInterface({ input: child.stdout! });
    rl.once('line', res);
    child.once('exit', (code) => rej(new Error(`storage-server exited (${code})`)));
  });
  return { apiEndpoint: (JSON.parse(first) as { apiEndpoint: string }).apiEndpoint, stop: () => child.kill('SIGTERM') };
}
