#!/usr/bin/env node
// The `currents` command. Runs the TypeScript sources directly (tsx), so edited connector definitions need no build step.
require('tsx/cjs');
require('../cli/main.ts')
  .main(process.argv.slice(2))
  .then((code) => {
    process.exitCode = code;
  });
