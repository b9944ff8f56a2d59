/**
 * The receiver tokens the door accepts, as digests (shared/receiver-auth.ts compares in constant time).
 *
 * - `SecretManagerTokenSource` (deployed): every ENABLED version of the workspace door's token secret is accepted, so a
 *   token is rotated without losing a request: add a new version, change it in Braze, disable the old one. The list is
 *   cached for `cacheMs` (30 s): a disabled version stops working within that time. When Secret Manager cannot be read
 *   and a list was read before, that list is used for up to `staleMs` (5 min) more, so that a Secret Manager hiccup does
 *   not turn away Braze; past that (or with nothing read yet) `digests()` rejects and the receiver answers 503.
 * - `StaticTokenSource` / `FileTokenSource` (local runs and tests): tokens from an environment variable, or from a file
 *   (one per line) re-read every `cacheMs`, so that a running receiver's tokens can be rotated.
 *
 * Token values are never logged, and never part of an error message.
 */
import { readFile } from 'node:fs/promises';
import { ENV_VARS } from '../../shared/runtime-config';
import { CachedValue } from '../adapters/cached-value';
import { clientOr, payloadText, type SecretVersionLister } from '../adapters/secret-manager';
import { type Clock, systemClock } from '../core/types';
import { type TokenDigest, tokenDigest } from '../../shared/receiver-auth';

export interface ReceiverTokenSource {
  /** Digests of every accepted token (empty: none is configured). Rejects when they cannot be read at all. */
  digests(): Promise<readonly TokenDigest[]>;
  /** Where the tokens come from (never a value). */
  readonly label: string;
}

export const DEFAULT_TOKEN_CACHE_MS = 30_000;
export const DEFAULT_TOKEN_STALE_MS = 5 * 60_000;

export type { SecretVersionLister } from '../adapters/secret-manager';

/** Splits stored token text into tokens (one per line or comma; blank entries ignored). */
export function parseTokenList(text: string): string[] {
  return text
    .split(/[\n,]/)
    .map((t) => t.trim())
    .filter((t) => t.length > 0);
}

export class TokenSourceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TokenSourceError';
  }
}

export interface SecretManagerTokenSourceOptions {
  /** `projects/P/secrets/S`: the workspace door's token secret. */
  readonly secretName: string;
  readonly cacheMs?: number;
  readonly staleMs?: number;
  readonly clock?: Clock;
  /** A client to use instead of the real one (tests: there is no Secret Manager emulator). */
  readonly client?: SecretVersionLister;
}

export class SecretManagerTokenSource implements ReceiverTokenSource {
  readonly label: string;
  /** Secret Manager calls made (list + access), to check the cache. */
  calls = 0;
  private readonly cache: CachedValue<readonly TokenDigest[]>;

  constructor(private readonly opts: SecretManagerTokenSourceOptions) {
    this.label = `Secret Manager secret ${opts.secretName}`;
    this.cache = new CachedValue(() => this.load(), {
      clock: opts.clock ?? systemClock,
      freshMs: opts.cacheMs ?? DEFAULT_TOKEN_CACHE_MS,
      staleMs: opts.staleMs ?? DEFAULT_TOKEN_STALE_MS,
    });
  }

  digests(): Promise<readonly TokenDigest[]> {
    return this.cache.get();
  }

  private async load(): Promise<readonly TokenDigest[]> {
    const client = await clientOr(this.opts.client);
    try {
      this.calls++;
      const [versions] = await client.listSecretVersions({ parent: this.opts.secretName, filter: 'state:ENABLED' });
      const enabled = versions.filter(
        (v) => v.name && (v.state === undefined || v.state === 'ENABLED' || v.state === 1),
      );
      const values = await Promise.all(
        enabled.map(async (v) => {
          this.calls++;
          const [res] = await client.accessSecretVersion({ name: v.name! });
          return payloadText(res);
        }),
      );
      return values.flatMap(parseTokenList).map(tokenDigest);
    } catch (err) {
      const code = (err as { code?: unknown } | null)?.code;
      throw new TokenSourceError(
        `could not read the receiver tokens from ${this.label}` + (code !== undefined ? ` (code ${String(code)})` : ''),
      );
    }
  }
}

/** Fixed tokens (local runs and tests: CURRENTS_RECEIVER_TOKENS). */
export class StaticTokenSource implements ReceiverTokenSource {
  readonly label: string;
  private readonly list: readonly TokenDigest[];

  constructor(tokens: readonly string[], label = `environment variable ${ENV_VARS.receiverTokens}`) {
    this.list = tokens.map(tokenDigest);
    this.label = label;
  }

  async digests(): Promise<readonly TokenDigest[]> {
    return this.list;
  }
}

/** Tokens from a file, one per line, re-read every `cacheMs` (local runs and tests rotate tokens by rewriting it). */
export class FileTokenSource implements ReceiverTokenSource {
  readonly label: string;
  private readonly cache: CachedValue<readonly TokenDigest[]>;

  constructor(path: string, opts: { cacheMs?: number; clock?: Clock } = {}) {
    this.label = `token file ${path}`;
    this.cache = new CachedValue<readonly TokenDigest[]>(
      async () => {
        try {
          return parseTokenList(await readFile(path, 'utf8')).map(tokenDigest);
        } catch (err) {
          throw new TokenSourceError(
            `could not read ${this.label} (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
          );
        }
      },
      { clock: opts.clock ?? systemClock, freshMs: opts.cacheMs ?? DEFAULT_TOKEN_CACHE_MS },
    );
  }

  digests(): Promise<readonly TokenDigest[]> {
    return this.cache.get();
  }
}

/** The token source a door's configuration asks for (CURRENTS_RECEIVER_TOKEN_SOURCE; deployed: Secret Manager). */
export function tokenSourceFor(
  config: { readonly tokenSecretName: string },
  env: Record<string, string | undefined>,
  opts: { clock?: Clock; cacheMs?: number } = {},
): ReceiverTokenSource {
  const kind = env[ENV_VARS.receiverTokenSource] ?? 'secret-manager';
  switch (kind) {
    case 'secret-manager':
      return new SecretManagerTokenSource({ secretName: config.tokenSecretName, ...opts });
    case 'env':
      return new StaticTokenSource(parseTokenList(env[ENV_VARS.receiverTokens] ?? ''));
    case 'file': {
      const path = env[ENV_VARS.receiverTokensFile];
      if (!path) throw new Error(`${ENV_VARS.receiverTokenSource}=file needs ${ENV_VARS.receiverTokensFile}`);
      return new FileTokenSource(path, opts);
    }
    default:
      throw new Error(`${ENV_VARS.receiverTokenSource} must be secret-manager, env or file (got '${kind}')`);
  }
}
