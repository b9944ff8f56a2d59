/**
 * The receiver (2nd-gen Cloud Function, HTTP, functions-framework target `receiver`) of one connector: the public door
 * Braze's Custom Currents Export POSTs to. Configured by the same environment variables as the connector's function
 * (shared/runtime-config.ts `receiverEnvironment`), validated with the same schema. See runtime.ts for how it is served.
 */
import * as ff from '@google-cloud/functions-framework';
import { RECEIVER_TARGET } from '../../shared/names';
import { loadRuntimeConfig } from '../../shared/runtime-config';
import { createReceiverRuntime, frameworkHandler, serveBeforeFramework, type ReceiverRuntime } from './runtime';

const config = loadRuntimeConfig(process.env);

let runtime: ReceiverRuntime | undefined;
const get = () => (runtime ??= createReceiverRuntime(config, { env: process.env }));

serveBeforeFramework((req, res) => void get().handle(req, res));
ff.http(RECEIVER_TARGET, (req, res) => frameworkHandler(get())(req, res));

// Cloud Run sends SIGTERM before stopping an instance: answer 503 from then on, so Braze re-sends elsewhere.
process.once('SIGTERM', () => get().beginShutdown());
