/**
 * A whole environment running locally: the Pub/Sub and Firestore emulators, one local Segment server per region (US and
 * EU, so region routing is visible), and every connector of the environment created on the emulators exactly as the
 * infrastructure declares it, each with its function served by functions-framework in its own process.
 *
 * Used by `npm start`, the soak and the end-to-end benchmark; tests build the same pieces per test.
 */
import { randomBytes } from 'node:crypto';
import type { PubSub } from '@google-cloud/pubsub';
import type { Connector, Environment, SegmentRegion } from '../shared/connector';
import { forEachRegion } from '../shared/regions';
import {
  makeLocalCredential,
  makeReceiverToken,
  startLocalConnector,
  type LocalArtifacts,
  type LocalConnector,
  type LocalCredential,
} from './connector-runner';
import { startEmulators, type Emulators } from './emulators';
import type { ProvisionOptions } from './provision';
import { startSegmentServer, type LocalSegmentServer } from './segment-server';

export interface LocalStackOptions {
  readonly environment: Environment;
  /** Only these connectors (default: all of the environment). */
  readonly connectors?: readonly Connector[];
  /** Reuse running emulators (tests); otherwise they are started and stopped with the stack. */
  readonly emulators?: Emulators;
  /** Project id on the emulators (default: the environment's). */
  readonly projectId?: string;
  readonly testClock?: boolean;
  readonly deliveryBudgetMs?: number;
  readonly provision?: Omit<ProvisionOptions, 'pushEndpoint'>;
  /** Keep every accepted call's body on the Segment servers (default true; the benchmark turns it off). */
  readonly recordCalls?: boolean;
  /** A label put into generated write keys, so that tests can recognise them. */
  readonly credentialLabel?: string;
  readonly onLog?: (connector: string, line: string) => void;
  /** Also serve each connector's receiver, with a fresh token each (npm start; tests of the door). */
  readonly receivers?: boolean;
  /** Serve built archives instead of the source (the artifact test). */
  readonly artifacts?: LocalArtifacts;
}

export interface LocalStack {
  readonly environment: Environment;
  readonly projectId: string;
  readonly emulators: Emulators;
  readonly pubsub: PubSub;
  readonly servers: Readonly<Record<SegmentRegion, LocalSegmentServer>>;
  readonly connectors: readonly LocalConnector[];
  readonly credentials: ReadonlyMap<string, LocalCredential>;
  /** The environment's Segment Public API token, accepted by both local Segment servers. */
  readonly publicApiToken: string;
  connector(name: string): LocalConnector;
  /** Stops everything the stack started, in reverse order. Safe to call twice. */
  stop(): Promise<void>;
}

export async function startLocalStack(options: LocalStackOptions): Promise<LocalStack> {
  const cleanups: (() => Promise<unknown>)[] = [];
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
  };
  try {
    const emulators = options.emulators ?? (await startEmulators({ projectId: options.projectId }));
    if (!options.emulators) cleanups.push(() => emulators.stop());
    const projectId = options.projectId ?? options.environment.project;
    const connectors = options.connectors ?? options.environment.connectors;
    const credentials = new Map(connectors.map((c) => [c.name, makeLocalCredential(c, options.credentialLabel)]));
    const forRegion = (region: SegmentRegion) => connectors.filter((c) => c.segment.region === region);
    const publicApiToken = `papi_${options.credentialLabel ?? 'local'}_${randomBytes(12).toString('hex')}`;
    const startServer = async (region: SegmentRegion) => {
      const creds = forRegion(region).map((c) => credentials.get(c.name)!);
      const server = await startSegmentServer({
        region,
        sources: creds.flatMap((c) => (c.writeKey ? [{ id: c.sourceId!, writeKeys: [c.writeKey] }] : [])),
        publicApiTokens: [publicApiToken],
        oauthApps: creds.flatMap((c) => (c.oauthApp ? [c.oauthApp] : [])),
        recordCalls: options.recordCalls ?? true,
      });
      cleanups.push(() => server.close());
      return server;
    };
    const servers = await forEachRegion(startServer);
    const { PubSub } = await import('@google-cloud/pubsub');
    const pubsub = new PubSub({
      projectId,
      apiEndpoint: emulators.env.PUBSUB_EMULATOR_HOST,
      emulatorMode: true,
    } as ConstructorParameters<typeof PubSub>[0]);
    cleanups.push(() => pubsub.close());
    const locals = await Promise.all(
      connectors.map(async (connector) => {
        const local = await startLocalConnector({
          environment: { name: options.environment.name, project: projectId },
          connector,
          pubsub,
          emulatorEnv: emulators.env,
          segment: servers[connector.segment.region],
          credential: credentials.get(connector.name)!,
          publicApiToken,
          testClock: options.testClock,
          deliveryBudgetMs: options.deliveryBudgetMs,
          provision: options.provision,
          receiver: options.receivers ? { tokens: [makeReceiverToken()] } : undefined,
          artifacts: options.artifacts,
          onLog: options.onLog && ((line) => options.onLog!(connector.name, line)),
        });
        cleanups.push(() => local.stop());
        return local;
      }),
    );
    return {
      environment: options.environment,
      projectId,
      emulators,
      pubsub,
      servers,
      connectors: locals,
      credentials,
      publicApiToken,
      connector: (name) => {
        const found = locals.find((l) => l.connector.name === name);
        if (!found) throw new Error(`no connector '${name}' in the local stack`);
        return found;
      },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
