/**
 * Jest global setup: starts the real Pub/Sub and Firestore emulators on free loopback ports and exports their hosts to
 * every test worker (workers inherit this process's environment). The teardown stops them; an exit hook kills the
 * process groups should jest end any other way.
 */
import { killEmulatorGroupsSync, startEmulators } from '../../local/emulators';

export default async function globalSetup(): Promise<void> {
  const started = Date.now();
  const emulators = await startEmulators({ projectId: 'currents-test' });
  Object.assign(process.env, emulators.env);
  (globalThis as { __EMULATORS__?: unknown }).__EMULATORS__ = emulators;
  const pids = [emulators.pubsub.pid, emulators.firestore.pid];
  process.once('exit', () => killEmulatorGroupsSync(pids));
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      killEmulatorGroupsSync(pids);
      process.exit(130);
    });
  }
  console.log(
    `\n[emulators] pubsub on ${emulators.pubsub.host}, firestore on ${emulators.firestore.host} ` +
      `(project ${emulators.projectId}), ready in ${Date.now() - started} ms`,
  );
}
