/**
 * Two jest projects, told apart by where a test lives:
 *  - `test/unit/`: pure tests and tests of in-process code (no emulators, no gcloud or Java, no functions-framework
 *    process, no local Segment server): `npm run test:unit`, seconds;
 *  - `test/integration/`: everything else; its global setup starts the real Pub/Sub and Firestore emulators (gcloud +
 *    Java) on free loopback ports and stops them.
 * `npm test` runs the checks and both. Helpers shared by tests live in `test/support/`, fixtures in `test/fixtures/`,
 * the emulator harness in `test/harness/`; a test file anywhere else fails `test/unit/shared/architecture.test.ts`.
 */
// The CLI's default definitions, in every test and in every process a test starts (workers and children inherit this
// process's environment), are the tests' own fixtures, never the team's connectors/: user data a team changes freely.
process.env.CURRENTS_DEFINITIONS = require('node:path').join(__dirname, 'test', 'fixtures', 'definitions', 'index.ts');

const common = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  transform: { '^.+\\.ts$': ['ts-jest', { diagnostics: false }] },
};

/** @type {import('jest').Config} */
module.exports = {
  testTimeout: 60000,
  maxWorkers: 2,
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/test/unit/**/*.test.ts'] },
    {
      ...common,
      displayName: 'integration',
      testMatch: ['<rootDir>/test/integration/**/*.test.ts'],
      globalSetup: '<rootDir>/test/harness/global-setup.ts',
      globalTeardown: '<rootDir>/test/harness/global-teardown.ts',
    },
  ],
};
