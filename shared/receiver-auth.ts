/**
 * The receiver token: the bearer token that opens a workspace's door. Braze sends it with every Currents request (its
 * Custom Currents Export's API key); the CLI's checks, the local Braze, `npm start` and the benches send it the same
 * way; the door checks it here. One name, one form, one generator, one header and one check, so that what a client
 * sends and what the door accepts cannot drift apart. The local function hosts' invoker token uses the same check.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** What the product calls it, in every message, command and check. */
export const RECEIVER_TOKEN = 'receiver token';

/** Random bytes in a new token: 256 bits, far beyond guessing through a public URL. */
export const RECEIVER_TOKEN_BYTES = 32;

/** A token's form: RFC 6750's b64token characters (the only ones an `Authorization: Bearer` header may carry). */
const TOKEN_FORM = '[A-Za-z0-9\\-._~+/]+=*';
const TOKEN = new RegExp(`^${TOKEN_FORM}$`);
const BEARER = new RegExp(`^Bearer +(${TOKEN_FORM}) *$`, 'i');

/** A new token: `RECEIVER_TOKEN_BYTES` random bytes, base64url without padding (43 characters of `A–Z a–z 0–9 - _`). */
export function newReceiverToken(random: (n: number) => Buffer = randomBytes): string {
  return random(RECEIVER_TOKEN_BYTES).toString('base64url');
}

/** True when `token` can be sent in an `Authorization: Bearer` header at all. */
export function isReceiverTokenForm(token: string): boolean {
  return TOKEN.test(token);
}

/** The `Authorization` header value that carries `token`. */
export function receiverAuthorization(token: string): string {
  return `Bearer ${token}`;
}

/** The headers a client sends a door with `token` (none without one). */
export function receiverAuthHeaders(token: string | undefined): { authorization?: string } {
  return token === undefined ? {} : { authorization: receiverAuthorization(token) };
}

/** The token of an `Authorization: Bearer <token>` header, or undefined. */
export function bearerToken(header: string | readonly string[] | undefined): string | undefined {
  if (typeof header !== 'string') return undefined;
  return BEARER.exec(header)?.[1];
}

/** A token in the form it is compared in: its SHA-256, so that every comparison takes the same time whatever the length. */
export type TokenDigest = Buffer;

export function tokenDigest(token: string): TokenDigest {
  return createHash('sha256').update(token, 'utf8').digest();
}

/**
 * True when `presented` is one of `accepted`. Constant time: every accepted digest is compared (no early exit), each
 * with `timingSafeEqual`, so the answer's timing says nothing about which token, or how much of one, matched.
 */
export function tokenAccepted(presented: string | undefined, accepted: readonly TokenDigest[]): boolean {
  if (presented === undefined || accepted.length === 0) return false;
  const digest = tokenDigest(presented);
  let match = false;
  for (const a of accepted) match = timingSafeEqual(digest, a) || match;
  return match;
}
