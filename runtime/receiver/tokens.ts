/**
 * The bearer tokens the receiver accepts, as digests (runtime/receiver/core.ts compares in constant time).
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
import { secretManagerClient } from '../adapters/secrets';
import { type Clock, systemClock } from '../core/types';
import { type TokenDigest, tokenDigest } from './core';

export interface TokenSource {
  /** Digests of every accepted token (empty: none is configured). Rejects when they cannot be read at all. */
  digests(): Promise<readonly TokenDigest[]>;
  /** Where the tokens come from (never a value). */
  readonly label: string;
}

export const DEFAULT_TOKEN_CACHE_MS = 30_000;
export const DEFAULT_TOKEN_STALE_MS = 5 * 60_000;

/** The two Secret Manager calls used (a subset of `SecretManagerServiceClient`), so that tests can inject a client. */
export interface SecretVersionLister {
  listSecretVersions(request: {
    parent: string;
    filter?: string;
  }): Promise<readonly [readonly { name?: string | null; state?: unknown }[], ...unknown[]]>;
  accessSecretVersion(request: {
    name: string;
  }): Promise<readonly [{ payload?: { data?: Uint8Array | string | null } | null }, ...unknown[]]>;
}

/** Splits stored token text into tokens (one per line or comma; blank entries ignored). */
export function parseTokenList(text: string): string[] {
  return text
    .split(/[\n,]/)
    .map((t) => t.trim())
    .filter((t) => t.length > 0);
}

/** Reads a list with a cache, one read in flight at a time, and a stale fallback when a refresh fails. */
class CachedList {
  private value?: readonly TokenDigest[];
  private readAt = 0;
  private inflight?: Promise<readonly TokenDigest[]>;

  constructor(
    private readonly load: () => Promise<readonly TokenDigest[]>,
    private readonly clock: Clock,
    private readonly cacheMs: number,
    private readonly staleMs: number,
  ) {}

  get(): Promise<readonly TokenDigest[]> {
    const age = this.clock.now() - this.readAt;
    if (this.value && age < this.cacheMs) return Promise.resolve(this.value);
    this.inflight ??= this.load()
      .then((v) => {
        this.value = v;
        this.readAt = this.clock.now();
        return v;
      })
      .catch((err: unknown) => {
        if (this.value && this.clock.now() - this.readAt < this.cacheMs + this.staleMs) return this.value;
        throw err;
      })
      .finally(() => {
        this.inflight = undefined;
      });
    return this.inflight;
  }
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

export class SecretManagerTokenSource implements TokenSource {
  readonly label: string;
  /** Secret Manager calls made (list + access), to check the cache. */
  calls = 0;
  private readonly cache: CachedList;

  constructor(private readonly opts: SecretManagerTokenSourceOptions) {
    this.label = `Secret Manager secret ${opts.secretName}`;
    this.cache = new CachedList(
      () => this.load(),
      opts.clock ?? systemClock,
      opts.cacheMs ?? DEFAULT_TOKEN_CACHE_MS,
      opts.staleMs ?? DEFAULT_TOKEN_STALE_MS,
    );
  }

  digests(): Promise<readonly TokenDigest[]> {
    return this.cache.get();
  }

  private getClient(): Promise<SecretVersionLister> {
    return this.opts.client ? Promise.resolve(this.opts.client) : secretManagerClient();
  }

  private async load(): Promise<readonly TokenDigest[]> {
    const client = await this.getClient();
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
          const data = res?.payload?.data;
          return data == null ? '' : typeof data === 'string' ? data : Buffer.from(data).toString('utf8');
        }),
      );
      return values.flatMap(parseTokenList).map(tokenDigest);
    } catch (err) {
      const code = (err as { code?: unknown } | null)?.code;
      throw new TokenSourceError(
        `could not read the ingest tokens from ${this.label}` + (code !== undefined ? ` (code ${String(code)})` : ''),
      );
    }
  }
}

/** Fixed tokens (local runs and tests: CURRENTS_RECEIVER_TOKENS). */
export class StaticTokenSource implements TokenSource {
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
export class FileTokenSource implements TokenSource {
  readonly label: string;
  private readonly cache: CachedList;

  constructor(path: string, opts: { cacheMs?: number; clock?: Clock } = {}) {
    this.label = `token file ${path}`;
    this.cache = new CachedList(
      async () => {
        try {
          return parseTokenList(await readFile(path, 'utf8')).map(tokenDigest);
        } catch (err) {
          throw new TokenSourceError(
            `could not read ${this.label} (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
          );
        }
      },
      opts.clock ?? systemClock,
      opts.cacheMs ?? DEFAULT_TOKEN_CACHE_MS,
      0,
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
): TokenSource {
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
