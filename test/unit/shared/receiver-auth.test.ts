/**
 * The receiver token's one interface (shared/receiver-auth.ts): what every client sends is what the door accepts.
 */
import fc from 'fast-check';
import {
  bearerToken,
  isReceiverTokenForm,
  newReceiverToken,
  receiverAuthHeaders,
  receiverAuthorization,
  RECEIVER_TOKEN_BYTES,
  tokenAccepted,
  tokenDigest,
} from '../../../shared/receiver-auth';

describe('the receiver token', () => {
  it('is made of RECEIVER_TOKEN_BYTES random bytes, base64url, different every time', () => {
    const tokens = new Set(Array.from({ length: 100 }, () => newReceiverToken()));
    expect(tokens.size).toBe(100);
    for (const t of tokens) {
      expect(t).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(Buffer.from(t, 'base64url')).toHaveLength(RECEIVER_TOKEN_BYTES);
    }
    expect(newReceiverToken((n) => Buffer.alloc(n, 0xff))).toBe('_'.repeat(42) + '8');
  });

  it('a token a client sends with receiverAuthorization is the token the door reads and accepts', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 64 }), (bytes) => {
        const token = Buffer.from(bytes).toString('base64url');
        expect(isReceiverTokenForm(token)).toBe(true);
        expect(bearerToken(receiverAuthorization(token))).toBe(token);
        expect(bearerToken(receiverAuthHeaders(token).authorization)).toBe(token);
        expect(tokenAccepted(bearerToken(receiverAuthorization(token)), [tokenDigest(token)])).toBe(true);
      }),
    );
  });

  it('reads the scheme in any case and tolerates spaces, and nothing but a bearer token', () => {
    expect(bearerToken('bearer   abc=')).toBe('abc=');
    expect(bearerToken('BEARER abc ')).toBe('abc');
    for (const h of ['Basic abc', 'Bearer', 'Bearer a b', 'Bearer a"b', 'Bearerabc', '', undefined, ['Bearer a']]) {
      expect(bearerToken(h)).toBeUndefined();
    }
    expect(isReceiverTokenForm('a b')).toBe(false);
    expect(isReceiverTokenForm('abc=')).toBe(true);
    expect(isReceiverTokenForm('=abc')).toBe(false);
    expect(receiverAuthHeaders(undefined)).toEqual({});
  });

  it('accepts only a token of the accepted ones', () => {
    const [a, b, c] = [newReceiverToken(), newReceiverToken(), newReceiverToken()];
    const accepted = [tokenDigest(a), tokenDigest(b)];
    expect(tokenAccepted(a, accepted)).toBe(true);
    expect(tokenAccepted(b, accepted)).toBe(true);
    expect(tokenAccepted(c, accepted)).toBe(false);
    expect(tokenAccepted(a.slice(0, -1), accepted)).toBe(false);
    expect(tokenAccepted(undefined, accepted)).toBe(false);
    expect(tokenAccepted(a, [])).toBe(false);
  });
});
