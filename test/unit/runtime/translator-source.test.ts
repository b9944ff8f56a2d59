/** The function's translator with a keyed hash: the key read from its secret, rebuilt on rotation, never in a message. */
import { translatorSource } from '../../../runtime/adapters/translator-source';
import type { SecretSource } from '../../../runtime/adapters/secrets';
import { CredentialUnavailableError } from '../../../runtime/core/types';
import { sampleEvent } from '../../../common/samples';
import { testConnector } from '../../support/translate/connector-fixture';

const connector = (hashAlgorithm: 'sha256' | 'hmac-sha256') =>
  testConnector({ fields: { hash: ['email_address'], hashAlgorithm } });

/** A secret whose value the test sets (undefined: the secret cannot be read). */
function secret(): SecretSource & { value?: string; reads: number } {
  const s = {
    value: undefined as string | undefined,
    reads: 0,
    label: 'test secret',
    read: async () => {
      s.reads++;
      if (s.value === undefined) throw new CredentialUnavailableError('test secret has no enabled version');
      return s.value;
    },
    invalidate: () => undefined,
  };
  return s;
}

const body = JSON.stringify(sampleEvent('users.messages.email.Open', { email_address: 'a@example.com' }));
const traitOf = async (t: ReturnType<typeof translatorSource>) => {
  const translator = typeof t === 'function' ? await t() : t;
  return translator.translateMessage(body).send[0]!.call.context.traits;
};

describe('translatorSource', () => {
  it('needs no key for sha256: a plain translator, the secret never read', async () => {
    const key = secret();
    const t = translatorSource(connector('sha256'), () => key);
    expect(typeof t).toBe('object');
    expect(await traitOf(t)).toEqual({
      email: '08168cd80dfd534ab0f10af10f1303fe00af2d43ab5c1432360d137f8197e17a',
    });
    expect(key.reads).toBe(0);
  });

  it('reads the key for hmac-sha256, rebuilds on rotation, and fails without the key in the message', async () => {
    const key = secret();
    const t = translatorSource(connector('hmac-sha256'), () => key);
    expect(typeof t).toBe('function');
    await expect(traitOf(t)).rejects.toThrow('test secret has no enabled version');
    key.value = 'too-short-a-key';
    const err = await traitOf(t).catch((e: Error) => e);
    expect((err as Error).message).toMatch(/at least 32 characters \(got 15\)/);
    expect((err as Error).message).not.toContain('too-short-a-key');
    key.value = 'k3y-for-tests-0123456789abcdef-XYZ';
    // printf a@example.com | openssl dgst -sha256 -hmac k3y-for-tests-0123456789abcdef-XYZ
    expect(await traitOf(t)).toEqual({
      email: '1127df7c93d85f13696ee9f67bad1e636406403c5ab9479494d2437915293ad7',
    });
    key.value = 'another-key-after-rotation-0123456789';
    expect(await traitOf(t)).not.toEqual({
      email: '1127df7c93d85f13696ee9f67bad1e636406403c5ab9479494d2437915293ad7',
    });
  });
});
