/**
 * The `currents` commands that start a local stand-in (the local Segment server, the local Cloud Storage, the local
 * Braze sender). Their surface is in cli/specs.ts with the others'; their bodies live here, beside what they start, so
 * that cli/ never imports local/: the entry point (bin/currents.js) hands them to `main`. Each loads on first use.
 */
import type { CommandBodies } from '../../cli/main';

/* eslint-disable @typescript-eslint/no-require-imports */
export const STAND_IN_COMMANDS: CommandBodies = {
  'segment-server': () => require('./segment-server'),
  'storage-server': () => require('./storage-server'),
  'braze-send': () => require('./braze-send'),
};
/* eslint-enable @typescript-eslint/no-require-imports */
