/**
 * Serves one Braze workspace's door locally exactly as it is deployed: the receiver served by the real
 * functions-framework in its own process, configured by the environment variables the infrastructure derives from the
 * workspace's connector definitions (shared/door-config.ts), publishing to their ingest topics on the Pub/Sub emulator.
 * Its tokens come from an environment variable (Secret Manager has no emulator), one fresh token by default, as
 * `currents receiver-token new` makes one.
 */
import type { Environment } from '../shared/connector';
import type { WorkspaceDoor } from '../shared/door';
import { doorEnvironment } from '../shared/door-config';
import { newReceiverToken } from '../shared/receiver-auth';
import { ENV_VARS } from '../shared/runtime-config';
import { startFunctionHost, type FunctionHost } from './function-host';

export interface LocalDoorOptions {
  readonly environment: Pick<Environment, 'name' | 'project'>;
  readonly door: WorkspaceDoor;
  /** PUBSUB_EMULATOR_HOST, … */
  readonly emulatorEnv: Record<string, string>;
  /** The bearer tokens the door accepts (default: one fresh token). */
  readonly tokens?: readonly string[];
  /** More environment variables (publish timeout, Retry-After, …). */
  readonly env?: Record<string, string>;
  /** Serve the built archive unpacked and installed in this directory instead of the source. */
  readonly artifact?: string;
  /** The Node binary that serves the built archive (LocalArtifacts `node`). */
  readonly node?: string;
  readonly onLog?: (line: string) => void;
}

/** A workspace's door, served by functions-framework. */
export interface LocalDoor {
  readonly workspace: string;
  readonly door: WorkspaceDoor;
  readonly url: string;
  /** The first accepted token (what Braze would be given). */
  readonly token: string;
  readonly host: FunctionHost;
  stop(): Promise<void>;
}

export async function startLocalDoor(options: LocalDoorOptions): Promise<LocalDoor> {
  const tokens = options.tokens ?? [newReceiverToken()];
  const host = await startFunctionHost({
    serve: 'receiver',
    artifact: options.artifact,
    node: options.node,
    env: {
      ...options.emulatorEnv,
      ...doorEnvironment(options.environment, options.door),
      [ENV_VARS.receiverTokenSource]: 'env',
      [ENV_VARS.receiverTokens]: tokens.join('\n'),
      ...options.env,
    },
    onLine: options.onLog && ((line) => options.onLog!(line)),
  });
  return {
    workspace: options.door.workspace,
    door: options.door,
    url: host.url,
    token: tokens[0] ?? '',
    host,
    stop: () => host.stop(),
  };
}
