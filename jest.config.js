/**
 * Two jest projects:
 *  - `unit`: pure tests and tests of in-process code (no emulators, no gcloud or Java, no functions-framework process, no
 *    local Segment server): `npm run test:unit`, seconds;
 *  - `integration`: everything else; its global setup starts the real Pub/Sub and Firestore emulators (gcloud + Java).
 * `npm test` runs the checks and both. A test file is integration unless listed in UNIT below, so that a new test that
 * needs the emulators works wherever it lands; list it under UNIT when it needs none of the above.
 */
// The CLI's default definitions, in every test and in every process a test starts (workers and children inherit this
// process's environment), are the tests' own fixtures, never the team's connectors/: user data a team changes freely.
process.env.CURRENTS_DEFINITIONS = require('node:path').join(__dirname, 'test', 'fixtures', 'definitions', 'index.ts');

const UNIT = [
  'ci/bootstrap',
  'ci/definitions',
  'ci/workflow',
  'cli/braze-send',
  'cli/surface',
  'cli/validate',
  'delivery/batch',
  'delivery/retry',
  'harness/prerequisites',
  'infra/backfill',
  'infra/connector',
  'infra/dashboard',
  'infra/door',
  'infra/exit',
  'infra/first-deploy',
  'infra/location',
  'infra/plan-summary',
  'infra/security',
  'infra/terraform',
  'infra/timing',
  'local/braze-files',
  'local/braze-sender',
  'local/samples',
  'local/secret-cleanup',
  'local/outcomes',
  'ops/context',
  'receiver/envelope-count',
  'receiver/route',
  'runtime/cached-value',
  'runtime/credential-check',
  'runtime/expiry',
  'runtime/lazy-import',
  'runtime/log',
  'runtime/routes',
  'runtime/secrets',
  'runtime/translator-source',
  'shared/capacity',
  'storage/avro-json',
  'storage/backfill-message',
  'storage/avro-file',
  'shared/duration',
  'runtime/segment-status',
  'runtime/state-unavailable',
  'shared/connector',
  'shared/deployment',
  'shared/declared-dependencies',
  'shared/architecture',
  'shared/product',
  'shared/suggest',
  'translate/behaviour',
  'translate/catalog',
  'translate/currents-v10',
  'translate/hashing',
  'translate/cli',
  'translate/every-type',
  'translate/hostile',
  'translate/property',
].map((name) => `<rootDir>/test/${name}.test.ts`);

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
    { ...common, displayName: 'unit', testMatch: UNIT },
    {
      ...common,
      displayName: 'integration',
      testMatch: ['<rootDir>/test/**/*.test.ts'],
      testPathIgnorePatterns: ['/node_modules/', ...UNIT.map((p) => p.replace('<rootDir>', '').replace(/\./g, '\\.'))],
      globalSetup: '<rootDir>/test/harness/global-setup.ts',
      globalTeardown: '<rootDir>/test/harness/global-teardown.ts',
    },
  ],
};
