/**
 * What `fields.hash` does to a value (docs/events.md "Hashing" says the same in words):
 * 1. normalize what ad platforms expect normalized: an email address (`email_address`) is trimmed and lower-cased; a
 *    phone number (any field whose name ends in `phone_number`) is written in E.164 (`+` and 7 to 15 digits: spaces,
 *    dashes, dots, slashes and parentheses removed, a leading `00` becomes `+`, a number without `+` gets one); a phone
 *    value that still is not E.164 after that is only trimmed. Other strings are hashed as they are; a value that is
 *    not a string (a number, a list) is hashed as its JSON text.
 * 2. hash the UTF-8 bytes: SHA-256 (`hashAlgorithm: 'sha256'`, the default), or HMAC-SHA256 keyed with the
 *    connector's hash key (`'hmac-sha256'`; the key is the hash-key secret's value, read from Secret Manager).
 * 3. write the digest as 64 lowercase hex characters.
 * Pure: no I/O (node:crypto only computes).
 */
import { createHash, createHmac } from 'node:crypto';
import { type HashAlgorithm, MIN_HASH_KEY_LENGTH } from '../../shared/connector';

/** Hashes one field's value (the field name decides the normalization). */
export type FieldHasher = (field: string, value: unknown) => string;

export function normalizeEmail(value: string): string {
  return value.trim().toLowerCase();
}

const PHONE_PUNCTUATION = /[\s().\-/]/g;
const E164 = /^\+[1-9]\d{6,14}$/;

/** A phone number in E.164 when it can be written so; otherwise the value trimmed. */
export function normalizePhone(value: string): string {
  const trimmed = value.trim();
  let v = trimmed.replace(PHONE_PUNCTUATION, '');
  if (v.startsWith('00')) v = `+${v.slice(2)}`;
  else if (!v.startsWith('+')) v = `+${v}`;
  return E164.test(v) ? v : trimmed;
}

/** The text a field's value is hashed as (step 1 above). */
export function hashInput(field: string, value: unknown): string {
  if (typeof value !== 'string') return JSON.stringify(value);
  if (field === 'email_address') return normalizeEmail(value);
  if (field.endsWith('phone_number')) return normalizePhone(value);
  return value;
}

/** The hasher of a connector's field policy; HMAC needs its key (the secret's value). Throws on a missing or short key. */
export function createFieldHasher(algorithm: HashAlgorithm, key?: string): FieldHasher {
  if (algorithm === 'sha256') {
    return (field, value) => createHash('sha256').update(hashInput(field, value), 'utf8').digest('hex');
  }
  const k = key?.trim() ?? '';
  if (k.length < MIN_HASH_KEY_LENGTH) {
    throw new Error(
      `fields.hashAlgorithm 'hmac-sha256' needs the connector's hash key of at least ${MIN_HASH_KEY_LENGTH} characters ` +
        `(${k.length ? `got ${k.length}` : 'none was given'}); put it in the hash-key secret`,
    );
  }
  return (field, value) => createHmac('sha256', k).update(hashInput(field, value), 'utf8').digest('hex');
}
