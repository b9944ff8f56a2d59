import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const bin = join(__dirname, '..', '..', 'bin', 'currents.js');
const run = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8' });

describe('currents validate', () => {
  it('passes on the example definitions and prints a table of what is defined', () => {
    const r = run('validate');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^env\s+connector\s+region\s+credential\s+events\s+grace/m);
    expect(r.stdout).toMatch(/^prod\s+messaging-us\s+us\s+oauth\s+29\s+72h/m);
    expect(r.stdout).toMatch(/OK: 2 environment\(s\), 5 connector\(s\), all valid\./);
  });

  it('fails on broken definitions with every problem listed', () => {
    const r = run('validate', join(__dirname, '..', 'fixtures', 'broken-connectors.ts'));
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/6 problems found:/);
    for (const connector of [
      'typo-events',
      'bad-email',
      'bad-region',
      'dup',
      'overlap-b',
      'a-connector-name-that-is-far-too-long',
    ]) {
      expect(r.stderr).toContain(`connector '${connector}'`);
    }
  });

  it('names a missing definitions file and exits 2', () => {
    const r = run('validate', 'no/such/file.ts');
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/no connector definitions at .*no\/such\/file\.ts/);
  });
});
