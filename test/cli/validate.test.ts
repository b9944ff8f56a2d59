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

  it('warns (without failing) on a write-key connector without a source check: a revoked key would be invisible', () => {
    const r = run('validate');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^2 warnings:$/m);
    for (const c of ['email-eu', 'journeys-us']) {
      expect(r.stdout).toContain(
        `  - environment 'prod', connector '${c}', field 'segment.sourceId': write key without a source check (segment.sourceId): a revoked write key would be invisible: Segment answers 200`,
      );
    }
    // dev's write-key connector names its source; OAuth connectors need no check.
    expect(r.stdout).not.toMatch(/environment 'dev'.*segment\.sourceId/);
    expect(r.stdout).not.toMatch(/messaging-us', field 'segment\.sourceId/);
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
