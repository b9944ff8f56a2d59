/**
 * `fields.hash` against known vectors: the digests below were computed outside this code base, with coreutils and
 * OpenSSL (`printf a@example.com | sha256sum`, `printf a@example.com | openssl dgst -sha256 -hmac "$KEY"`).
 */
import { createFieldHasher, normalizeEmail, normalizePhone } from '../../../runtime/core/field-hash';
import { MIN_HASH_KEY_LENGTH } from '../../../shared/connector';
import { createTranslator } from '../../../runtime/core/translate';
import { testConnector } from '../../support/translate/connector-fixture';
import { sampleEvent } from '../../../common/samples';

const KEY = 'k3y-for-tests-0123456789abcdef-XYZ';
const SHA = {
  'a@example.com': '08168cd80dfd534ab0f10af10f1303fe00af2d43ab5c1432360d137f8197e17a',
  '+15550100000': 'f0a40cb78c125371571eccdc738a0a9e724cb22d9eacc365b7bdee019e956dd6',
  'Spring Launch': 'c2478779e8922742917bd9a2fce11acbbbb5e89656da4f8eff977adf80200e6a',
  '[1,2]': '49a64717d5d4cb19952e6eac2946415cf6879adacf9908e7d872332d32c6e684',
};
const HMAC = {
  'a@example.com': '1127df7c93d85f13696ee9f67bad1e636406403c5ab9479494d2437915293ad7',
  '+4915112345678': 'd8e59e697ca5beef87d97c3b0b695242fb448fca04a4841d060f0a131cb62ccb',
  'cust-4711': 'f389e34f06b7669b65f121565f92220463d6f93c0710f5f274d0f8f21fc3ffdb',
};

describe('normalization before hashing', () => {
  it('trims and lower-cases email addresses', () => {
    expect(normalizeEmail('  A@Example.COM\t')).toBe('a@example.com');
  });

  it('writes phone numbers in E.164, and leaves what cannot be E.164 trimmed', () => {
    expect(normalizePhone('+1 (555) 010-0000')).toBe('+15550100000');
    expect(normalizePhone('0049 151 1234 5678')).toBe('+4915112345678');
    expect(normalizePhone('15550100000')).toBe('+15550100000');
    expect(normalizePhone(' +49.151/12345678 ')).toBe('+4915112345678');
    expect(normalizePhone(' 12345 ')).toBe('12345');
    expect(normalizePhone('call me')).toBe('call me');
    expect(normalizePhone('+0 555 0100')).toBe('+0 555 0100');
  });
});

describe('sha256 (the default)', () => {
  const hash = createFieldHasher('sha256');

  it('matches sha256sum, after normalizing emails and phones; other strings and JSON values as they are', () => {
    expect(hash('email_address', ' A@Example.com ')).toBe(SHA['a@example.com']);
    expect(hash('to_phone_number', '+1 555 010 0000')).toBe(SHA['+15550100000']);
    expect(hash('user_phone_number', '(+1) 555-010-0000')).toBe(SHA['+15550100000']);
    expect(hash('campaign_name', 'Spring Launch')).toBe(SHA['Spring Launch']);
    expect(hash('campaign_name', ' Spring Launch')).not.toBe(SHA['Spring Launch']);
    expect(hash('suspected_bot_click_reason', [1, 2])).toBe(SHA['[1,2]']);
  });
});

describe('hmac-sha256', () => {
  it('matches OpenSSL with the same key, after the same normalization', () => {
    const hash = createFieldHasher('hmac-sha256', KEY);
    expect(hash('email_address', 'A@EXAMPLE.COM')).toBe(HMAC['a@example.com']);
    expect(hash('to_phone_number', '0049 151 12345678')).toBe(HMAC['+4915112345678']);
    expect(hash('external_user_id', 'cust-4711')).toBe(HMAC['cust-4711']);
    // A different key gives a different digest; surrounding whitespace of the secret's value is not part of the key.
    expect(createFieldHasher('hmac-sha256', `${KEY}!`)('email_address', 'a@example.com')).not.toBe(
      HMAC['a@example.com'],
    );
    expect(createFieldHasher('hmac-sha256', `${KEY}\n`)('email_address', 'a@example.com')).toBe(HMAC['a@example.com']);
  });

  it('refuses a missing or short key, saying how long it must be and never the key', () => {
    expect(() => createFieldHasher('hmac-sha256')).toThrow(
      `at least ${MIN_HASH_KEY_LENGTH} characters (none was given)`,
    );
    const short = 'short-key-value';
    expect(() => createFieldHasher('hmac-sha256', short)).toThrow(`(got ${short.length})`);
    try {
      createFieldHasher('hmac-sha256', short);
    } catch (err) {
      expect((err as Error).message).not.toContain(short);
    }
  });

  it('applies to every place the field lands, through the translator', () => {
    const connector = testConnector({
      events: ['email', 'rcs'],
      fields: { hash: ['email_address', 'external_user_id', 'to_phone_number'], hashAlgorithm: 'hmac-sha256' },
    });
    expect(() => createTranslator(connector)).toThrow('hash key');
    const t = createTranslator(connector, { hashKey: KEY });
    const email = sampleEvent('users.messages.email.Open', {
      email_address: 'A@example.com',
      external_user_id: 'cust-4711',
    });
    const call = t.translateMessage(JSON.stringify(email)).send[0]!.call;
    expect(call.userId).toBe(HMAC['cust-4711']);
    expect(call.context.traits).toEqual({ email: HMAC['a@example.com'] });
    const rcs = sampleEvent('users.messages.rcs.Send', { to_phone_number: '+49 151 12345678' });
    const r = t.translateMessage(JSON.stringify(rcs)).send[0]!.call;
    expect(r.context.traits).toEqual({ phone: HMAC['+4915112345678'] });
    expect(r.properties.to_phone_number).toBe(HMAC['+4915112345678']);
    expect(JSON.stringify(r)).not.toContain('12345678"');
  });
});
