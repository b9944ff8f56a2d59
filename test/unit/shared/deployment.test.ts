/**
 * The deployment fields of a definition (shared/deployment.ts): `deploy` (CI's identity; then `backend` is required),
 * the state bucket's name, and a connector's `location` with the EU residency rule and its explicit allowance.
 */
import { formatValidationError, validateEnvironments } from '../../../shared/connector';
import { EU_LOCATIONS } from '../../../shared/deployment';
import { connector } from '../../fixtures/connector';

const deploy = {
  serviceAccount: 'currents-deployer@acme-prod.iam.gserviceaccount.com',
  workloadIdentityProvider: 'projects/123/locations/global/workloadIdentityPools/currents-github/providers/github',
};
const env = (over: Record<string, unknown>, connectors: unknown[] = [connector('ok')]) => ({
  name: 'prod',
  project: 'acme-prod',
  region: 'europe-west1',
  connectors,
  ...over,
});
const messages = (...inputs: unknown[]) => validateEnvironments(inputs).errors.map(formatValidationError);

describe('deploy and backend', () => {
  it('accepts an environment CI deploys with its state in a bucket, and one of a person (neither)', () => {
    expect(messages(env({ deploy, backend: { bucket: 'acme-prod-tfstate', prefix: 'currents' } }))).toEqual([]);
    expect(messages(env({}))).toEqual([]);
  });

  it('refuses deploy without a backend: the runner keeps no state', () => {
    expect(messages(env({ deploy }))).toEqual([
      "environment 'prod': backend is required when the environment has deploy: CI deploys it, and a runner keeps no " +
        'Terraform state between runs (the next deploy would collide with what exists). Set backend { bucket, prefix } ' +
        '(`currents bootstrap` creates the bucket, versioned)',
    ]);
  });

  it('says what each deploy field must be, naming the field', () => {
    const bad = env({
      backend: { bucket: 'Bad Bucket' },
      deploy: { serviceAccount: 'deployer@gmail.com', workloadIdentityProvider: 'projects/acme-prod/pools/x' },
    });
    expect(messages(bad)).toEqual([
      expect.stringMatching(
        /^environment 'prod': backend\.bucket must be a Cloud Storage bucket name: .*\(you wrote 'Bad Bucket'\)/,
      ),
      expect.stringMatching(
        /^environment 'prod': deploy\.serviceAccount must be a service account email .*\(you wrote 'deployer@gmail\.com'\); the account CI deploys with/,
      ),
      expect.stringMatching(
        /^environment 'prod': deploy\.workloadIdentityProvider must be a Workload Identity provider: projects\/NUMBER\/.*the project NUMBER, not its id/,
      ),
    ]);
  });
});

describe('location and EU residency', () => {
  const eu = connector('email-eu');
  const us = connector('sms-us', { segment: { region: 'us', credential: { kind: 'writeKey' } } });

  it("runs an EU connector in the EU: the environment's region or its own location", () => {
    expect(messages(env({}, [eu]))).toEqual([]);
    expect(messages(env({ region: 'us-central1' }, [{ ...eu, location: 'europe-west4' }, us]))).toEqual([]);
    expect(EU_LOCATIONS).toEqual(expect.arrayContaining(['europe-west1', 'europe-west3', 'europe-north1']));
  });

  it('refuses an EU connector outside the EU, saying how to place it and how to allow it', () => {
    expect(messages(env({ region: 'us-central1' }, [eu, us]))).toEqual([
      "connector 'email-eu' of environment 'prod': location us-central1 (its environment's region: the connector sets " +
        "no location) is outside the EU, yet the connector sends to Segment's EU region: its function and Firestore " +
        "database (parked events, with users' ids) would hold EU data there. Set location to an EU region (such as " +
        'europe-west1), or, if running in us-central1 is intended, set allowOutsideEu: true',
    ]);
    // Europe is not the EU: London and Zurich are refused too.
    for (const location of ['europe-west2', 'europe-west6']) {
      expect(messages(env({}, [{ ...eu, location }]))).toEqual([
        expect.stringContaining(`location ${location} (its own) is outside the EU`),
      ]);
    }
  });

  it('allows it when the definition says so, and never checks a US connector', () => {
    expect(messages(env({ region: 'us-central1' }, [{ ...eu, allowOutsideEu: true }]))).toEqual([]);
    expect(messages(env({ region: 'asia-northeast1' }, [us]))).toEqual([]);
  });

  it('says what a location must be', () => {
    expect(messages(env({}, [{ ...us, location: 'EU' }]))).toEqual([
      expect.stringMatching(
        /^connector 'sms-us' of environment 'prod': location must be a Google Cloud region such as europe-west1 or us-central1 \(you wrote 'EU'\)/,
      ),
    ]);
  });
});
