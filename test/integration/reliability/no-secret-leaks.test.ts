/**
 * Secrets never leak: the local path runs with recognisable credential values (a write key containing SECRETCANARY,
 * an OAuth app's RSA private key, the Public API token, and a malformed secret value) through normal delivery, credential
 * failures (a rotated write key seen by the source check, a refused OAuth token), a secret
 * that does not fit its kind, dead letters and probes; then every function log line, every HTTP answer of the
 * functions, every dead letter, the operator commands' output and the synthesized Terraform JSON are searched for them.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { App } from 'cdktf';
import { createClients, leaseAll, acknowledge } from '../../../cli/ops/dead-letter-queue';
import { defineEnvironments } from '../../../infra/app';
import { emulatorsFromEnv } from '../../../local/emulators';
import { startFunctionHost } from '../../../local/function-host';
import { startLocalStack, type LocalStack } from '../../../local/stack';
import { pushEnvelope } from '../../../runtime/core/push';
import { eventsEnvelope, sampleEvent } from '../../../common/samples';
import { loadEnvironments, type EnvironmentDefinition } from '../../../shared/connector';
import { ENV_VARS } from '../../../shared/runtime-config';

jest.setTimeout(120_000);

const BIN = join(__dirname, '..', '..', '..', 'bin', 'currents.js');
const BAD_SECRET = 'SECRETCANARY-not a write key\nsecond line';

/** The forms a secret could leak in: as is, base64, the HTTP Basic header value, JSON-escaped, each PEM body line. */
function forms(secret: string): string[] {
  const out = new Set([secret, Buffer.from(secret).toString('base64'), Buffer.from(`${secret}:`).toString('base64')]);
  out.add(JSON.stringify(secret).slice(1, -1));
  for (const line of secret.split('\n')) if (line.length >= 16 && !line.startsWith('-----')) out.add(line.trim());
  return [...out];
}

function run(args: string[], env: Record<string, string>): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, ...env } });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (out += b.toString()));
    child.on('error', reject);
    child.on('close', () => resolve(out));
  });
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? filesUnder(p) : [p];
  });
}

describe('no credential value leaks', () => {
  const projectId = `leak-${randomBytes(4).toString('hex')}`;
  const definition: EnvironmentDefinition = {
    name: 'leaktest',
    project: projectId,
    region: 'europe-west1',
    connectors: [
      {
        name: 'leak-wk',
        displayName: 'write key',
        contactEmail: 'team@example.com',
        workspace: 'ws-a',
        segment: { region: 'eu', credential: { kind: 'writeKey' }, sourceId: 'src_leak' },
        events: ['email'],
      },
      {
        name: 'leak-oauth',
        displayName: 'oauth',
        contactEmail: 'team@example.com',
        workspace: 'ws-b',
        segment: { region: 'us', credential: { kind: 'oauth', appId: 'app-leak', keyId: 'key-leak' } },
        events: ['canvas'],
      },
    ],
  };
  const environment = loadEnvironments([definition])[0]!;
  let stack: LocalStack;
  const logs: string[] = [];
  const answers: string[] = [];

  beforeAll(async () => {
    stack = await startLocalStack({
      environment,
      emulators: emulatorsFromEnv(),
      projectId,
      credentialLabel: 'SECRETCANARY',
      provision: { minimumBackoffSeconds: 1, maximumBackoffSeconds: 2, maxDeliveryAttempts: 100 },
      onLog: (_c, line) => logs.push(line),
    });
  });
  afterAll(() => stack.stop());

  it('appears in no log line, HTTP answer, dead letter, command output or Terraform JSON', async () => {
    const wk = stack.connector('leak-wk');
    const oauth = stack.connector('leak-oauth');
    const secrets = [
      stack.credentials.get('leak-wk')!.secretValue,
      stack.credentials.get('leak-oauth')!.secretValue,
      BAD_SECRET,
      stack.publicApiToken,
    ];
    expect(secrets[0]).toMatch(/SECRETCANARY/);
    expect(secrets[1]).toMatch(/BEGIN PRIVATE KEY/);
    expect(secrets[3]).toMatch(/SECRETCANARY/);
    type Host = { url: string; headers: Readonly<Record<string, string>> };
    const push = async ({ url, headers }: Host, events: unknown[], id: string) => {
      const res = await fetch(`${url}/`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify(pushEnvelope(eventsEnvelope(events), {}, id)),
      });
      answers.push(`${res.status} ${await res.text()}`);
      return res.status;
    };
    const probe = async ({ url, headers }: Host) => {
      const res = await fetch(`${url}/probe`, { method: 'POST', headers });
      answers.push(await res.text());
    };

    // Normal delivery, with a dead letter beside it.
    const invalid = sampleEvent('users.messages.email.Open', { time: 'soon' }, 1);
    expect(await push(wk.host, [sampleEvent('users.messages.email.Open', {}, 2), invalid], 'm1')).toBe(204);
    expect(await push(oauth.host, [sampleEvent('users.canvas.Entry', {}, 3)], 'm2')).toBe(204);
    expect(stack.servers.eu.accepted()).toHaveLength(1);
    expect(stack.servers.us.accepted()).toHaveLength(1);

    // Credential failures (the write key rotated away, seen by the source check; a refused OAuth token), parked events,
    // probes while failing.
    stack.servers.eu.sources.rotateWriteKey('src_leak');
    await probe(wk.host);
    stack.servers.us.faults.revokeCredentials();
    stack.servers.us.faults.expireTokens();
    expect(await push(wk.host, [sampleEvent('users.messages.email.Open', {}, 4)], 'm3')).toBe(204);
    expect(await push(oauth.host, [sampleEvent('users.canvas.Entry', {}, 5)], 'm4')).toBe(204);
    await probe(wk.host);
    await probe(oauth.host);
    expect(logs.some((l) => /"event":"credential_failure"/.test(l))).toBe(true);

    // A secret value that does not fit the declared kind, read by another instance of the write-key function.
    const badLines: string[] = [];
    const bad = await startFunctionHost({
      env: { ...wk.env, [ENV_VARS.secretSource]: 'env', [ENV_VARS.secretValue]: BAD_SECRET },
      onLine: (l) => badLines.push(l),
    });
    try {
      stack.servers.eu.sources.rotateWriteKey('src_leak', { newKey: secrets[0] });
      expect(await push(bad, [sampleEvent('users.messages.email.Open', {}, 6)], 'm5')).toBe(204);
      await probe(bad);
    } finally {
      await bad.stop();
    }
    logs.push(...badLines);
    expect(badLines.some((l) => /credential/.test(l))).toBe(true);

    // Recovery and drain.
    stack.servers.us.faults.restoreCredentials();
    await probe(wk.host);
    await probe(oauth.host);

    // Operator commands.
    const dir = mkdtempSync(join(tmpdir(), 'leak-'));
    const defs = join(dir, 'defs.json');
    writeFileSync(defs, JSON.stringify({ environments: [definition] }));
    const env = { ...stack.emulators.env };
    const outputs = [
      await run(['status', '--env', 'leaktest', '--json', defs], env),
      await run(['dead-letters', 'list', '--env', 'leaktest', '--connector', 'leak-wk', defs], env),
      await run(['dead-letters', 'show', invalid.id, '--env', 'leaktest', '--connector', 'leak-wk', defs], env),
    ];
    expect(outputs[0]).toMatch(/"connector": "leak-wk"/);
    expect(outputs[2]).toMatch(invalid.id);

    // Dead letters.
    const clients = await createClients(projectId);
    const letters = [];
    for (const l of stack.connectors) {
      const sub = `projects/${projectId}/subscriptions/${l.names.deadLetterSubscription}`;
      const got = await leaseAll(clients.subscriber, sub, { leaseSeconds: 30 });
      await acknowledge(clients.subscriber, sub, got);
      letters.push(...got);
    }
    await Promise.all([clients.subscriber.close(), clients.publisher.close()]);
    expect(letters.length).toBeGreaterThanOrEqual(1);
    const letterText = letters.map((l) => `${JSON.stringify(l.attributes)} ${l.data.toString()}`);

    // Terraform JSON of the same environment (every file cdktf writes).
    const outdir = mkdtempSync(join(tmpdir(), 'leak-synth-'));
    const app = new App({ outdir });
    defineEnvironments(app, [definition]);
    app.synth();
    const synthText = filesUnder(outdir)
      .filter((f) => f.endsWith('.json'))
      .map((f) => readFileSync(f, 'utf8'));
    expect(synthText.join('').length).toBeGreaterThan(1000);

    const haystacks: [string, string[]][] = [
      ['function logs', logs],
      ['HTTP answers', answers],
      ['command output', outputs],
      ['dead letters', letterText],
      ['Terraform JSON', synthText],
    ];
    expect(logs.length).toBeGreaterThan(10);
    const leaks: string[] = [];
    for (const [where, texts] of haystacks) {
      for (const secret of secrets) {
        for (const form of forms(secret)) {
          if (texts.some((t) => t.includes(form))) leaks.push(`${where}: ${form.slice(0, 12)}…`);
        }
      }
      // The label alone must not show either (it only ever appears inside a write key or the bad value).
      if (texts.some((t) => t.includes('SECRETCANARY'))) leaks.push(`${where}: SECRETCANARY`);
    }
    expect(leaks).toEqual([]);
  });
});
