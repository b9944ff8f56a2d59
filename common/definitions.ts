/**
 * Loads the environment definitions: the repository's own (`connectors/index.ts`, or the module CURRENTS_DEFINITIONS
 * names: the tests point it at their fixtures, so that no test depends on a team's connectors) or a module at a given
 * path that exports them under any name: `environments` (an array), a default export (an array or one environment), or
 * named exports that are environment definitions (as `connectors/dev.ts` exports `dev`). TypeScript, JavaScript and
 * JSON all load.
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

/** The team's definitions: what `validate`, `synth`, `plan-summary` and the operating commands read by default. */
export const REPOSITORY_DEFINITIONS = resolve(__dirname, '..', 'connectors', 'index.ts');

/** The environment variable that names another default definitions module. */
export const DEFINITIONS_ENV = 'CURRENTS_DEFINITIONS';

/** The default definitions module: CURRENTS_DEFINITIONS when set, else the repository's connectors/index.ts. */
export function defaultDefinitions(): string {
  const fromEnv = process.env[DEFINITIONS_ENV];
  return fromEnv ? resolve(fromEnv) : REPOSITORY_DEFINITIONS;
}

/** How a definitions module may export its environments (said when it exports none). */
export const HOW_TO_EXPORT =
  "export them as 'environments' (an array), as the default export, or as one named export per environment (export const dev = {...})";

/** The definitions file a path names (a directory names its index.ts, index.js or index.json); default: the repository's. */
export function definitionsFile(path?: string): string {
  const file = resolve(path ?? defaultDefinitions());
  if (existsSync(file) && statSync(file).isDirectory()) {
    const index = ['index.ts', 'index.js', 'index.json'].map((f) => join(file, f)).find(existsSync);
    if (!index) throw new UsageError(`no index.ts, index.js or index.json in ${file}`);
    return index;
  }
  if (!existsSync(file)) throw new UsageError(`no connector definitions at ${file}`);
  return file;
}

/** The environment definitions of a module (none when it exports none; see `environmentsOfModule`). */
export function loadDefinitionInputs(path?: string): unknown[] {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return environmentsOfModule(require(definitionsFile(path)) as unknown);
}

/** Whether a value is meant as an environment definition (it has a connectors field; the schema checks the rest). */
const isEnvironment = (v: unknown): boolean => v !== null && typeof v === 'object' && 'connectors' in v;

/**
 * The environment definitions a loaded module exports, in this order of preference: `environments`, the default export
 * (an array, or one environment), the module itself when it is an array (JSON) or one environment, the named exports
 * that are environments. An array export is taken whole (the schema reports a bad element); none when nothing is.
 */
export function environmentsOfModule(mod: unknown): unknown[] {
  if (Array.isArray(mod)) return mod;
  if (mod === null || typeof mod !== 'object') return [];
  const exports = mod as Record<string, unknown>;
  for (const value of [exports.environments, exports.default]) {
    if (Array.isArray(value)) return value;
    if (isEnvironment(value)) return [value];
  }
  if (isEnvironment(mod)) return [mod];
  return Object.entries(exports)
    .filter(([key, value]) => key !== 'default' && isEnvironment(value))
    .map(([, value]) => value);
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
  if (!environments.length) {
    throw new UsageError(`no environment '${envName}': the definitions define no environment; ${HOW_TO_EXPORT}`);
  }
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
