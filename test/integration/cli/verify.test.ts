/**
 * `currents verify` against the local Segment servers (Tracking API, OAuth token server, Public API over real HTTP) and
 * a Secret Manager client injected in process (there is no Secret Manager emulator: the fake implements the two calls
 * verify makes, getSecret and accessSecretVersion, with the payload shape and gRPC status codes of the real API).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../../../cli/commands/verify';
import type { VerifySecretClient } from '../../../cli/ops/verify';
import { startSegmentServer, type LocalSegmentServer } from '../../../local/segment-server';
import type { ConnectorDefinition, EnvironmentDefinition } from '../../../shared/connector';
import { doorNames } from '../../../shared/door';
import { publicApiTokenSecret, resourceNames } from '../../../shared/names';
import { ENV_VARS } from '../../../shared/runtime-config';
import { rsaKeyPair } from '../../support/delivery/helpers';

const PROJECT = 'verify-test-1';
const KEY_OK = 'wk_verify_ok_SECRETCANARY_0001';
const KEY_OLD = 'wk_verify_old_SECRETCANARY_0002';
const KEY_NOCHECK = 'wk_verify_nocheck_SECRETCANARY_0003';
const KEY_EU = 'wk_verify_eu_SECRETCANARY_0004';
const TOKEN = 'papi_verify_SECRETCANARY_0005';
const HASH_KEY = 'hash-key-of-forty-characters-SECRETCANARY';
const app = rsaKeyPair();

/** Fake Secret Manager: secrets by id, each with a latest version that is enabled, disabled, or absent. */
function fakeSecrets(initial: Record<string, { value?: string; disabled?: boolean }>) {
  const secrets = new Map(Object.entries(initial));
  const fail = (code: number, what: string) => Object.assign(new Error(`${code} ${what}`), { code });
  const id = (name: string) => /^projects\/[^/]+\/secrets\/([^/]+)/.exec(name)![1]!;
  const client: VerifySecretClient = {
    async getSecret({ name }) {
      if (!secrets.has(id(name))) throw fail(5, 'NOT_FOUND');
      return [{ name }];
    },
    async accessSecretVersion({ name }) {
      const s = secrets.get(id(name));
      if (!s || s.value === undefined) throw fail(5, 'NOT_FOUND');
      if (s.disabled) throw fail(9, 'FAILED_PRECONDITION');
      return [{ payload: { data: new TextEncoder().encode(s.value) } }];
    },
  };
  return { secrets, client };
}

const connector = (name: string, segment: ConnectorDefinition['segment']): ConnectorDefinition => ({
  name,
  displayName: name,
  contactEmail: 'team@example.com',
  workspace: `ws-${name}`,
  segment,
  events: ['email'],
});

describe('currents verify', () => {
  let us: LocalSegmentServer;
  let eu: LocalSegmentServer;
  let definitions: string;
  const wk = { kind: 'writeKey' } as const;
  const environment: EnvironmentDefinition = {
    name: 'vt',
    project: PROJECT,
    region: 'us-central1',
    connectors: [
      connector('wk-ok', { region: 'us', credential: wk, sourceId: 'src_ok' }),
      connector('wk-rotated', { region: 'us', credential: wk, sourceId: 'src_rot' }),
      connector('wk-disabled-src', { region: 'us', credential: wk, sourceId: 'src_off' }),
      connector('wk-wrong-region', { region: 'us', credential: wk, sourceId: 'src_eu' }),
      connector('wk-nocheck', { region: 'us', credential: wk }),
      connector('wk-no-secret', { region: 'us', credential: wk, sourceId: 'src_ok' }),
      connector('oauth-ok', { region: 'us', credential: { kind: 'oauth', appId: 'app-v', keyId: 'kid-v' } }),
      connector('oauth-bad', { region: 'us', credential: { kind: 'oauth', appId: 'app-x', keyId: 'kid-x' } }),
      {
        ...connector('hm-key', { region: 'us', credential: wk, sourceId: 'src_ok' }),
        fields: { hash: ['email_address'], hashAlgorithm: 'hmac-sha256' },
      },
    ],
  };
  const secretId = (c: string) => resourceNames(c).secret;
  const fresh = () =>
    fakeSecrets({
      [secretId('wk-ok')]: { value: KEY_OK },
      [secretId('wk-rotated')]: { value: KEY_OLD },
      [secretId('wk-disabled-src')]: { value: KEY_OK },
      [secretId('wk-wrong-region')]: { value: KEY_EU },
      [secretId('wk-nocheck')]: { value: KEY_NOCHECK },
      [secretId('wk-no-secret')]: { value: KEY_OK, disabled: true },
      [secretId('oauth-ok')]: { value: app.privateKeyPem },
      [secretId('oauth-bad')]: { value: rsaKeyPair().privateKeyPem },
      [doorNames('ws-wk-ok').tokenSecret]: { value: 'ingest-token-SECRETCANARY' },
      [doorNames('ws-wk-rotated').tokenSecret]: {}, // the secret exists, without a version
      [publicApiTokenSecret('vt')]: { value: TOKEN },
      [secretId('hm-key')]: { value: KEY_OK },
      [resourceNames('hm-key').hashKeySecret]: { value: HASH_KEY },
    });

  beforeAll(async () => {
    us = await startSegmentServer({
      region: 'us',
      sources: [
        { id: 'src_ok', writeKeys: [KEY_OK] },
        { id: 'src_rot', writeKeys: ['wk_the_new_one_after_rotation'] },
        { id: 'src_off', writeKeys: [KEY_OK], enabled: false },
      ],
      oauthApps: [{ appId: 'app-v', keyId: 'kid-v', publicKeyPem: app.publicKeyPem }],
      publicApiTokens: [TOKEN],
    });
    eu = await startSegmentServer({ region: 'eu', sources: [{ id: 'src_eu', writeKeys: [KEY_EU] }] });
    const dir = mkdtempSync(join(tmpdir(), 'verify-'));
    definitions = join(dir, 'defs.json');
    writeFileSync(definitions, JSON.stringify({ environments: [environment] }));
  });
  afterAll(async () => {
    await us.close();
    await eu.close();
  });

  async function verify(args: string[], secrets = fresh().client) {
    const lines: string[] = [];
    const env = {
      [ENV_VARS.publicApiBaseUrl]: us.url,
      [ENV_VARS.segmentBaseUrl]: us.url,
      [ENV_VARS.segmentTokenUrl]: us.url,
    };
    const code = await run(['--env', 'vt', ...args, definitions], { secrets, out: (l) => lines.push(l), env });
    const text = lines.join('\n');
    for (const secret of [KEY_OK, KEY_OLD, KEY_NOCHECK, KEY_EU, TOKEN, 'SECRETCANARY', 'PRIVATE KEY']) {
      expect(text).not.toContain(secret);
    }
    const rows = new Map(
      text
        .split('\n')
        .map((l) =>
          /^(\S+)\s+(credential secret|segment|receiver token|hash key)\s+(ok|FAIL|warn|skip|pending)\s+(.*)$/.exec(l),
        )
        .filter((m) => m !== null)
        .map((m) => [`${m[1]} ${m[2]}`, `${m[3]} ${m[4]}`]),
    );
    return { code, text, rows };
  }

  it('passes a connector whose secret, source and receiver token are all fine', async () => {
    const { code, text, rows } = await verify(['--connector', 'wk-ok']);
    expect(code).toBe(0);
    expect(text).toMatch(/^connector\s+check\s+result\s+detail$/m);
    expect(rows.get('wk-ok credential secret')).toMatch(/^ok .*latest version enabled, holds a write key/);
    expect(rows.get('wk-ok segment')).toBe('ok source src_ok is enabled in us and has the write key in the secret');
    expect(rows.get('wk-ok receiver token')).toMatch(/^ok currents-door-ws-wk-ok-token: latest version enabled/);
    expect(text).toMatch(/OK: environment 'vt' is ready to deploy\./);
  });

  it('reports every failure it can see, per connector, and exits 1', async () => {
    const { code, rows, text } = await verify([]);
    expect(code).toBe(1);
    expect(rows.get('wk-rotated segment')).toMatch(/^FAIL Segment source src_rot \(us\) does not have the write key/);
    expect(rows.get('wk-rotated receiver token')).toBe(
      "pending currents-door-ws-wk-rotated-token has no version yet: the door of workspace 'ws-wk-rotated' answers 503 " +
        '(Braze retries) until `currents receiver-token new --env vt --workspace ws-wk-rotated` makes one',
    );
    expect(rows.get('wk-disabled-src segment')).toMatch(/^FAIL Segment source src_off \(us\) is disabled/);
    expect(rows.get('wk-wrong-region segment')).toMatch(
      /^FAIL .*src_eu \(us\) not found by the Public API of region us/,
    );
    expect(rows.get('wk-nocheck segment')).toMatch(/^warn not checked: .*a revoked write key would be invisible/);
    expect(rows.get('wk-no-secret credential secret')).toMatch(/^FAIL .*latest version is disabled or destroyed/);
    expect(rows.get('wk-no-secret segment')).toBe('skip not checked: the credential secret cannot be read');
    expect(rows.get('wk-nocheck receiver token')).toMatch(
      /^skip currents-door-ws-wk-nocheck-token does not exist \(no door deployed\)/,
    );
    expect(rows.get('oauth-ok segment')).toBe('ok OAuth app app-v (key kid-v) granted a token in us');
    expect(rows.get('oauth-bad segment')).toMatch(/^FAIL the token server refused OAuth app app-x \(key kid-x\): 401/);
    expect(text).toMatch(/FAILED: 5 check\(s\) failed in environment 'vt'/);
    expect(eu.stats().publicApiRequestsByStatus).toEqual({}); // the us connector asked the us host only
  });

  it('cannot verify a write key when the Public API token is refused (a failure) or has no version yet (pending)', async () => {
    const refused = fresh();
    refused.secrets.set(publicApiTokenSecret('vt'), { value: 'papi_not_valid_000000' });
    expect((await verify(['--connector', 'wk-ok'], refused.client)).rows.get('wk-ok segment')).toMatch(
      /^FAIL cannot verify: the Public API refused its own token \(401\)/,
    );
    const noVersion = fresh();
    noVersion.secrets.set(publicApiTokenSecret('vt'), {});
    const r = await verify(['--connector', 'wk-ok'], noVersion.client);
    expect(r.code).toBe(0);
    expect(r.rows.get('wk-ok segment')).toMatch(
      /^pending not checked: currents-vt-segment-public-api-token has no version yet: the source check stays inconclusive/,
    );
  });

  it('lets a connector whose secrets have no version yet deploy, saying it parks until they do', async () => {
    const merged = fresh();
    merged.secrets.set(secretId('wk-ok'), {});
    merged.secrets.set(doorNames('ws-wk-ok').tokenSecret, {});
    const r = await verify(['--connector', 'wk-ok'], merged.client);
    expect(r.code).toBe(0);
    expect(r.rows.get('wk-ok credential secret')).toBe(
      'pending currents-wk-ok-segment-credential has no version yet: the connector parks what arrives (and alerts ' +
        'team@example.com) until one is added (README, "Deploying")',
    );
    expect(r.rows.get('wk-ok segment')).toBe('skip not checked: the credential secret cannot be read');
    expect(r.rows.get('wk-ok receiver token')).toMatch(/^pending currents-door-ws-wk-ok-token has no version yet/);
    expect(r.text).toMatch(
      /OK: environment 'vt' is ready to deploy \(wk-ok deploy\(s\) without a secret version yet and park until one is added\)\./,
    );
    // A latest version that is disabled is not "not yet": it breaks the running connector, and fails.
    expect((await verify(['--connector', 'wk-no-secret'])).code).toBe(1);
  });

  it('skips, saying so, the secrets a first deploy creates (a new connector, a new environment), so that it can run', async () => {
    const first = fresh();
    first.secrets.delete(secretId('wk-ok'));
    let r = await verify(['--connector', 'wk-ok'], first.client);
    expect(r.code).toBe(0);
    expect(r.rows.get('wk-ok credential secret')).toMatch(
      /^skip currents-wk-ok-segment-credential does not exist yet: the deploy creates it .*run verify again/,
    );
    expect(r.rows.get('wk-ok segment')).toBe('skip not checked: the credential secret cannot be read');
    const newEnv = fresh();
    newEnv.secrets.delete(publicApiTokenSecret('vt'));
    r = await verify(['--connector', 'wk-ok'], newEnv.client);
    expect(r.code).toBe(0);
    expect(r.rows.get('wk-ok segment')).toMatch(
      /^skip not checked: currents-vt-segment-public-api-token does not exist yet/,
    );
  });

  it('checks the hash key of a connector that hashes with hmac-sha256 (and only of that one)', async () => {
    const ok = await verify(['--connector', 'hm-key']);
    expect(ok.rows.get('hm-key hash key')).toBe(
      'ok currents-hm-key-hash-key: latest version enabled, a key of at least 32 characters',
    );
    expect((await verify(['--connector', 'wk-ok'])).rows.has('wk-ok hash key')).toBe(false);
    const short = fresh();
    short.secrets.set(resourceNames('hm-key').hashKeySecret, { value: 'SECRETCANARY-short' });
    const bad = await verify(['--connector', 'hm-key'], short.client);
    expect(bad.code).toBe(1);
    expect(bad.rows.get('hm-key hash key')).toMatch(/^FAIL .*at least 32 characters \(got 18\)/);
    const absent = fresh();
    absent.secrets.delete(resourceNames('hm-key').hashKeySecret);
    expect((await verify(['--connector', 'hm-key'], absent.client)).rows.get('hm-key hash key')).toMatch(
      /^skip currents-hm-key-hash-key does not exist yet: the deploy creates it/,
    );
  });

  it('says in words, without a stack trace, that it needs credentials even in a local run (no Secret Manager emulator)', () => {
    const r = spawnSync(
      process.execPath,
      [join(__dirname, '..', '..', '..', 'bin', 'currents.js'), 'verify', '--env', 'vt', definitions],
      {
        encoding: 'utf8',
        env: {
          ...process.env,
          PUBSUB_EMULATOR_HOST: '127.0.0.1:1',
          FIRESTORE_EMULATOR_HOST: '127.0.0.1:2',
          GOOGLE_APPLICATION_CREDENTIALS: join(tmpdir(), 'no-such-adc.json'),
        },
      },
    );
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(
      /^currents verify: no Google credentials to reach project verify-test-1 .*: Secret Manager has no emulator, so this reads the real project even in a local run: run `gcloud auth application-default login`/,
    );
    expect(r.stderr).not.toMatch(/NO_ADC_FOUND|\n\s+at /);
  });

  it('needs --env', async () => {
    await expect(run([definitions], { secrets: fresh().client, out: () => undefined })).rejects.toThrow(
      /--env is required/,
    );
  });
});
