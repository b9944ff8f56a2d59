/**
 * The local Segment server's credentials: who a tracking request comes from (write key or access token), credential
 * revocations, and the OAuth token endpoint that issues access tokens for JWT client assertions.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { decodeProtectedHeader, importSPKI, jwtVerify, type KeyLike } from 'jose';
import { CLIENT_ASSERTION_TYPE, OAUTH_SCOPE, SEGMENT_ENDPOINTS } from '../../runtime/adapters/segment/endpoints';
import type { SegmentRegion } from '../../shared/connector';
import { bump } from './counters';
import type { ServerContext } from './context';
import { answerFault } from './faults';
import { readBody, send } from './http-io';
import type { CredentialRevocation, SegmentServerOptions } from './types';
import type { Sender, Workspace } from './workspace';

/** A tracking request whose credential is refused (401), with the reason. */
export class AuthError extends Error {}

interface Revocation extends Required<Pick<CredentialRevocation, 'at'>> {
  writeKey?: string;
  appId?: string;
}

/** The registered OAuth apps, issued tokens, used JWT ids and revocations; `reset()` forgets all but the apps. */
export class Credentials {
  private readonly apps = new Map<string, { appId: string; key: Promise<KeyLike> }>();
  private revocations: Revocation[] = [];
  private tokens = new Map<string, { appId: string; expiresAt: number }>();
  private usedJti = new Set<string>();
  /** The server's own URL, once it listens: a JWT's accepted audience beside the region's real token server. */
  baseUrl = '';

  constructor(
    options: SegmentServerOptions,
    private readonly region: SegmentRegion,
    private readonly now: () => number,
    private readonly tokenTtlSeconds: number,
  ) {
    for (const app of options.oauthApps ?? []) {
      const key = importSPKI(app.publicKeyPem, 'RS256');
      key.catch(() => undefined); // reported when used
      this.apps.set(app.keyId, { appId: app.appId, key });
    }
  }

  revoke(revocation: CredentialRevocation = {}): void {
    this.revocations.push({ at: revocation.at ?? this.now(), writeKey: revocation.writeKey, appId: revocation.appId });
  }

  restore(): void {
    this.revocations = [];
  }

  expireTokens(): void {
    this.tokens = new Map();
  }

  reset(): void {
    this.revocations = [];
    this.tokens = new Map();
    this.usedJti = new Set();
  }

  isRevoked(match: { writeKey?: string; appId?: string }): boolean {
    return this.revocations.some(
      (r) =>
        this.now() >= r.at &&
        ((r.writeKey === undefined && r.appId === undefined) ||
          (r.writeKey !== undefined && r.writeKey === match.writeKey) ||
          (r.appId !== undefined && r.appId === match.appId)),
    );
  }

  /** Who sent a tracking request; throws AuthError for a missing or refused Authorization header. */
  authenticate(req: IncomingMessage, workspace: Workspace): Sender {
    const header = req.headers.authorization ?? '';
    const [scheme, value = ''] = header.split(' ', 2);
    if (scheme === 'Basic') {
      const decoded = Buffer.from(value, 'base64').toString('utf8');
      const sep = decoded.indexOf(':');
      const key = sep < 0 ? decoded : decoded.slice(0, sep);
      return workspace.senderOf(key, this.isRevoked({ writeKey: key }));
    }
    if (scheme === 'Bearer') {
      const token = this.tokens.get(value);
      if (!token) throw new AuthError('unknown access token');
      if (this.now() >= token.expiresAt) throw new AuthError('access token expired');
      if (this.isRevoked({ appId: token.appId })) throw new AuthError('OAuth app revoked');
      return { kind: 'oauth', appId: token.appId };
    }
    throw new AuthError('missing or unsupported Authorization header');
  }

  private audiences(): string[] {
    return [this.baseUrl, SEGMENT_ENDPOINTS[this.region].tokenServer];
  }

  /** Checks a client assertion and issues an access token: the answer's status and body. */
  async exchange(assertion: string): Promise<{ status: number; body: unknown }> {
    const refuse = (why: string) => ({ status: 401, body: { error: 'invalid_client', error_description: why } });
    let kid: string | undefined;
    try {
      const header = decodeProtectedHeader(assertion);
      if (header.alg !== 'RS256') return refuse('alg must be RS256');
      kid = header.kid;
    } catch {
      return { status: 400, body: { error: 'invalid_request', error_description: 'client_assertion is not a JWT' } };
    }
    const app = kid === undefined ? undefined : this.apps.get(kid);
    if (!app) return refuse('unknown kid');
    let payload: { iss?: string; jti?: string; exp?: number };
    try {
      ({ payload } = await jwtVerify(assertion, await app.key, {
        algorithms: ['RS256'],
        audience: this.audiences(),
        subject: app.appId,
        requiredClaims: ['exp', 'jti', 'iss'],
        currentDate: new Date(this.now()),
        clockTolerance: 5,
      }));
    } catch (err) {
      return refuse(`assertion does not verify: ${(err as Error).message}`);
    }
    if (payload.iss !== app.appId && !this.audiences().includes(payload.iss ?? '')) return refuse('unexpected iss');
    if (payload.exp! * 1000 > this.now() + 5 * 60_000) return refuse('exp too far in the future');
    if (this.usedJti.has(payload.jti!)) return refuse('jti already used');
    this.usedJti.add(payload.jti!);
    if (this.isRevoked({ appId: app.appId })) return refuse('OAuth app revoked');
    const token = randomBytes(24).toString('base64url');
    this.tokens.set(token, { appId: app.appId, expiresAt: this.now() + this.tokenTtlSeconds * 1000 });
    return {
      status: 200,
      body: { access_token: token, token_type: 'Bearer', expires_in: this.tokenTtlSeconds, scope: OAUTH_SCOPE },
    };
  }
}

/** `POST /token`: the OAuth token endpoint (form-encoded client-credentials grant with a JWT client assertion). */
export async function handleToken(ctx: ServerContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const body = (await readBody(req)) ?? Buffer.alloc(0);
  const answer = (status: number, payload: unknown) => {
    bump(ctx.counters.tokenRequestsByStatus, status);
    send(res, status, payload);
  };
  const fault = await ctx.faults.decide('token');
  if (answerFault(res, fault, ctx.counters.tokenRequestsByStatus, () => ({ error: 'temporarily_unavailable' }))) return;
  const form = new URLSearchParams(body.toString('utf8'));
  if (form.get('grant_type') !== 'client_credentials') return answer(400, { error: 'unsupported_grant_type' });
  if (form.get('client_assertion_type') !== CLIENT_ASSERTION_TYPE) return answer(400, { error: 'invalid_request' });
  if (form.get('scope') !== OAUTH_SCOPE) return answer(400, { error: 'invalid_scope' });
  const assertion = form.get('client_assertion');
  if (!assertion) return answer(400, { error: 'invalid_request' });
  const result = await ctx.credentials.exchange(assertion);
  if (result.status === 200) ctx.counters.tokensIssued++;
  return answer(result.status, result.body);
}
