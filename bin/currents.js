#!/usr/bin/env node
// The `currents` command. Runs the TypeScript sources directly (tsx), so edited connector definitions need no build step.
require('tsx/cjs');
const { STAND_IN_COMMANDS } = require('../local/commands/index.ts');
require('../cli/main.ts')
  .main(process.argv.slice(2), undefined, STAND_IN_COMMANDS)
  .then((code) => {
    process.exitCode = code;
  });
