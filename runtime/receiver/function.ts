/**
 * The receiver (2nd-gen Cloud Function, HTTP, functions-framework target `receiver`) of one Braze workspace: the public
 * door its Custom Currents Export POSTs to, routing each event to the connector of the workspace that selects its type.
 * Configured by the definitions of the workspace's connectors (shared/door-config.ts `doorEnvironment`), validated
 * with the same schema as the connectors' functions. See runtime.ts for how it is served.
 */
import * as ff from '@google-cloud/functions-framework';
import { RECEIVER_TARGET } from '../../shared/names';
import { loadDoorConfig } from '../../shared/door-config';
import { createReceiverRuntime, frameworkHandler, serveBeforeFramework, type ReceiverRuntime } from './runtime';

const config = loadDoorConfig(process.env);

let runtime: ReceiverRuntime | undefined;
const get = () => (runtime ??= createReceiverRuntime(config, { env: process.env }));

serveBeforeFramework((req, res) => void get().handle(req, res));
ff.http(RECEIVER_TARGET, (req, res) => frameworkHandler(get())(req, res));

// Cloud Run sends SIGTERM before stopping an instance: answer 503 from then on, so Braze re-sends elsewhere.
process.once('SIGTERM', () => get().beginShutdown());
