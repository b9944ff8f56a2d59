/**
 * The receiver (2nd-gen Cloud Function, HTTP, functions-framework target `receiver`) of one connector: the public door
 * Braze's Custom Currents Export POSTs to. Configured by the same environment variables as the connector's function
 * (shared/runtime-config.ts `receiverEnvironment`), validated with the same schema.
 */
import * as ff from '@google-cloud/functions-framework';
import { RECEIVER_TARGET } from '../../shared/names';
import { parseRuntimeConfig, type RuntimeConfig } from '../../shared/runtime-config';
import { createReceiverHandler, createReceiverRuntime } from './runtime';

let config: RuntimeConfig;
try {
  config = parseRuntimeConfig(process.env);
} catch (err) {
  process.stdout.write(
    `${JSON.stringify({ severity: 'CRITICAL', event: 'config_error', message: (err as Error).message })}\n`,
  );
  throw err;
}

let handler: ReturnType<typeof createReceiverHandler> | undefined;

ff.http(RECEIVER_TARGET, (req, res) => {
  handler ??= createReceiverHandler(createReceiverRuntime(config, { env: process.env }));
  return handler(req, res);
});
