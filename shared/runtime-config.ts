/**
 * The function's configuration, carried in environment variables that the infrastructure derives from the connector
 * definition and the runtime parses back with the SAME schema: the two cannot disagree (a round-trip test holds them to it).
 */
import { type Connector, type Environment, formatValidationError, parseConnector } from './connector';
import { publicApiTokenSecret, resourceNames, type ConnectorResourceNames } from './names';
import { DEFAULT_FUNCTION_TIMEOUT_SECONDS, DEFAULT_RECEIVER_TIMEOUT_SECONDS } from './defaults';

export const ENV_VARS = {
  connector: 'CURRENTS_CONNECTOR',
  environment: 'CURRENTS_ENVIRONMENT',
  project: 'GOOGLE_CLOUD_PROJECT',
  /**
   * The deployed request timeout of this function (or receiver), in seconds: the one number every runtime budget is
   * derived from (shared/policy.ts). Set by the infrastructure from the same value it deploys as the timeout.
   */
  timeoutSeconds: 'CURRENTS_TIMEOUT_SECONDS',
  /** Local runs and tests only: base URL of the local Segment server. Never set by the infrastructure. */
  segmentBaseUrl: 'CURRENTS_SEGMENT_BASE_URL',
  /** Local runs and tests only: base URL of the OAuth token server. Never set by the infrastructure. */
  segmentTokenUrl: 'CURRENTS_SEGMENT_TOKEN_URL',
  /** Local runs and tests only: base URL of Segment's Public API (the local Segment server). Never set by the infrastructure. */
  publicApiBaseUrl: 'CURRENTS_SEGMENT_PUBLIC_API_URL',
  /** Local runs and tests only (secret source env or file): the Public API token itself. */
  publicApiToken: 'CURRENTS_SEGMENT_PUBLIC_API_TOKEN',
  /** `secret-manager` (default, deployed) | `env` | `file` (local runs and tests). */
  secretSource: 'CURRENTS_SECRET_SOURCE',
  /** With secretSource=env: the credential value; with secretSource=file: a path to a file holding it. */
  secretValue: 'CURRENTS_SECRET_VALUE',
  secretFile: 'CURRENTS_SECRET_FILE',
  /** Local runs and tests only (secret source env or file), and `currents translate`: the hash key of hmac-sha256. */
  hashKey: 'CURRENTS_HASH_KEY',
  /** Local runs and tests only: `1` lets POST /__clock move the function's clock. Never set by the infrastructure. */
  testClock: 'CURRENTS_TEST_CLOCK',
  /**
   * Local runs and tests only: every request but GET /healthz must carry this token (`Authorization: Bearer`, or the
   * push endpoint's `?token=`), as only the push and scheduler accounts may invoke the deployed function (OIDC, checked
   * by Cloud Run). Never set by the infrastructure.
   */
  invokerToken: 'CURRENTS_LOCAL_INVOKER_TOKEN',
  /** Local runs and tests only: the delivery budget of one push, in ms (default: derived from the timeout). */
  deliveryBudgetMs: 'CURRENTS_DELIVERY_BUDGET_MS',
  /**
   * Door (receiver), local runs and tests only: `env` reads the accepted tokens from CURRENTS_RECEIVER_TOKENS (one per
   * line) instead of the enabled versions of the workspace's door token secret. Never set by the infrastructure.
   */
  receiverTokenSource: 'CURRENTS_RECEIVER_TOKEN_SOURCE',
  receiverTokens: 'CURRENTS_RECEIVER_TOKENS',
  /** Receiver, with receiverTokenSource=file: a file holding the tokens, one per line, re-read every few seconds. */
  receiverTokensFile: 'CURRENTS_RECEIVER_TOKENS_FILE',
  /** Receiver, local runs and tests only: ms to wait for Pub/Sub to acknowledge a publish (default 10000). */
  receiverPublishTimeoutMs: 'CURRENTS_RECEIVER_PUBLISH_TIMEOUT_MS',
  /**
   * Storage importer: `backfill` for the backfill importer (it publishes on the backfill topic and honours a backfill's
   * `--reimport`); the live importer has none. Set by the infrastructure.
   */
  importerRole: 'CURRENTS_IMPORTER_ROLE',
  /** Storage importer, local runs and tests only: how long a claim on a file holds without progress, in ms. */
  importLeaseMs: 'CURRENTS_IMPORT_LEASE_MS',
  /** Receiver, local runs and tests only: the Retry-After seconds of a 503 (default 10). */
  receiverRetryAfterSeconds: 'CURRENTS_RECEIVER_RETRY_AFTER_SECONDS',
} as const;

export interface RuntimeConfig {
  readonly environment: string;
  readonly project: string;
  readonly connector: Connector;
  readonly names: ConnectorResourceNames;
  /** Full Secret Manager resource name of the credential secret. */
  readonly secretName: string;
  readonly segmentBaseUrl?: string;
  readonly segmentTokenUrl?: string;
  /** Full Secret Manager resource name of the environment's Public API token secret (used with `segment.sourceId`). */
  readonly publicApiTokenSecretName: string;
  /** Full Secret Manager resource name of the hash-key secret (used with `fields.hashAlgorithm: 'hmac-sha256'`). */
  readonly hashKeySecretName: string;
  /** Local runs and tests only: the Public API base URL (default: the region's real host). */
  readonly publicApiBaseUrl?: string;
  readonly secretSource: 'secret-manager' | 'env' | 'file';
  readonly secretFile?: string;
  /** Local runs and tests only: the function's clock can be moved (POST /__clock). */
  readonly testClock: boolean;
  /** Local runs and tests only: the token every request but the health check must carry (ENV_VARS.invokerToken). */
  readonly invokerToken?: string;
  /** The deployed request timeout (CURRENTS_TIMEOUT_SECONDS); the runtime derives its budgets from it. */
  readonly timeoutSeconds: number;
  /** Local runs and tests only: overrides the delivery budget of one push. */
  readonly deliveryBudgetMs?: number;
}

/**
 * The environment variables the infrastructure gives the function of one connector; `timeoutSeconds` is the function's
 * deployed timeout (the construct passes the value it deploys).
 */
export function functionEnvironment(
  env: Pick<Environment, 'name' | 'project'>,
  connector: Connector,
  timeoutSeconds: number = DEFAULT_FUNCTION_TIMEOUT_SECONDS,
) {
  return {
    [ENV_VARS.connector]: JSON.stringify(connector),
    [ENV_VARS.environment]: env.name,
    [ENV_VARS.project]: env.project,
    [ENV_VARS.timeoutSeconds]: String(timeoutSeconds),
  };
}

/**
 * The environment variables the infrastructure gives the storage importer of one connector: the same as the function's
 * (so that it validates the same definition and derives the same names: ingest topic, database), with the importer's
 * own deployed timeout.
 */
export function importerEnvironment(
  env: Pick<Environment, 'name' | 'project'>,
  connector: Connector,
  timeoutSeconds: number = DEFAULT_RECEIVER_TIMEOUT_SECONDS,
) {
  return functionEnvironment(env, connector, timeoutSeconds);
}

export class RuntimeConfigError extends Error {
  constructor(message: string) {
    super(`invalid function configuration: ${message}`);
    this.name = 'RuntimeConfigError';
  }
}

/** The deployed timeout (CURRENTS_TIMEOUT_SECONDS), or `fallback`; a RuntimeConfigError when it is not whole seconds. */
export function deployedTimeoutSeconds(vars: Record<string, string | undefined>, fallback: number): number {
  const text = vars[ENV_VARS.timeoutSeconds];
  const seconds = text ? Number(text) : fallback;
  if (!(Number.isInteger(seconds) && seconds > 0)) {
    throw new RuntimeConfigError(
      `${ENV_VARS.timeoutSeconds} must be a positive whole number of seconds (got '${text}')`,
    );
  }
  return seconds;
}

/** Parses the function's environment; throws a RuntimeConfigError that says what is wrong. */
export function parseRuntimeConfig(vars: Record<string, string | undefined>): RuntimeConfig {
  const missing = [ENV_VARS.connector, ENV_VARS.environment, ENV_VARS.project].filter((k) => !vars[k]);
  if (missing.length) throw new RuntimeConfigError(`missing environment variable(s) ${missing.join(', ')}`);
  let raw: unknown;
  try {
    raw = JSON.parse(vars[ENV_VARS.connector]!);
  } catch (err) {
    throw new RuntimeConfigError(`${ENV_VARS.connector} is not valid JSON (${(err as Error).message})`);
  }
  const environment = vars[ENV_VARS.environment]!;
  const { connector, errors } = parseConnector(raw, { environment });
  if (!connector) {
    throw new RuntimeConfigError(`${ENV_VARS.connector}: ${errors.map(formatValidationError).join('; ')}`);
  }
  const source = vars[ENV_VARS.secretSource] ?? 'secret-manager';
  if (source !== 'secret-manager' && source !== 'env' && source !== 'file') {
    throw new RuntimeConfigError(`${ENV_VARS.secretSource} must be secret-manager, env or file (got '${source}')`);
  }
  if (source === 'file' && !vars[ENV_VARS.secretFile]) {
    throw new RuntimeConfigError(`${ENV_VARS.secretSource}=file needs ${ENV_VARS.secretFile}`);
  }
  const budgetText = vars[ENV_VARS.deliveryBudgetMs];
  const budget = budgetText ? Number(budgetText) : undefined;
  if (budget !== undefined && !(Number.isInteger(budget) && budget > 0)) {
    throw new RuntimeConfigError(
      `${ENV_VARS.deliveryBudgetMs} must be a positive whole number of ms (got '${budgetText}')`,
    );
  }
  const timeoutSeconds = deployedTimeoutSeconds(vars, DEFAULT_FUNCTION_TIMEOUT_SECONDS);
  const project = vars[ENV_VARS.project]!;
  const names = resourceNames(connector.name);
  return {
    environment,
    project,
    connector,
    names,
    secretName: `projects/${project}/secrets/${names.secret}`,
    segmentBaseUrl: vars[ENV_VARS.segmentBaseUrl] || undefined,
    segmentTokenUrl: vars[ENV_VARS.segmentTokenUrl] || undefined,
    publicApiTokenSecretName: `projects/${project}/secrets/${publicApiTokenSecret(environment)}`,
    hashKeySecretName: `projects/${project}/secrets/${names.hashKeySecret}`,
    publicApiBaseUrl: vars[ENV_VARS.publicApiBaseUrl] || undefined,
    secretSource: source,
    secretFile: vars[ENV_VARS.secretFile] || undefined,
    testClock: vars[ENV_VARS.testClock] === '1',
    invokerToken: vars[ENV_VARS.invokerToken] || undefined,
    timeoutSeconds,
    deliveryBudgetMs: budget,
  };
}

/**
 * Runs a configuration parse for a function's start: on failure it writes one Cloud Logging line (`config_error`,
 * CRITICAL, the reason as its message) to stdout, so that the reason shows in the function's logs, then throws (the
 * start fails).
 */
export function withConfigErrorLine<T>(parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    process.stdout.write(
      `${JSON.stringify({ severity: 'CRITICAL', event: 'config_error', message: (err as Error).message })}\n`,
    );
    throw err;
  }
}

/** `parseRuntimeConfig` for a function's start (see `withConfigErrorLine`). */
export function loadRuntimeConfig(env: Record<string, string | undefined>): RuntimeConfig {
  return withConfigErrorLine(() => parseRuntimeConfig(env));
}
