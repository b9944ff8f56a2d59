import type { Emulators } from '../../local/emulators';

export default async function globalTeardown(): Promise<void> {
  const emulators = (globalThis as { __EMULATORS__?: Emulators }).__EMULATORS__;
  if (!emulators) return;
  await emulators.stop();
  console.log('[emulators] stopped');
}
