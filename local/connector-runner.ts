/**
 * Runs one connector locally, end to end, exactly as it is deployed: its Pub/Sub resources created on the emulator
 * from the same names and policy as the infrastructure (local/provision.ts), its function served by the real
 * functions-framework in its own process with the environment variables the infrastructure would give it (plus the
 * local-only overrides: the local Segment server's URL for the Tracking API and the Public API, the credential in a
 * local secret file (changed or removed with `setSecret`, as a person would add or disable a secret version), the
 * Public API token, the movable clock).
 *
 * Used by the function's end-to-end tests, `npm start`, the soak and the end-to-end benchmark.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PubSub } from '@google-cloud/pubsub';
import type { Connector, Environment } from '../shared/connector';
import type { ConnectorResourceNames } from '../shared/names';
import { ENV_VARS, functionEnvironment } from '../shared/runtime-config';
import type { LocalDoor } from './door-runner';
import { newReceiverToken } from '../shared/receiver-auth';
import { startFunctionHost, type FunctionHost } from './function-host';
import { forgetPath, guardPath } from './reaper';
import { provisionConnector, type ProvisionOptions } from './provision';
import type { OAuthAppRegistration } from './segment-server';

/** A credential for a local run: the secret value the function reads, and what the local Segment server accepts. */
export interface LocalCredential {
  /** The value that would be in Secret Manager (write key, or the OAuth app's PEM private key). */
  readonly secretValue: string;
  readonly writeKey?: string;
  /** The local Segment source the write key belongs to: the connector's `segment.sourceId`, or one made up. */
  readonly sourceId?: string;
  readonly oauthApp?: OAuthAppRegistration;
}

/** Makes a fresh credential of the connector's declared kind. `label` makes write keys recognisable in tests. */
export function makeLocalCredential(connector: Connector, label = 'local'): LocalCredential {
  const cred = connector.segment.credential;
  if (cred.kind === 'writeKey') {
    const writeKey = `wk_${label}_${connector.name}_${randomBytes(12).toString('hex')}`;
    const sourceId = connector.segment.sourceId ?? `src_${connector.name.replace(/-/g, '_')}`;
    return { secretValue: writeKey, writeKey, sourceId };
  }
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    secretValue: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    oauthApp: {
      appId: cred.appId,
      keyId: cred.keyId,
      publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    },
  };
}

export interface LocalConnectorOptions {
  readonly environment: Pick<Environment, 'name' | 'project'>;
  readonly connector: Connector;
  readonly pubsub: PubSub;
  /** PUBSUB_EMULATOR_HOST, FIRESTORE_EMULATOR_HOST, … */
  readonly emulatorEnv: Record<string, string>;
  /** The local Segment server of the connector's region. */
  readonly segment: { url: string; tokenUrl: string };
  readonly credential: LocalCredential;
  /** The environment's Public API token (the local Segment server accepts it at `GET /sources/{id}`). */
  readonly publicApiToken?: string;
  /** Let the clock be moved through POST /__clock (expiry scenarios). */
  readonly testClock?: boolean;
  /** Delivery budget of one push in ms (tests that want Pub/Sub to redeliver soon). */
  readonly deliveryBudgetMs?: number;
  /** Subscription overrides for tests that cannot wait for production backoffs. */
  readonly provision?: Omit<ProvisionOptions, 'pushEndpoint'>;
  readonly onLog?: (line: string) => void;
  /** Serve built archives (unpacked and installed directories) instead of the source (see FunctionHostOptions). */
  readonly artifacts?: LocalArtifacts;
}

/** Directories holding the unpacked, installed archives of the function and of the receiver. */
export interface LocalArtifacts {
  readonly function?: string;
  readonly receiver?: string;
  /** The Node.js binary that serves them (e.g. the deployed runtime's major); default: the one running this. */
  readonly node?: string;
}

/** The door of the connector's workspace (local/door-runner.ts): where Braze posts the connector's events. */
export type LocalReceiver = Pick<LocalDoor, 'url' | 'token' | 'host' | 'workspace'>;

export interface LocalConnector {
  readonly connector: Connector;
  readonly names: ConnectorResourceNames;
  readonly host: FunctionHost;
  /** The door of its workspace, when the stack serves doors (shared with the workspace's other connectors). */
  readonly receiver?: LocalReceiver;
  /** The function's environment variables (to start another instance of the same function). */
  readonly env: Readonly<Record<string, string>>;
  /** Publishes one message to the connector's ingest topic; resolves with its Pub/Sub message id. */
  publish(data: string | Buffer, attributes?: Record<string, string>): Promise<string>;
  /** Calls the function's probe route, as Cloud Scheduler does. */
  probe(): Promise<Record<string, unknown>>;
  /**
   * Puts a new value into the connector's (local) secret, or removes it (`undefined`): what the function reads next
   * time it re-reads the secret (after a credential failure, at each probe, or when its cache expires).
   */
  setSecret(value: string | undefined): void;
  /** Moves the function's clock (requires testClock). */
  setClockOffset(offsetMs: number): Promise<void>;
  stop(): Promise<void>;
}

/**
 * The hash key of a local run's connector that hashes with hmac-sha256 (`fields.hashAlgorithm`), unless
 * CURRENTS_HASH_KEY gives one: deployed, the key is in the connector's hash-key secret. Not a secret.
 */
export const LOCAL_HASH_KEY = 'local-run-hash-key-not-a-secret-0123456789';

/**
 * A private directory for a local run's secret files, removed on every exit path: by `remove()` (a clean stop), by an
 * exit hook (process.exit, e.g. a stop that outlasted its grace), and by the reaper's watcher (the run killed outright).
 */
export function secretDirectory(connectorName: string): { readonly dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), `currents-secret-${connectorName}-`));
  const remove = () => {
    rmSync(dir, { recursive: true, force: true });
    process.removeListener('exit', remove);
    forgetPath(dir);
  };
  process.on('exit', remove);
  guardPath(dir);
  return { dir, remove };
}

export async function startLocalConnector(options: LocalConnectorOptions): Promise<LocalConnector> {
  const { connector, pubsub } = options;
  const secrets = secretDirectory(connector.name);
  const secretFile = join(secrets.dir, 'secret');
  const setSecret = (value: string | undefined) =>
    value === undefined ? rmSync(secretFile, { force: true }) : writeFileSync(secretFile, value, { mode: 0o600 });
  setSecret(options.credential.secretValue);
  const env: Record<string, string> = {
    ...options.emulatorEnv,
    ...functionEnvironment(options.environment, connector),
    [ENV_VARS.segmentBaseUrl]: options.segment.url,
    [ENV_VARS.segmentTokenUrl]: options.segment.tokenUrl,
    [ENV_VARS.publicApiBaseUrl]: options.segment.url,
    ...(options.publicApiToken ? { [ENV_VARS.publicApiToken]: options.publicApiToken } : {}),
    [ENV_VARS.secretSource]: 'file',
    [ENV_VARS.secretFile]: secretFile,
    ...(options.testClock ? { [ENV_VARS.testClock]: '1' } : {}),
    // Only who holds it may push or probe, as only the push and scheduler accounts may invoke the deployed function.
    [ENV_VARS.invokerToken]: newReceiverToken(),
    ...(options.deliveryBudgetMs ? { [ENV_VARS.deliveryBudgetMs]: String(options.deliveryBudgetMs) } : {}),
    ...(connector.fields.hashAlgorithm === 'hmac-sha256'
      ? { [ENV_VARS.hashKey]: process.env[ENV_VARS.hashKey] || LOCAL_HASH_KEY }
      : {}),
  };
  const onLine = options.onLog && ((line: string) => options.onLog!(line));
  const node = options.artifacts?.node;
  const host = await startFunctionHost({ env, onLine, artifact: options.artifacts?.function, node }).catch(
    (err: unknown) => {
      secrets.remove();
      throw err;
    },
  );
  let names: ConnectorResourceNames;
  try {
    names = await provisionConnector(pubsub, connector, { ...options.provision, pushEndpoint: host.pushEndpoint });
  } catch (err) {
    await host.stop();
    secrets.remove();
    throw err;
  }
  const topic = pubsub.topic(names.ingestTopic, { batching: { maxMessages: 100, maxMilliseconds: 5 } });
  const post = async (path: string, body: unknown) => {
    const res = await fetch(`${host.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...host.headers },
      body: JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${path} answered ${res.status}: ${text}`);
    return (text ? JSON.parse(text) : {}) as Record<string, unknown>;
  };
  return {
    connector,
    names,
    host,
    env,
    publish: (data, attributes) => topic.publishMessage({ data: Buffer.from(data), attributes }),
    probe: () => post('/probe', {}),
    setSecret,
    setClockOffset: async (offsetMs) => {
      await post('/__clock', { offsetMs });
    },
    stop: async () => {
      await topic.flush().catch(() => undefined);
      await pubsub
        .subscription(names.pushSubscription)
        .delete()
        .catch(() => undefined);
      await host.stop();
      secrets.remove();
    },
  };
}
