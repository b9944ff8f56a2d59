/**
 * A workspace door's configuration, carried in environment variables that the infrastructure derives from the connector
 * definitions of that workspace and the door parses back with the SAME schema (shared/connector.ts) and the same
 * derivation (shared/door.ts): the routes the door follows are the selections the connectors were deployed with.
 */
import { type Connector, type Environment, formatValidationError, parseConnector } from './connector';
import { type WorkspaceDoor, workspaceDoor } from './door';
import { resourceNames } from './names';
import { DEFAULT_RECEIVER_TIMEOUT_SECONDS } from './defaults';
import { deployedTimeoutSeconds, ENV_VARS, RuntimeConfigError, withConfigErrorLine } from './runtime-config';

export const DOOR_ENV_VARS = {
  /** The Braze workspace (app group) whose Current this door takes. */
  workspace: 'CURRENTS_WORKSPACE',
  /** The definitions of the workspace's connectors (a JSON array), validated again at start. */
  connectors: 'CURRENTS_WORKSPACE_CONNECTORS',
} as const;

export interface DoorConfig {
  readonly environment: string;
  readonly project: string;
  readonly door: WorkspaceDoor;
  /** Connector name → its ingest topic (the topics this door publishes to). */
  readonly topics: ReadonlyMap<string, string>;
  /** Full Secret Manager resource name of the door's token secret. */
  readonly tokenSecretName: string;
  /** The door's deployed request timeout (CURRENTS_TIMEOUT_SECONDS); its publish timeout is derived from it. */
  readonly timeoutSeconds: number;
}

/** The environment variables the infrastructure gives the door of one workspace. */
export function doorEnvironment(
  env: Pick<Environment, 'name' | 'project'>,
  door: Pick<WorkspaceDoor, 'workspace' | 'connectors'>,
  timeoutSeconds: number = DEFAULT_RECEIVER_TIMEOUT_SECONDS,
): Record<string, string> {
  return {
    [DOOR_ENV_VARS.workspace]: door.workspace,
    [DOOR_ENV_VARS.connectors]: JSON.stringify(door.connectors),
    [ENV_VARS.environment]: env.name,
    [ENV_VARS.project]: env.project,
    [ENV_VARS.timeoutSeconds]: String(timeoutSeconds),
  };
}

/** Parses a door's environment; throws a RuntimeConfigError that says what is wrong. */
export function parseDoorConfig(vars: Record<string, string | undefined>): DoorConfig {
  const required = [DOOR_ENV_VARS.workspace, DOOR_ENV_VARS.connectors, ENV_VARS.environment, ENV_VARS.project];
  const missing = required.filter((k) => !vars[k]);
  if (missing.length) throw new RuntimeConfigError(`missing environment variable(s) ${missing.join(', ')}`);
  const environment = vars[ENV_VARS.environment]!;
  const workspace = vars[DOOR_ENV_VARS.workspace]!;
  let raw: unknown;
  try {
    raw = JSON.parse(vars[DOOR_ENV_VARS.connectors]!);
  } catch (err) {
    throw new RuntimeConfigError(`${DOOR_ENV_VARS.connectors} is not valid JSON (${(err as Error).message})`);
  }
  if (!Array.isArray(raw) || !raw.length) {
    throw new RuntimeConfigError(`${DOOR_ENV_VARS.connectors} must be a list of at least one connector definition`);
  }
  const connectors: Connector[] = [];
  for (const item of raw) {
    const { connector, errors } = parseConnector(item, { environment });
    if (!connector) {
      throw new RuntimeConfigError(`${DOOR_ENV_VARS.connectors}: ${errors.map(formatValidationError).join('; ')}`);
    }
    connectors.push(connector);
  }
  let door: WorkspaceDoor;
  try {
    door = workspaceDoor(workspace, connectors);
  } catch (err) {
    throw new RuntimeConfigError(`${DOOR_ENV_VARS.connectors}: ${(err as Error).message}`);
  }
  const timeoutSeconds = deployedTimeoutSeconds(vars, DEFAULT_RECEIVER_TIMEOUT_SECONDS);
  const project = vars[ENV_VARS.project]!;
  return {
    environment,
    project,
    door,
    topics: new Map(door.connectors.map((c) => [c.name, resourceNames(c.name).ingestTopic])),
    tokenSecretName: `projects/${project}/secrets/${door.names.tokenSecret}`,
    timeoutSeconds,
  };
}

/** `parseDoorConfig` for the door's start: on failure one `config_error` line says why, then it throws. */
export function loadDoorConfig(env: Record<string, string | undefined>): DoorConfig {
  return withConfigErrorLine(() => parseDoorConfig(env));
}
