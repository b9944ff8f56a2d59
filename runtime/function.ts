/**
 * The Cloud Function (2nd gen, HTTP, functions-framework target `currents`) of one connector. Routes: see runtime.ts.
 *
 * Its configuration is read from the environment at import and validated with the same connector schema the
 * infrastructure used to produce it: a bad configuration fails the start with a message that says what is wrong.
 */
import * as ff from '@google-cloud/functions-framework';
import { FUNCTION_TARGET } from '../shared/names';
import { parseRuntimeConfig, type RuntimeConfig } from '../shared/runtime-config';
import { createHandler, createRuntime } from './runtime';

let config: RuntimeConfig;
try {
  config = parseRuntimeConfig(process.env);
} catch (err) {
  // Cloud Logging JSON, so that the reason shows in the function's logs; then fail the start.
  process.stdout.write(
    `${JSON.stringify({ severity: 'CRITICAL', event: 'config_error', message: (err as Error).message })}\n`,
  );
  throw err;
}

let handler: ReturnType<typeof createHandler> | undefined;

ff.http(FUNCTION_TARGET, (req, res) => {
  handler ??= createHandler(createRuntime(config));
  return handler(req, res);
});
