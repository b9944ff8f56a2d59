/**
 * Where the connector's Segment credential comes from.
 *
 * - `SecretManagerSource` (deployed): reads `<secret>/versions/latest` from Secret Manager with a short cache, so that a
 *   rotated credential is picked up without a redeploy; `invalidate()` forces a re-read (after a credential failure, and by
 *   the probe). A secret that is missing, disabled/destroyed, or not readable maps to `CredentialUnavailableError`.
 * - `EnvSecretSource` / `FileSecretSource` (local runs and tests), chosen by `RuntimeConfig.secretSource`.
 * - `credentialSourceFor` turns the raw secret value into the `SegmentSecret` the delivery client needs, checking that it
 *   fits the kind the connector declares.
 *
 * No error message or log line made here ever contains the secret value (only the secret's name and what is wrong).
 * The Secret Manager client library is loaded lazily, on first read, so that importing this module stays cheap.
 */
import { createPrivateKey } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { Connector } from '../../shared/connector';
import { ENV_VARS, type RuntimeConfig } from '../../shared/runtime-config';
import {
  type Clock,
  type CredentialSource,
  CredentialUnavailableError,
  type SegmentSecret,
  systemClock,
} from '../core/types';
import { CachedValue } from './cached-value';
import { clientOr, mapSecretManagerError, payloadText, type SecretVersionAccessor } from './secret-manager';

export { mapSecretManagerError, type SecretVersionAccessor } from './secret-manager';

/** The raw credential value, cached; `invalidate()` makes the next `read()` fetch it again. */
export interface SecretSource {
  /** The value (as stored; callers trim/validate). Rejects with CredentialUnavailableError when it cannot be had. */
  read(): Promise<string>;
  invalidate(): void;
  /** Names where the value comes from (e.g. the secret's resource name), for messages. Never the value. */
  readonly label: string;
}

/** Default cache of a secret value. */
export const DEFAULT_SECRET_CACHE_MS = 60_000;

export interface SecretManagerSourceOptions {
  /** `projects/P/secrets/S` (RuntimeConfig.secretName); the source reads its `versions/latest`. */
  readonly secretName: string;
  readonly cacheMs?: number;
  readonly clock?: Clock;
  /** A client to use instead of the real `SecretManagerServiceClient` (tests: there is no Secret Manager emulator). */
  readonly client?: SecretVersionAccessor;
}

/** A source whose value `load()` fetches, kept by one CachedValue: fresh for `cacheMs`, re-fetched after `invalidate()`. */
abstract class CachedSecretSource implements SecretSource {
  abstract readonly label: string;
  private readonly cache: CachedValue<string>;

  protected constructor(opts: { cacheMs?: number; clock?: Clock }) {
    this.cache = new CachedValue(() => this.load(), {
      clock: opts.clock ?? systemClock,
      freshMs: opts.cacheMs ?? DEFAULT_SECRET_CACHE_MS,
    });
  }

  protected abstract load(): Promise<string>;

  read(): Promise<string> {
    return this.cache.get();
  }

  invalidate(): void {
    this.cache.invalidate();
  }
}

export class SecretManagerSource extends CachedSecretSource {
  readonly label: string;
  /** Number of accessSecretVersion calls made (to check the cache). */
  accessCount = 0;

  constructor(private readonly opts: SecretManagerSourceOptions) {
    super(opts);
    if (!/^projects\/[^/]+\/secrets\/[^/]+$/.test(opts.secretName)) {
      throw new Error(`secret name must be projects/PROJECT/secrets/SECRET (got '${opts.secretName}')`);
    }
    this.label = `Secret Manager secret ${opts.secretName}`;
  }

  protected async load(): Promise<string> {
    const client = await clientOr(this.opts.client);
    const name = `${this.opts.secretName}/versions/latest`;
    this.accessCount++;
    let response;
    try {
      [response] = await client.accessSecretVersion({ name });
    } catch (err) {
      throw mapSecretManagerError(err, this.opts.secretName);
    }
    const value = payloadText(response);
    if (value.trim() === '') {
      throw new CredentialUnavailableError(
        `${this.label}: the latest version is empty; add a version holding the credential (see README)`,
      );
    }
    return value;
  }
}

/** The value from an environment variable (local runs and tests). Re-read from the environment on every `read()`. */
export class EnvSecretSource implements SecretSource {
  readonly label: string;

  constructor(
    private readonly env: Record<string, string | undefined> = process.env,
    private readonly variable: string = ENV_VARS.secretValue,
  ) {
    this.label = `environment variable ${variable}`;
  }

  async read(): Promise<string> {
    const v = this.env[this.variable];
    if (v === undefined || v.trim() === '') {
      const what = this.variable === ENV_VARS.secretValue ? 'the Segment credential' : 'the secret value';
      throw new CredentialUnavailableError(`${this.label} is not set or empty; set it to ${what}`);
    }
    return v;
  }

  invalidate(): void {
    /* nothing cached */
  }
}

/** The value from a file (local runs), cached like Secret Manager; `invalidate()` re-reads it (rotation by editing). */
export class FileSecretSource extends CachedSecretSource {
  readonly label: string;

  constructor(
    private readonly path: string,
    opts: { cacheMs?: number; clock?: Clock } = {},
  ) {
    super(opts);
    this.label = `secret file ${path}`;
  }

  protected async load(): Promise<string> {
    let v: string;
    try {
      v = await readFile(this.path, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new CredentialUnavailableError(
        `${this.label} cannot be read (${code ?? 'error'}); create it holding the Segment credential`,
      );
    }
    if (v.trim() === '') throw new CredentialUnavailableError(`${this.label} is empty`);
    return v;
  }
}

/** The secret source a function configuration asks for (`CURRENTS_SECRET_SOURCE`). */
export function secretSourceFor(
  config: Pick<RuntimeConfig, 'secretSource' | 'secretName' | 'secretFile'>,
  opts: {
    env?: Record<string, string | undefined>;
    clock?: Clock;
    cacheMs?: number;
    client?: SecretVersionAccessor;
  } = {},
): SecretSource {
  switch (config.secretSource) {
    case 'env':
      return new EnvSecretSource(opts.env ?? process.env);
    case 'file':
      if (!config.secretFile) throw new Error(`${ENV_VARS.secretSource}=file needs ${ENV_VARS.secretFile}`);
      return new FileSecretSource(config.secretFile, opts);
    case 'secret-manager':
      return new SecretManagerSource({
        secretName: config.secretName,
        clock: opts.clock,
        cacheMs: opts.cacheMs,
        client: opts.client,
      });
  }
}

/**
 * Where the environment's Segment Public API token comes from (the source check): its Secret Manager secret when the
 * credential comes from Secret Manager, otherwise (local runs and tests) the CURRENTS_SEGMENT_PUBLIC_API_TOKEN variable.
 * Each newly read value goes to `onSecretValue` (the logger's redaction), like the credential.
 */
export function publicApiTokenSourceFor(
  config: Pick<RuntimeConfig, 'secretSource' | 'publicApiTokenSecretName'>,
  opts: AuxiliarySecretOptions = {},
): SecretSource {
  return auxiliarySecretSource(config.secretSource, config.publicApiTokenSecretName, ENV_VARS.publicApiToken, opts);
}

/**
 * Where the connector's hash key (`fields.hashAlgorithm: 'hmac-sha256'`) comes from: its hash-key secret when the
 * credential comes from Secret Manager, otherwise (local runs and tests) the CURRENTS_HASH_KEY variable. Each newly
 * read value goes to `onSecretValue` (the logger's redaction), like the credential.
 */
export function hashKeySourceFor(
  config: Pick<RuntimeConfig, 'secretSource' | 'hashKeySecretName'>,
  opts: AuxiliarySecretOptions = {},
): SecretSource {
  return auxiliarySecretSource(config.secretSource, config.hashKeySecretName, ENV_VARS.hashKey, opts);
}

export interface AuxiliarySecretOptions {
  readonly env?: Record<string, string | undefined>;
  readonly clock?: Clock;
  readonly client?: SecretVersionAccessor;
  readonly onSecretValue?: (value: string) => void;
}

/** A secret besides the credential: from Secret Manager when deployed, otherwise from an environment variable. */
function auxiliarySecretSource(
  source: RuntimeConfig['secretSource'],
  secretName: string,
  envVar: string,
  opts: AuxiliarySecretOptions,
): SecretSource {
  const inner: SecretSource =
    source === 'secret-manager'
      ? new SecretManagerSource({ secretName, clock: opts.clock, client: opts.client })
      : new EnvSecretSource(opts.env ?? process.env, envVar);
  return {
    label: inner.label,
    read: async () => {
      const value = await inner.read();
      opts.onSecretValue?.(value);
      return value;
    },
    invalidate: () => inner.invalidate(),
  };
}

const PEM_BLOCK = /-----BEGIN ([A-Z ]+)-----[\s\S]+?-----END \1-----/;

function normalizePem(value: string): string {
  let v = value.trim();
  // A key pasted with literal "\n" sequences (e.g. copied out of a JSON file) is accepted as well.
  if (!v.includes('\n') && v.includes('\\n')) v = v.replace(/\\n/g, '\n');
  return v;
}

/** Turns a raw secret value into a SegmentSecret of the declared kind, or throws CredentialUnavailableError (no value). */
export function parseSegmentSecret(
  raw: string,
  definition: Connector['segment']['credential'],
  label = 'the secret',
): SegmentSecret {
  if (definition.kind === 'writeKey') {
    const key = raw.trim();
    if (key === '') throw new CredentialUnavailableError(`${label} is empty; it must hold the Segment write key`);
    if (key.includes('-----BEGIN')) {
      throw new CredentialUnavailableError(
        `${label} holds a PEM key, but the connector declares a write key credential; store the source's write key, or declare { kind: 'oauth', appId, keyId }`,
      );
    }
    if (!/^[\x21-\x7e]+$/.test(key)) {
      throw new CredentialUnavailableError(
        `${label} does not look like a Segment write key (it contains spaces, line breaks or non-ASCII characters)`,
      );
    }
    return { kind: 'writeKey', writeKey: key };
  }
  const pem = normalizePem(raw);
  const block = PEM_BLOCK.exec(pem);
  if (!block) {
    throw new CredentialUnavailableError(
      `${label} is not a PEM private key, but the connector declares an OAuth credential (app ${definition.appId}, key ${definition.keyId}); store the OAuth app's private key (-----BEGIN PRIVATE KEY----- ...)`,
    );
  }
  if (!/PRIVATE KEY$/.test(block[1]!)) {
    throw new CredentialUnavailableError(
      `${label} holds a PEM '${block[1]}' block, not a private key; store the OAuth app's private key`,
    );
  }
  let type: string | undefined;
  try {
    type = createPrivateKey(block[0]).asymmetricKeyType;
  } catch {
    throw new CredentialUnavailableError(
      `${label} holds a PEM private key that cannot be parsed (damaged or encrypted)`,
    );
  }
  if (type !== 'rsa') {
    throw new CredentialUnavailableError(
      `${label} holds a ${type ?? 'non-RSA'} private key; Segment OAuth needs an RSA key (RS256)`,
    );
  }
  return { kind: 'oauth', appId: definition.appId, keyId: definition.keyId, privateKeyPem: block[0] };
}

export interface CredentialSourceOptions {
  /** Called with each newly read raw value (e.g. `logger.registerSecret`), so that it can be kept out of log lines. */
  readonly onSecretValue?: (value: string) => void;
}

/**
 * The CredentialSource the delivery client uses: reads the secret (cached by the secret source), checks and converts it
 * to the declared kind (the conversion of the same raw value is memoized), and `invalidate()` forces a re-read.
 */
export function credentialSourceFor(
  credentialDefinition: Connector['segment']['credential'],
  secrets: SecretSource,
  opts: CredentialSourceOptions = {},
): CredentialSource {
  let lastRaw: string | undefined;
  let lastParsed: SegmentSecret | undefined;
  return {
    async get() {
      const raw = await secrets.read();
      if (raw === lastRaw && lastParsed) return lastParsed;
      opts.onSecretValue?.(raw);
      const parsed = parseSegmentSecret(raw, credentialDefinition, secrets.label);
      if (parsed.kind === 'writeKey' && parsed.writeKey !== raw) opts.onSecretValue?.(parsed.writeKey);
      lastRaw = raw;
      lastParsed = parsed;
      return parsed;
    },
    invalidate() {
      secrets.invalidate();
    },
  };
}
