/**
 * `currents plan-summary`: the Markdown of the example definitions, and the field-level diff against a git ref (a
 * scratch repository committed, then edited) and against an earlier synth output directory.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'cdktf';
import { defineEnvironments } from '../../../infra/app';
import { planSummary } from '../../../infra/summary';
import { loadEnvironments } from '../../../shared/connector';
import { connector } from '../../fixtures/connector';
import { fixtureArchives } from '../../support/infra/helpers';

const ROOT = join(__dirname, '..', '..', '..');
const bin = join(ROOT, 'bin', 'currents.js');
const run = (cwd: string, ...args: string[]) =>
  spawnSync(process.execPath, [bin, 'plan-summary', ...args], { cwd, encoding: 'utf8' });
const git = (cwd: string, ...args: string[]) => {
  const r = spawnSync('git', args, { cwd, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  return r.stdout;
};

// A scratch repository: the schema and the fixture definitions committed, then a pull request's edits on top.
const repo = mkdtempSync(join(tmpdir(), 'currents-summary-repo-'));
cpSync(join(ROOT, 'shared'), join(repo, 'shared'), { recursive: true });
const FIXTURE = join('test', 'fixtures', 'definitions');
cpSync(join(ROOT, FIXTURE), join(repo, FIXTURE), { recursive: true });
symlinkSync(join(ROOT, 'node_modules'), join(repo, 'node_modules'));
writeFileSync(join(repo, '.gitignore'), 'node_modules\n');
git(repo, 'init', '-q');
git(repo, '-c', 'user.email=t@example.com', '-c', 'user.name=t', 'add', '.');
git(repo, '-c', 'user.email=t@example.com', '-c', 'user.name=t', 'commit', '-q', '-m', 'base');
const prodFile = join(repo, FIXTURE, 'prod.ts');
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
const devFile = join(repo, FIXTURE, 'dev.ts');
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
const definitions = join(repo, FIXTURE, 'index.ts');

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
      '| `engagement-us` | us | oauth | behaviors (4), campaigns (3), canvas (9, 2 new), pushnotification (6, 1 new), sms (9, 1 new), contentcard (5) = 36 types | 72h | yes | platform-team@example.com |',
    );
    // A group exports the types added to it since the first catalogue: the summary names them.
    expect(r.stdout).toContain(
      '- ℹ️ `engagement-us`: its groups also export 4 type(s) new in Currents v10: `users.canvas.costep.Send`, ' +
        '`users.canvasstep.Progression`, `users.messages.pushnotification.Retry`, `users.messages.sms.Retry` (Braze sends ' +
        'them only if its Current selects them; name types instead of the group to leave them out)',
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
        /^- workspace `3f1c2a9e-5b7d-4e21-9a0c-8d6f4b2e1a77`: https:\/\/europe-west1-doors-project\.cloudfunctions\.net\/currents-door-w3f1c2a9e-5b7d-[a-z0-9]{6}$/,
      ),
    ]);
    expect(out).toContain(
      '(output `door-acme-us-url`, token secret `currents-door-acme-us-token`), feeds `email`, `journeys`; tick 24 box(es):',
    );
    expect(out).toContain(
      '  - for `email` (12): Email Aborted, Email Bounced, Email Link Clicked, Email Deferred, Email Delivered, ' +
        'Email Marked as Spam, Email Opened, Email Retried, Email Sent, Email Soft Bounced, Email Unsubscribed, SMS Sent\n',
    );
    expect(out).toContain(
      '  - for `journeys` (12): Campaign Aborted, Campaign Converted, Campaign Control Group Entered, Canvas Aborted, ' +
        'Canvas Converted, Canvas Entered, Canvas Exited (matched audience), Canvas Exited (performed event), ' +
        'Canvas Experiment Step Converted, Canvas Experiment Step Split Entered, Canvas Content Optimizer Step Sent, ' +
        'Canvas Step Progressed\n',
    );
    expect(out).toContain(
      "  - ⚠️ leave the other 72 exportable event type(s) unticked in the Current of 'acme-us': no connector of the " +
        'workspace selects them',
    );
    expect(out).toMatch(/feeds `push-eu`; tick 6 box\(es\):\n {2}- for `push-eu` \(6\): Push Notification Aborted, /);
    // No per-connector receiver any more.
    expect(out).not.toMatch(/receiver-url|-receiver`/);
  });

  it('lists connectors added, removed and changed (field by field) against a git ref', () => {
    const r = run(repo, definitions, '--base', 'HEAD');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('Against git ref `HEAD`: **1 added, 2 changed, 1 removed**, 2 unchanged.');
    expect(r.stdout).toMatch(/➕ \*\*added\*\* `sms-eu` \(SMS \(dev\)\): eu, sms \(9, 1 new\) = 9 types/);
    expect(r.stdout).toMatch(/➖ \*\*removed\*\* `email-eu`: its topics/);
    expect(r.stdout).toContain('- ✏️ **changed** `journeys-us`:\n  - `events`: +`email` (16 → 27 types: +11, −0)');
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
    const { environments } = require(join(ROOT, FIXTURE)) as { environments: unknown[] };
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

describe('the plan summary, residency and new secrets', () => {
  it('shows where each connector runs: its own location, the EU, or outside the EU when allowed', () => {
    expect(run(ROOT, '--no-resources').stdout).toContain(
      'Where each connector runs: `email-eu` in europe-west1 (its own location, EU); `messaging-us` in us-central1; ' +
        '`journeys-us` in us-central1.',
    );
    const [env] = loadEnvironments([
      {
        name: 'us',
        project: 'acme-us',
        region: 'us-east1',
        connectors: [
          { ...connector('eu-here'), allowOutsideEu: true },
          { ...connector('eu-away'), location: 'europe-west4' },
        ],
      },
    ]);
    expect(planSummary([env!], { resources: false })).toContain(
      'Where each connector runs: `eu-here` in us-east1 (outside the EU: allowOutsideEu); ' +
        '`eu-away` in europe-west4 (its own location, EU).',
    );
  });

  it('says that an added connector deploys without its secrets, and parks until they are there', () => {
    const r = run(repo, definitions, '--base', 'HEAD', '--no-resources');
    expect(r.stdout).toContain(
      '  - after the deploy: put its credential into `currents-sms-eu-segment-credential` and make a token for its ' +
        "workspace's door if it has none; the deploy does not wait for them, and until then it parks what arrives (alerting its contact)",
    );
  });
});
