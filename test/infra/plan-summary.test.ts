/**
 * `currents plan-summary`: the Markdown of the example definitions, and the field-level diff against a git ref (a
 * scratch repository committed, then edited) and against an earlier synth output directory.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'cdktf';
import { defineEnvironments } from '../../infra/app';
import { fixtureArchives } from './helpers';

const ROOT = join(__dirname, '..', '..');
const bin = join(ROOT, 'bin', 'currents.js');
const run = (cwd: string, ...args: string[]) =>
  spawnSync(process.execPath, [bin, 'plan-summary', ...args], { cwd, encoding: 'utf8' });
const git = (cwd: string, ...args: string[]) => {
  const r = spawnSync('git', args, { cwd, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  return r.stdout;
};

// A scratch repository: the schema and the example definitions committed, then a pull request's edits on top.
const repo = mkdtempSync(join(tmpdir(), 'currents-summary-repo-'));
cpSync(join(ROOT, 'shared'), join(repo, 'shared'), { recursive: true });
cpSync(join(ROOT, 'connectors'), join(repo, 'connectors'), { recursive: true });
symlinkSync(join(ROOT, 'node_modules'), join(repo, 'node_modules'));
writeFileSync(join(repo, '.gitignore'), 'node_modules\n');
git(repo, 'init', '-q');
git(repo, '-c', 'user.email=t@example.com', '-c', 'user.name=t', 'add', '.');
git(repo, '-c', 'user.email=t@example.com', '-c', 'user.name=t', 'commit', '-q', '-m', 'base');
const prodFile = join(repo, 'connectors', 'prod.ts');
writeFileSync(
  prodFile,
  readFileSync(prodFile, 'utf8')
    .replace("region: 'us-central1',\n", "region: 'us-central1',\n  deleteProtection: false,\n")
    .replace("events: ['behaviors', 'campaigns', 'canvas'],", "events: ['behaviors', 'campaigns', 'canvas', 'email'],")
    .replace(
      "credentialGracePeriod: '72h',\n      maxInstances: 20,",
      "credentialGracePeriod: '96h',\n      maxInstances: 20,",
    )
    .replace(/ {4}\{\n {6}name: 'email-eu',[\s\S]*?\n {4}\},\n/, ''),
);
const devFile = join(repo, 'connectors', 'dev.ts');
writeFileSync(
  devFile,
  readFileSync(devFile, 'utf8').replace(
    '  ],\n});',
    `    {
      name: 'sms-eu',
      displayName: 'SMS (dev)',
      contactEmail: 'sms@example.com',
      workspace: 'braze-workspace-dev-sms',
      segment: { region: 'eu', credential: { kind: 'writeKey' } },
      events: ['sms'],
    },
  ],
});`,
  ),
);
const definitions = join(repo, 'connectors', 'index.ts');

describe('currents plan-summary', () => {
  it('summarizes every environment: region, credential, events, grace, anonymous flag, contact and resources', () => {
    const r = run(ROOT);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^### Environment `prod`$/m);
    expect(r.stdout).toContain(
      'Project `replace-me-prod`, region `us-central1`, state GCS `replace-me-prod-tfstate/currents-segment`, ' +
        '3 connector(s), Firestore delete protection **on**.',
    );
    expect(r.stdout).toContain(
      'Project `replace-me-dev`, region `europe-west1`, state local, 2 connector(s), Firestore delete protection **off**.',
    );
    expect(r.stdout).toContain(
      '| `engagement-us` | us | oauth | behaviors (4), campaigns (3), canvas (7), pushnotification (5), sms (8), contentcard (5) = 32 types | 72h | yes | platform-team@example.com |',
    );
    expect(r.stdout).toMatch(
      /\*\*`journeys-us`\*\* \(\d+ resources\): .*google_cloudfunctions2_function \(`currents-journeys-us`\)/,
    );
    expect(r.stdout).not.toMatch(/change \|/);
    // A write key without a source check is said plainly; dev's email-eu names its source.
    expect(r.stdout).toContain(
      '- ⚠️ `journeys-us`: write key without a source check (segment.sourceId): a revoked write key would be invisible: Segment answers 200',
    );
    expect(r.stdout).not.toMatch(/`messaging-us`: write key without/);
    expect(r.stdout).not.toMatch(/`email-eu`: write key without[^\n]*\n[\s\S]*### Environment `prod`/);
  });

  it('shows one door URL per Braze workspace, with its output, its token secret and the exact boxes to tick', () => {
    const r = run(ROOT, join(ROOT, 'test', 'fixtures', 'workspaces.ts'));
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const out = r.stdout;
    expect(out).toMatch(/\*\*Braze: one Custom Currents Export per workspace\*\* \(2\)/);
    const urls = out.match(/^- workspace `[^`]+`: https:\/\/\S+/gm)!;
    expect(urls).toEqual([
      '- workspace `acme-us`: https://us-central1-doors-project.cloudfunctions.net/currents-door-acme-us',
      expect.stringMatching(
        /^- workspace `3f1c2a9e-5b7d-4e21-9a0c-8d6f4b2e1a77`: https:\/\/us-central1-doors-project\.cloudfunctions\.net\/currents-door-w3f1c2a9e-5b7d-[a-z0-9]{6}$/,
      ),
    ]);
    expect(out).toContain(
      '(output `door-acme-us-url`, token secret `currents-door-acme-us-token`), feeds `email`, `journeys`; tick 20 box(es):',
    );
    expect(out).toContain(
      '  - for `email` (10): Email Aborted, Email Bounced, Email Link Clicked, Email Delivered, Email Marked as Spam, ' +
        'Email Opened, Email Sent, Email Soft Bounced, Email Unsubscribed, SMS Sent\n',
    );
    expect(out).toContain(
      '  - for `journeys` (10): Campaign Aborted, Campaign Converted, Campaign Control Group Entered, Canvas Aborted, ' +
        'Canvas Converted, Canvas Entered, Canvas Exited (matched audience), Canvas Exited (performed event), ' +
        'Canvas Experiment Step Converted, Canvas Experiment Step Split Entered\n',
    );
    expect(out).toContain(
      "  - ⚠️ leave the other 35 exportable event type(s) unticked in the Current of 'acme-us': no connector of the " +
        'workspace selects them',
    );
    expect(out).toMatch(/feeds `push-eu`; tick 5 box\(es\):\n {2}- for `push-eu` \(5\): Push Notification Aborted, /);
    // No per-connector receiver any more.
    expect(out).not.toMatch(/receiver-url|-receiver`/);
  });

  it('lists connectors added, removed and changed (field by field) against a git ref', () => {
    const r = run(repo, definitions, '--base', 'HEAD');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('Against git ref `HEAD`: **1 added, 2 changed, 1 removed**, 2 unchanged.');
    expect(r.stdout).toMatch(/➕ \*\*added\*\* `sms-eu` \(SMS \(dev\)\): eu, sms \(8\) = 8 types/);
    expect(r.stdout).toMatch(/➖ \*\*removed\*\* `email-eu`: its topics/);
    expect(r.stdout).toContain('- ✏️ **changed** `journeys-us`:\n  - `events`: +`email` (14 → 23 types: +9, −0)');
    expect(r.stdout).toContain('- ✏️ **changed** `messaging-us`:\n  - `credentialGracePeriod`: `72h` → `96h`');
    expect(r.stdout).toMatch(/\| `email-eu` \| eu \| writeKey \| .* \| unchanged \|/); // dev's email-eu is untouched
    // Delete protection is shown per environment, and turning it off is flagged.
    expect(r.stdout).toMatch(/^Project `replace-me-prod`, .*, Firestore delete protection \*\*off\*\*\.$/m);
    expect(r.stdout).toMatch(/^Project `replace-me-dev`, .*, Firestore delete protection \*\*off\*\*\.$/m);
    expect(r.stdout).toMatch(/^- ⚠️ environment `deleteProtection`: `true` → `false`$/m);
  });

  it('reads an earlier synth output as the base (connectors recovered from the functions’ environment)', () => {
    const outdir = mkdtempSync(join(tmpdir(), 'currents-summary-synth-'));
    mkdirSync(outdir, { recursive: true });
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { environments } = require(join(ROOT, 'connectors')) as { environments: unknown[] };
    const app = new App({ outdir });
    defineEnvironments(app, environments, fixtureArchives());
    app.synth();
    const r = run(repo, definitions, '--base', outdir, '--no-resources');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`Against synth output \`${outdir}\`: **1 added, 2 changed, 1 removed**, 2 unchanged.`);
    expect(r.stdout).not.toContain('Resources per connector');
  });

  it('names an unknown git ref', () => {
    const r = run(repo, definitions, '--base', 'no-such-ref');
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/unknown git ref 'no-such-ref'/);
  });

  it('reports invalid definitions in the Markdown and exits 1', () => {
    const r = run(ROOT, join(ROOT, 'test', 'fixtures', 'broken-connectors.ts'));
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/❌ \*\*\d+ problem\(s\) in the connector definitions\*\*/);
    expect(r.stdout).toContain(
      "- connector 'bad-email' of environment 'broken': contactEmail must be an email address such as team@example.com (you wrote 'not-an-email')",
    );
  });
});
