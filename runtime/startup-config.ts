/**
 * The configuration of a deployed entry point (the function's, the receiver's), read from the environment at import and
 * validated with the same connector schema the infrastructure used to produce it. A bad configuration is logged as one
 * Cloud Logging JSON line (event `config_error`, CRITICAL), so that the reason shows in the logs, and fails the start.
 */
import { parseRuntimeConfig, type RuntimeConfig } from '../shared/runtime-config';

export function startupConfig(env: Record<string, string | undefined> = process.env): RuntimeConfig {
  try {
    return parseRuntimeConfig(env);
  } catch (err) {
    process.stdout.write(
      `${JSON.stringify({ severity: 'CRITICAL', event: 'config_error', message: (err as Error).message })}\n`,
    );
    throw err;
  }
}
