/**
 * The Cloud Function (2nd gen, HTTP, functions-framework target `currents`) of one connector. Routes: see runtime.ts.
 *
 * Its configuration is read from the environment at import and validated with the same connector schema the
 * infrastructure used to produce it: a bad configuration fails the start with a message that says what is wrong.
 */
import * as ff from '@google-cloud/functions-framework';
import { FUNCTION_TARGET } from '../shared/names';
import { loadRuntimeConfig } from '../shared/runtime-config';
import { createHandler, createRuntime } from './runtime';

const config = loadRuntimeConfig(process.env);

let handler: ReturnType<typeof createHandler> | undefined;

ff.http(FUNCTION_TARGET, (req, res) => {
  handler ??= createHandler(createRuntime(config));
  return handler(req, res);
});
