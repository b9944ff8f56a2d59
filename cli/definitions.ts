/**
 * Loads the environment definitions: the repository's own (`connectors/index.ts`) or a module at a given path that
 * exports `environments` (an array), a default export, or one environment. TypeScript, JavaScript and JSON all load.
 */
import { existsSync, statSync } from 'node:fs';
import { resolve, join } from 'node:path';
import {
  type Connector,
  type Environment,
  ConnectorValidationError,
  validateEnvironments,
  type ValidationError,
} from '../shared/connector';
import { UsageError } from './args';

export const DEFAULT_DEFINITIONS = resolve(__dirname, '..', 'connectors', 'index.ts');

export function loadDefinitionInputs(path?: string): unknown[] {
  let file = path ? resolve(path) : DEFAULT_DEFINITIONS;
  if (existsSync(file) && statSync(file).isDirectory()) {
    const index = ['index.ts', 'index.js', 'index.json'].map((f) => join(file, f)).find(existsSync);
    if (!index) throw new UsageError(`no index.ts, index.js or index.json in ${file}`);
    file = index;
  }
  if (!existsSync(file)) throw new UsageError(`no connector definitions at ${file}`);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const mod = require(file) as Record<string, unknown>;
  const value = mod.environments ?? mod.default ?? mod;
  if (Array.isArray(value)) return value;
  if (value && typeof value === 'object' && 'connectors' in value) return [value];
  throw new UsageError(`${file} must export 'environments' (an array of environment definitions)`);
}

export function loadValidated(path?: string): { environments: Environment[]; errors: ValidationError[] } {
  return validateEnvironments(loadDefinitionInputs(path));
}

/** Loads and validates, throwing on any problem. */
export function loadEnvironmentsOrThrow(path?: string): Environment[] {
  const { environments, errors } = loadValidated(path);
  if (errors.length) throw new ConnectorValidationError(errors);
  return environments;
}

/** Picks an environment and optionally one connector by name, with errors that name what exists. */
export function pick(
  environments: Environment[],
  envName: string,
  connectorName?: string,
): { environment: Environment; connectors: Connector[] } {
  const environment = environments.find((e) => e.name === envName);
  if (!environment) {
    throw new UsageError(
      `no environment '${envName}' (defined: ${environments.map((e) => e.name).join(', ') || 'none'})`,
    );
  }
  if (connectorName === undefined) return { environment, connectors: environment.connectors };
  const connector = environment.connectors.find((c) => c.name === connectorName);
  if (!connector) {
    throw new UsageError(
      `no connector '${connectorName}' in environment '${envName}' (defined: ${environment.connectors.map((c) => c.name).join(', ')})`,
    );
  }
  return { environment, connectors: [connector] };
}
