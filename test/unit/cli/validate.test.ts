import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { environmentsOfModule } from '../../../common/definitions';
import { CATALOG, SELECTORS, typesOfSelector } from '../../../shared/catalog';

const bin = join(__dirname, '..', '..', '..', 'bin', 'currents.js');
const run = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8' });

describe('currents validate', () => {
  it('passes on the fixture definitions (the default in tests) and prints a table of what is defined', () => {
    const r = run('validate');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^env\s+connector\s+region\s+credential\s+events\s+grace/m);
    expect(r.stdout).toMatch(/^prod\s+messaging-us\s+us\s+oauth\s+\d+\s+72h/m);
    expect(r.stdout).toMatch(/OK: 2 environment\(s\), 5 connector\(s\), all valid\./);
  });

  it('warns (without failing) on a write-key connector without a source check: a revoked key would be invisible', () => {
    const r = run('validate');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^2 warnings:$/m);
    for (const c of ['email-eu', 'journeys-us']) {
      expect(r.stdout).toContain(
        `  - connector '${c}' of environment 'prod': write key without a source check (segment.sourceId): a revoked write key would be invisible: Segment answers 200`,
      );
    }
    // dev's write-key connector names its source; OAuth connectors need no check.
    expect(r.stdout).not.toMatch(/of environment 'dev': write key without a source check/);
    expect(r.stdout).not.toMatch(/connector 'messaging-us' .*write key without a source check/);
  });

  it('fails on broken definitions with every problem listed', () => {
    const r = run('validate', join(__dirname, '..', '..', 'fixtures', 'broken-connectors.ts'));
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
      expect(r.stderr).toContain(`connector '${connector}' of environment 'broken': `);
    }
  });

  it('reports every problem of every connector in one run, each in the product words with what to do', () => {
    const r = run('validate', join(__dirname, '..', '..', 'fixtures', 'many-problems.ts'));
    expect(r.status).toBe(1);
    const lines = r.stderr.split('\n').filter((l) => l.startsWith('  - '));
    const a = "connector 'braze-email-engagement-europe-west-01' of environment 'dev'";
    const groups = `groups: ${SELECTORS.join(', ')}; docs/events.md lists the ${CATALOG.length} types`;
    expect(lines).toEqual([
      "  - environment 'dev': project must be a Google Cloud project id: 6 to 30 lowercase letters, digits and hyphens, starting with a letter and not ending with a hyphen (you wrote 'Bad_Project'); the project this environment deploys to",
      "  - environment 'dev': region is required; did you mean `region` (you wrote `regoin`)? Rename it",
      `  - ${a}: contactEmail must be an email address such as team@example.com (you wrote 'not-an-email'); it hears about credential failures, expiry and dead letters`,
      `  - ${a}: name is 37 characters long; a connector name may have at most 21, so that every resource named after it fits GCP's limits (the service account id cs-<name>-sched may have at most 30): shorten it`,
      `  - ${a}: events: 'users.messages.email.Opne' is neither an exportable event type nor a group; did you mean \`users.messages.email.Open\`? Fix or remove it (${groups})`,
      "  - connector 'c' of environment 'dev': maxInstances must be a whole number from 1 to 1000 (you wrote 0); the most function instances the connector runs at once",
      "  - connector 'd' of environment 'dev': contactEmail is required; did you mean `contactEmail` (you wrote `contactemail`)? Rename it",
      "  - connector 'd' of environment 'dev': segment.credential.kind must be 'writeKey' or 'oauth' (you wrote 'writekey'). Did you mean `writeKey`?",
      `  - connector 'd' of environment 'dev': events: 'push' is neither an exportable event type nor a group; did you mean \`pushnotification\` (the ${typesOfSelector('pushnotification').length} pushnotification types), \`users.messages.pushnotification.Open\` or \`users.messages.pushnotification.Send\`? Fix or remove it (${groups})`,
      "  - connector 'e' of environment 'dev': segment.region must be 'us' or 'eu' (you wrote 'EU'); the region of the Segment workspace: a write key sent to the wrong region is silently lost. Did you mean `eu`?",
      "  - connector 'e' of environment 'dev': credentialGracePeriod must be a duration from 1h to 7d, such as 48h: a number followed by m, h or d (you wrote '30m'); how long events are held when the credential fails before they are dropped (counted and reported)",
      "  - connector 'e' of environment 'dev': deadLetterMaxAttempts must be a whole number from 5 to 100 (you wrote '10'); deliveries of a message before it is dead-lettered (Pub/Sub's limits)",
      "  - connector 'e' of environment 'dev': concurrency must be a whole number from 1 to 80 (you wrote 81); pushes one function instance handles at once",
      "  - connector 'e' of environment 'dev': storage.bucket must be a Cloud Storage bucket name without gs://: 3 to 222 lowercase letters, digits, '-', '_' and '.' (you wrote 'gs://exports')",
      "  - connector 'e' of environment 'dev': unknown field `segment.credential.writeKey`: credential values never go in code (they live in the connector's Secret Manager secret); remove it",
      "  - connector 'e' of environment 'dev': unknown field `colour`: remove it (the fields here are name, displayName, contactEmail, workspace, segment, events, includeAnonymousUsers, exportUnknownTypes, eventNames, fields, credentialGracePeriod, deadLetterMaxAttempts, maxInstances, concurrency, retention, storage, backfill, location, allowOutsideEu)",
      "  - connector 'e' of environment 'dev': eventNames renames 'users.messages.webhook.Sendd', which is not an exportable event type; did you mean `users.messages.webhook.Send`? Fix the type or remove the rename",
      "  - connector 'e' of environment 'dev': fields.redact: 'emial_address' is not a Currents field of any exportable type; did you mean `email_address`? Fix or remove it",
      "  - connector 'c' of environment 'dev': events overlap connector 'b' of the same Braze workspace 'shared' on 1 event type(s): users.messages.email.Open. Braze sends each event of a workspace to only one of its Segment connectors, so one of the two would silently miss these events: remove them from one of the connectors",
    ]);
    expect(r.stderr).toContain(`${lines.length} problems found:`);
    expect(r.stderr).not.toContain('do-not-echo-me');
  });

  it('validates a file that exports one environment under its own name', () => {
    const r = run('validate', join(__dirname, '..', '..', 'fixtures', 'definitions', 'dev.ts'));
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^dev\s+email-eu\s+eu\s+writeKey/m);
    expect(r.stdout).toMatch(/OK: 1 environment\(s\), 2 connector\(s\), all valid\./);
  });

  it('says there is nothing to validate, and fails, for a module that defines no environment', () => {
    const dir = mkdtempSync(join(tmpdir(), 'currents-validate-'));
    for (const [file, text] of [
      ['empty.ts', ''],
      ['none.ts', 'export const environments = [];\n'],
      ['other.ts', 'export const settings = { retries: 3 };\n'],
    ]) {
      const path = join(dir, file!);
      writeFileSync(path, text!);
      const r = run('validate', path);
      expect(r.status).toBe(1);
      expect(r.stdout).toBe('');
      expect(r.stderr).toBe(
        `Nothing to validate: ${path} defines no environment; export them as 'environments' (an array), as the default export, or as one named export per environment (export const dev = {...}).\n`,
      );
    }
  });

  it('takes the environments a module exports under any name', () => {
    const dev = { name: 'dev', connectors: [] };
    const prod = { name: 'prod', connectors: [] };
    expect(environmentsOfModule({ environments: [dev, prod], dev, prod })).toEqual([dev, prod]);
    expect(environmentsOfModule({ default: [prod] })).toEqual([prod]);
    expect(environmentsOfModule({ default: dev, helper: 3 })).toEqual([dev]);
    expect(environmentsOfModule({ dev, prod, settings: { retries: 3 } })).toEqual([dev, prod]);
    expect(environmentsOfModule([dev, 'broken'])).toEqual([dev, 'broken']); // the schema reports the bad element
    expect(environmentsOfModule(dev)).toEqual([dev]); // a JSON file holding one environment
    expect(environmentsOfModule({ environments: [] })).toEqual([]);
    expect(environmentsOfModule({})).toEqual([]);
  });

  it('names a missing definitions file and exits 2', () => {
    const r = run('validate', 'no/such/file.ts');
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/no connector definitions at .*no\/such\/file\.ts/);
  });
});
