/**
 * The connectors this repository deploys, grouped by environment. A change here is a pull request; `npx currents
 * validate` checks it without cloud access, and `cdktf deploy <env>` applies one environment.
 */
import type { EnvironmentDefinition } from '../shared/connector';
import { dev } from './dev';
import { prod } from './prod';

export const environments: EnvironmentDefinition[] = [dev, prod];
