import { generateKeyPairSync } from 'node:crypto';
import type { CredentialSource, DeliveryItem, SegmentSecret, SegmentTrackCall } from '../../../runtime/core/types';

export interface Item extends DeliveryItem {
  readonly n: number;
}

/** A track call of roughly `size` bytes (ASCII padding), with messageId `${prefix}-${n}`. */
export function makeItem(n: number, size = 300, prefix = 'm'): Item {
  const call: SegmentTrackCall = {
    type: 'track',
    event: 'Email Opened',
    userId: `user-${n % 97}`,
    messageId: `${prefix}-${n}`,
    timestamp: new Date(1_700_000_000_000 + n * 1000).toISOString(),
    context: { library: { name: 'currents-test', version: '0' } },
    properties: { pad: '' },
  };
  const base = JSON.stringify(call).length;
  call.properties.pad = 'x'.repeat(Math.max(0, size - base));
  return { n, messageId: call.messageId, json: JSON.stringify(call) };
}

export const makeItems = (count: number, size = 300, prefix = 'm') =>
  Array.from({ length: count }, (_, i) => makeItem(i, size, prefix));

/** A clock that only moves when the client sleeps: retries and budgets without real waiting. */
export function fakeTime(start = 1_700_000_000_000) {
  const sleeps: number[] = [];
  const clock = { t: start, now: () => clock.t };
  const sleep = async (ms: number) => {
    sleeps.push(ms);
    clock.t += ms;
    await new Promise((r) => setImmediate(r));
  };
  return { clock, sleep, sleeps };
}

/** A CredentialSource over a mutable secret, counting reads and invalidations. */
export function staticCredentials(secret: SegmentSecret | (() => SegmentSecret)) {
  const source = {
    gets: 0,
    invalidations: 0,
    secret,
    async get() {
      source.gets++;
      return typeof source.secret === 'function' ? source.secret() : source.secret;
    },
    invalidate() {
      source.invalidations++;
    },
  };
  return source satisfies CredentialSource;
}

export function rsaKeyPair() {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  };
}

/** Every item in exactly one list of the report, none twice. */
export function outcomeIds(report: {
  delivered: DeliveryItem[];
  rejected: { item: DeliveryItem }[];
  retryLater: DeliveryItem[];
  credentialFailure: DeliveryItem[];
}): string[] {
  return [
    ...report.delivered.map((i) => i.messageId),
    ...report.rejected.map((r) => r.item.messageId),
    ...report.retryLater.map((i) => i.messageId),
    ...report.credentialFailure.map((i) => i.messageId),
  ].sort();
}
