/**
 * The wording of Google errors for the operator (cli/ops/context.ts): each names the connector, its environment and
 * project, what was being accessed, and what to do. (NOT_FOUND and unreachable emulators are also exercised end to end
 * in send-test.test.ts; a permission error cannot be produced by the emulators.)
 */
import { describeGoogleError, resolveTargets } from '../../../cli/ops/context';

const envVars = ['PUBSUB_EMULATOR_HOST', 'FIRESTORE_EMULATOR_HOST'] as const;
const saved = envVars.map((v) => process.env[v]);
beforeAll(() => envVars.forEach((v) => delete process.env[v]));
afterAll(() => envVars.forEach((v, i) => (process.env[v] = saved[i])));

const [target] = resolveTargets({ env: 'prod', connector: 'email-eu' });
const what = 'dead-letter subscription currents-email-eu-dead-letter-hold';

describe('describeGoogleError', () => {
  it('permission denied: names the connector, the resource and the project', () => {
    const m = describeGoogleError({ code: 7, details: 'User not authorized to perform this action.' }, target!, what);
    expect(m).toBe(
      "connector 'email-eu' (environment 'prod', project replace-me-prod): permission denied on " +
        `${what}; your Application Default Credentials need access to project replace-me-prod ` +
        '(User not authorized to perform this action.)',
    );
  });

  it('missing resource: asks whether the connector is deployed', () => {
    expect(describeGoogleError({ code: 5, details: 'Resource not found' }, target!, what)).toMatch(
      /^connector 'email-eu' .*: dead-letter subscription currents-email-eu-dead-letter-hold does not exist; is the connector deployed \(cdktf deploy prod\)\?/,
    );
  });

  it('no credentials: says how to log in', () => {
    expect(describeGoogleError(new Error('Could not load the default credentials.'), target!, what)).toMatch(
      /not authenticated for .*; run `gcloud auth application-default login`/,
    );
  });
});
