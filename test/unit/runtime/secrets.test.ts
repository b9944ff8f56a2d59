/**
 * Secret sources and the credential conversion (runtime/adapters/secrets.ts).
 *
 * There is no Secret Manager emulator, so the Secret Manager source is tested through an injected client object that
 * implements the one Google API call it makes, `accessSecretVersion` (a fake of that call only, answering with the
 * payload shape and the gRPC status codes the real API uses). The env and file sources are tested for real.
 */
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CredentialUnavailableError, type Clock } from '../../../runtime/core/types';
import {
  credentialSourceFor,
  EnvSecretSource,
  FileSecretSource,
  mapSecretManagerError,
  parseSegmentSecret,
  SecretManagerSource,
  secretSourceFor,
  type SecretVersionAccessor,
} from '../../../runtime/adapters/secrets';

const SECRET = 'projects/currents-test/secrets/currents-prod-eu-segment-credential';
const WRITE_KEY = 'wk_Zx81QpLm3Nt7Rv2Ws9Yu4Ab6Cd0Ef5Gh';
const { privateKey: rsaKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
const PEM = rsaKey.export({ type: 'pkcs8', format: 'pem' }) as string;
const PKCS1_PEM = rsaKey.export({ type: 'pkcs1', format: 'pem' }) as string;
const { privateKey: ecKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const EC_PEM = ecKey.export({ type: 'pkcs8', format: 'pem' }) as string;
const OAUTH = { kind: 'oauth', appId: 'app-123', keyId: 'key-456' } as const;

function manualClock(start = 1_000_000): Clock & { advance(ms: number): void } {
  let t = start;
  return { now: () => t, advance: (ms) => (t += ms) };
}

/** Fake of Secret Manager's accessSecretVersion only: a latest version that can be rotated or fail with a gRPC code. */
function fakeSecretManager(initial: string) {
  const state = { value: initial as string | null, failWith: undefined as number | undefined, calls: [] as string[] };
  const client: SecretVersionAccessor = {
    async accessSecretVersion({ name }) {
      state.calls.push(name);
      if (state.failWith !== undefined) {
        throw Object.assign(new Error(`${state.failWith} grpc error for ${name}`), { code: state.failWith });
      }
      return [{ payload: { data: state.value === null ? null : new TextEncoder().encode(state.value) } }];
    },
  };
  return { state, client };
}

async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a rejection');
}

describe('SecretManagerSource', () => {
  it('reads versions/latest of the configured secret', async () => {
    const { state, client } = fakeSecretManager(WRITE_KEY);
    const src = new SecretManagerSource({ secretName: SECRET, client });
    await expect(src.read()).resolves.toBe(WRITE_KEY);
    expect(state.calls).toEqual([`${SECRET}/versions/latest`]);
    expect(src.label).toBe(`Secret Manager secret ${SECRET}`);
  });

  it('caches the value for cacheMs of the clock and shares one read between concurrent callers', async () => {
    const clock = manualClock();
    const { state, client } = fakeSecretManager(WRITE_KEY);
    const src = new SecretManagerSource({ secretName: SECRET, client, clock, cacheMs: 60_000 });
    await Promise.all([src.read(), src.read(), src.read()]);
    expect(state.calls).toHaveLength(1);
    clock.advance(59_999);
    state.value = 'wk_rotated_value_0123456789';
    await expect(src.read()).resolves.toBe(WRITE_KEY);
    expect(state.calls).toHaveLength(1);
    clock.advance(1);
    await expect(src.read()).resolves.toBe('wk_rotated_value_0123456789');
    expect(state.calls).toHaveLength(2);
  });

  it('invalidate() forces a re-read, so a rotated key is picked up at once', async () => {
    const { state, client } = fakeSecretManager(WRITE_KEY);
    const src = new SecretManagerSource({ secretName: SECRET, client, clock: manualClock() });
    await src.read();
    state.value = 'wk_rotated_value_0123456789';
    await expect(src.read()).resolves.toBe(WRITE_KEY);
    src.invalidate();
    await expect(src.read()).resolves.toBe('wk_rotated_value_0123456789');
    expect(src.accessCount).toBe(2);
  });

  it.each([
    [5, /does not exist/],
    [9, /disabled or destroyed/],
    [7, /permission denied.*secretAccessor/],
  ])('gRPC code %i maps to CredentialUnavailableError naming the secret', async (code, text) => {
    const { state, client } = fakeSecretManager(WRITE_KEY);
    const src = new SecretManagerSource({ secretName: SECRET, client, clock: manualClock() });
    state.failWith = code;
    const err = await rejection(src.read());
    expect(err).toBeInstanceOf(CredentialUnavailableError);
    expect(err.message).toContain(SECRET);
    expect(err.message).toMatch(text);
    expect(err.message).not.toContain(WRITE_KEY);
  });

  it('a failure is not cached: the next read after the secret is fixed succeeds', async () => {
    const { state, client } = fakeSecretManager(WRITE_KEY);
    const src = new SecretManagerSource({ secretName: SECRET, client, clock: manualClock() });
    state.failWith = 9;
    await expect(src.read()).rejects.toBeInstanceOf(CredentialUnavailableError);
    state.failWith = undefined;
    await expect(src.read()).resolves.toBe(WRITE_KEY);
  });

  it('transient errors (UNAVAILABLE) are plain errors, not credential failures', async () => {
    const { state, client } = fakeSecretManager(WRITE_KEY);
    const src = new SecretManagerSource({ secretName: SECRET, client, clock: manualClock() });
    state.failWith = 14;
    const err = await rejection(src.read());
    expect(err).not.toBeInstanceOf(CredentialUnavailableError);
    expect(err.message).toMatch(/could not read .* \(code 14\); will retry/);
    expect(mapSecretManagerError(new TypeError('boom'), SECRET).message).toContain('TypeError');
  });

  it('an empty latest version is a credential failure', async () => {
    const { state, client } = fakeSecretManager(WRITE_KEY);
    state.value = '  \n';
    const src = new SecretManagerSource({ secretName: SECRET, client, clock: manualClock() });
    await expect(src.read()).rejects.toThrow(/latest version is empty/);
    state.value = null;
    src.invalidate();
    await expect(src.read()).rejects.toBeInstanceOf(CredentialUnavailableError);
  });

  it('refuses a secret name that is not projects/P/secrets/S', () => {
    expect(() => new SecretManagerSource({ secretName: `${SECRET}/versions/3` })).toThrow(/projects\/PROJECT/);
  });
});

describe('EnvSecretSource and FileSecretSource (real environment and files)', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'currents-secrets-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads the variable, and a missing or empty one is a credential failure naming the variable only', async () => {
    const env: Record<string, string | undefined> = { CURRENTS_SECRET_VALUE: WRITE_KEY };
    const src = new EnvSecretSource(env);
    await expect(src.read()).resolves.toBe(WRITE_KEY);
    env.CURRENTS_SECRET_VALUE = '';
    const err = await rejection(src.read());
    expect(err).toBeInstanceOf(CredentialUnavailableError);
    expect(err.message).toContain('CURRENTS_SECRET_VALUE');
  });

  it('reads a file with a cache; invalidate() picks up an edited file; a missing file is a credential failure', async () => {
    const path = join(dir, 'credential');
    writeFileSync(path, `${WRITE_KEY}\n`);
    const clock = manualClock();
    const src = new FileSecretSource(path, { clock, cacheMs: 60_000 });
    await expect(src.read()).resolves.toBe(`${WRITE_KEY}\n`);
    writeFileSync(path, 'wk_edited_0123456789abcdef');
    await expect(src.read()).resolves.toBe(`${WRITE_KEY}\n`);
    src.invalidate();
    await expect(src.read()).resolves.toBe('wk_edited_0123456789abcdef');
    rmSync(path);
    clock.advance(60_000);
    const err = await rejection(src.read());
    expect(err).toBeInstanceOf(CredentialUnavailableError);
    expect(err.message).toMatch(/secret file .*credential cannot be read \(ENOENT\)/);
  });

  it('secretSourceFor picks the source the configuration names', async () => {
    const path = join(dir, 'k');
    writeFileSync(path, WRITE_KEY);
    const env = { CURRENTS_SECRET_VALUE: 'wk_from_env_0123456789' };
    const base = { secretName: SECRET, secretFile: path };
    expect(secretSourceFor({ ...base, secretSource: 'env' }, { env })).toBeInstanceOf(EnvSecretSource);
    await expect(secretSourceFor({ ...base, secretSource: 'env' }, { env }).read()).resolves.toBe(
      'wk_from_env_0123456789',
    );
    await expect(secretSourceFor({ ...base, secretSource: 'file' }).read()).resolves.toBe(WRITE_KEY);
    const { client } = fakeSecretManager('wk_from_sm_0123456789');
    const sm = secretSourceFor({ ...base, secretSource: 'secret-manager' }, { client });
    expect(sm).toBeInstanceOf(SecretManagerSource);
    await expect(sm.read()).resolves.toBe('wk_from_sm_0123456789');
  });
});

describe('parseSegmentSecret / credentialSourceFor', () => {
  it('a write key is the value, trimmed', () => {
    expect(parseSegmentSecret(`  ${WRITE_KEY}\n`, { kind: 'writeKey' })).toEqual({
      kind: 'writeKey',
      writeKey: WRITE_KEY,
    });
  });

  it('an OAuth credential is the PEM private key with the app and key ids of the definition', () => {
    expect(parseSegmentSecret(`\n${PEM}\n`, OAUTH)).toEqual({
      kind: 'oauth',
      appId: 'app-123',
      keyId: 'key-456',
      privateKeyPem: PEM.trim(),
    });
    expect(parseSegmentSecret(PKCS1_PEM, OAUTH).kind).toBe('oauth');
    // pasted with literal \n sequences (copied out of JSON)
    const escaped = PEM.trim().replace(/\n/g, '\\n');
    expect(parseSegmentSecret(escaped, OAUTH)).toMatchObject({ privateKeyPem: PEM.trim() });
  });

  const cases: [string, string, Parameters<typeof parseSegmentSecret>[1], RegExp][] = [
    ['a PEM key where a write key is declared', PEM, { kind: 'writeKey' }, /holds a PEM key.*declares a write key/],
    [
      'a write key with spaces inside',
      'wk abc def 0123456789',
      { kind: 'writeKey' },
      /does not look like a Segment write key/,
    ],
    ['an empty write key', '   ', { kind: 'writeKey' }, /is empty/],
    ['a write key where OAuth is declared', WRITE_KEY, OAUTH, /not a PEM private key.*app app-123, key key-456/],
    [
      'a public key where OAuth is declared',
      '-----BEGIN PUBLIC KEY-----\nMFkw\n-----END PUBLIC KEY-----',
      OAUTH,
      /not a private key/,
    ],
    [
      'a damaged PEM',
      '-----BEGIN PRIVATE KEY-----\nnot-base64-at-all-secretbits\n-----END PRIVATE KEY-----',
      OAUTH,
      /cannot be parsed/,
    ],
    ['an EC key (OAuth needs RSA)', EC_PEM, OAUTH, /ec private key; Segment OAuth needs an RSA key/],
  ];
  it.each(cases)(
    'refuses %s with a CredentialUnavailableError that names the problem, not the value',
    (_, value, def, text) => {
      let err: unknown;
      try {
        parseSegmentSecret(value, def, 'Secret Manager secret S');
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(CredentialUnavailableError);
      const message = (err as Error).message;
      expect(message).toMatch(text);
      expect(message).toContain('Secret Manager secret S');
      const body = value
        .trim()
        .split('\n')
        .filter((l) => l.length >= 8 && !l.startsWith('-----'));
      for (const fragment of body) expect(message).not.toContain(fragment);
    },
  );

  it('credentialSourceFor converts the secret, reports new values for redaction once, and invalidate() re-reads', async () => {
    const { state, client } = fakeSecretManager(`${WRITE_KEY}\n`);
    const seen: string[] = [];
    const creds = credentialSourceFor(
      { kind: 'writeKey' },
      new SecretManagerSource({ secretName: SECRET, client, clock: manualClock() }),
      { onSecretValue: (v) => seen.push(v) },
    );
    await expect(creds.get()).resolves.toEqual({ kind: 'writeKey', writeKey: WRITE_KEY });
    await creds.get();
    expect(state.calls).toHaveLength(1);
    expect(seen).toEqual([`${WRITE_KEY}\n`, WRITE_KEY]);
    state.value = 'wk_rotated_value_0123456789';
    creds.invalidate();
    await expect(creds.get()).resolves.toEqual({ kind: 'writeKey', writeKey: 'wk_rotated_value_0123456789' });
    expect(state.calls).toHaveLength(2);
    expect(seen).toContain('wk_rotated_value_0123456789');
  });

  it('credentialSourceFor fails with CredentialUnavailableError for a value of the wrong kind, naming the secret', async () => {
    const { client } = fakeSecretManager(WRITE_KEY);
    const creds = credentialSourceFor(OAUTH, new SecretManagerSource({ secretName: SECRET, client }));
    const err = await rejection(creds.get());
    expect(err).toBeInstanceOf(CredentialUnavailableError);
    expect(err.message).toContain(SECRET);
    expect(err.message).not.toContain(WRITE_KEY);
  });
});
