/**
 * Two jest projects:
 *  - `unit`: pure tests and tests of in-process code (no emulators, no gcloud or Java, no functions-framework process, no
 *    local Segment server): `npm run test:unit`, seconds;
 *  - `integration`: everything else; its global setup starts the real Pub/Sub and Firestore emulators (gcloud + Java).
 * `npm test` runs the checks and both. A test file is integration unless listed in UNIT below, so that a new test that
 * needs the emulators works wherever it lands; list it under UNIT when it needs none of the above.
 */
const UNIT = [
  'cli/braze-send',
  'cli/surface',
  'cli/validate',
  'delivery/batch',
  'delivery/retry',
  'harness/prerequisites',
  'infra/backfill',
  'infra/connector',
  'infra/dashboard',
  'infra/plan-summary',
  'infra/security',
  'infra/timing',
  'local/braze-files',
  'local/braze-sender',
  'local/samples',
  'local/outcomes',
  'ops/context',
  'receiver/envelope-count',
  'runtime/credential-check',
  'runtime/expiry',
  'runtime/lazy-import',
  'runtime/log',
  'runtime/routes',
  'runtime/secrets',
  'shared/capacity',
  'storage/avro-json',
  'storage/backfill-message',
  'storage/avro-file',
  'shared/duration',
  'runtime/segment-status',
  'runtime/state-unavailable',
  'shared/connector',
  'shared/declared-dependencies',
  'shared/suggest',
  'translate/behaviour',
  'translate/catalog',
  'translate/cli',
  'translate/every-type',
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
