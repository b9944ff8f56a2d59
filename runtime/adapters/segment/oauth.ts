import { randomUUID } from 'node:crypto';
import type { KeyLike } from 'jose';
import type { Clock, SegmentSecret } from '../../core/types';
import { CLIENT_ASSERTION_TYPE, OAUTH_SCOPE } from './endpoints';
import { type HttpClient, parseRetryAfter, TransientError } from './http';

type OAuthSecret = Extract<SegmentSecret, { kind: 'oauth' }>;

/** The credential is refused (token server said no, or the key cannot sign). The message names no secret value. */
export class CredentialRefusedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CredentialRefusedError';
  }
}

export interface TokenManagerOptions {
  /** The HTTP port the token requests go through. */
  http: HttpClient;
  /** The region's token server: the JWT's `aud` and `iss`. */
  audience: string;
  /** The token endpoint (`{token server}/token`, or a local one). */
  tokenUrl: URL;
  clock: Clock;
}

/**
 * Segment OAuth access tokens: a JWT client assertion (RS256, `kid` = key id, `sub` = app id, `aud` = `iss` = the
 * region's token server, 60 s `exp`, unique `jti`) exchanged at `{tokenUrl}/token`. The token is cached until shortly
 * before it expires (a tenth of its lifetime, at most a minute), per credential; concurrent callers share one request.
 */
export class TokenManager {
  private cached?: { secret: OAuthSecret; token: string; refreshAt: number };
  private inflight?: { secret: OAuthSecret; promise: Promise<string> };
  private keys = new Map<string, Promise<KeyLike>>();

  constructor(private readonly options: TokenManagerOptions) {}

  invalidate(): void {
    this.cached = undefined;
  }

  async token(secret: OAuthSecret, timeoutMs: number): Promise<string> {
    const now = this.options.clock.now();
    if (this.cached && sameSecret(this.cached.secret, secret) && now < this.cached.refreshAt) return this.cached.token;
    if (this.inflight && sameSecret(this.inflight.secret, secret)) return this.inflight.promise;
    const promise = this.fetch(secret, timeoutMs).finally(() => {
      if (this.inflight?.promise === promise) this.inflight = undefined;
    });
    this.inflight = { secret, promise };
    return promise;
  }

  private key(pem: string): Promise<KeyLike> {
    let key = this.keys.get(pem);
    if (!key) {
      // jose is loaded on first use: only OAuth connectors need it, and only when a token is due.
      key = import('jose').then((jose) => jose.importPKCS8(pem, 'RS256'));
      if (this.keys.size > 8) this.keys.clear();
      this.keys.set(pem, key);
    }
    return key;
  }

  private async fetch(secret: OAuthSecret, timeoutMs: number): Promise<string> {
    const { http, audience, tokenUrl, clock } = this.options;
    let key: KeyLike;
    try {
      key = await this.key(secret.privateKeyPem);
    } catch {
      this.keys.delete(secret.privateKeyPem);
      throw new CredentialRefusedError(`the OAuth private key of app ${secret.appId} is not a PKCS#8 RSA key`);
    }
    const nowSec = Math.floor(clock.now() / 1000);
    const { SignJWT } = await import('jose');
    const assertion = await new SignJWT({})
      .setProtectedHeader({ alg: 'RS256', kid: secret.keyId, typ: 'JWT' })
      .setIssuer(audience)
      .setSubject(secret.appId)
      .setAudience(audience)
      .setIssuedAt(nowSec - 5)
      .setExpirationTime(nowSec + 55)
      .setJti(randomUUID())
      .sign(key);
    const form = new URLSearchParams({
      grant_type: 'client_credentials',
      client_assertion_type: CLIENT_ASSERTION_TYPE,
      client_assertion: assertion,
      scope: OAUTH_SCOPE,
    }).toString();
    const requestedAt = clock.now();
    let statusCode: number;
    let text: string;
    let retryAfter: string | string[] | undefined;
    try {
      ({
        status: statusCode,
        text,
        headers: { 'retry-after': retryAfter },
      } = await http.post({
        url: tokenUrl,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: form,
        timeoutMs,
        what: 'token request',
      }));
    } catch (err) {
      if (err instanceof TransientError) throw err;
      throw new TransientError(`token request failed: ${(err as { code?: string }).code ?? (err as Error).name}`);
    }
    if (statusCode === 200) {
      let body: { access_token?: unknown; expires_in?: unknown };
      try {
        body = JSON.parse(text) as typeof body;
      } catch {
        throw new TransientError('token server answered 200 with a body that is not JSON');
      }
      if (typeof body.access_token !== 'string' || typeof body.expires_in !== 'number' || body.expires_in <= 0) {
        throw new TransientError('token server answered 200 without access_token/expires_in');
      }
      const lifetimeMs = body.expires_in * 1000;
      const refreshAt = requestedAt + lifetimeMs - Math.min(60_000, lifetimeMs / 10);
      this.cached = { secret, token: body.access_token, refreshAt };
      return body.access_token;
    }
    if (statusCode === 429 || statusCode >= 500) {
      throw new TransientError(`token server answered ${statusCode}`, parseRetryAfter(retryAfter, clock.now()));
    }
    // 400, 401, 403 (and any other refusal): the assertion or the app is not accepted.
    throw new CredentialRefusedError(
      `the token server refused OAuth app ${secret.appId} (key ${secret.keyId}): ${statusCode} ${oauthErrorCode(text)}`.trim(),
    );
  }
}

function sameSecret(a: OAuthSecret, b: OAuthSecret): boolean {
  return a === b || (a.appId === b.appId && a.keyId === b.keyId && a.privateKeyPem === b.privateKeyPem);
}

/** The OAuth `error` code of a token-server answer (a fixed vocabulary: never a secret). */
function oauthErrorCode(text: string): string {
  try {
    const code = (JSON.parse(text) as { error?: unknown }).error;
    return typeof code === 'string' && /^[a-z_]{1,64}$/.test(code) ? code : '';
  } catch {
    return '';
  }
}
