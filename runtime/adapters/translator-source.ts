/**
 * The connector's translator as the function uses it. With `fields.hashAlgorithm: 'hmac-sha256'` the translator needs
 * the connector's hash key, read (and cached for a minute, so that a rotation is picked up) from its secret: the app
 * asks for the translator on each push, and gets one rebuilt only when the key changed. A key that cannot be read, or
 * is too short, fails the push (503: Pub/Sub keeps the message) with a message that never contains the key.
 */
import type { Connector } from '../../shared/connector';
import { createTranslator, type Translator } from '../core/translate';
import type { Clock } from '../core/types';
import type { SecretSource } from './secrets';

export function translatorSource(
  connector: Connector,
  hashKey: () => SecretSource,
  clock?: Clock,
): Translator | (() => Promise<Translator>) {
  if (connector.fields.hashAlgorithm !== 'hmac-sha256') return createTranslator(connector, { clock });
  const source = hashKey();
  let built: { key: string; translator: Translator } | undefined;
  return async () => {
    const key = await source.read();
    if (built?.key !== key) built = { key, translator: createTranslator(connector, { hashKey: key, clock }) };
    return built.translator;
  };
}
