import { defineEnvironment } from '../shared/connector';

/**
 * The development environment. Placeholders to replace with your own: the project id, the state bucket and the deploy
 * identity (`npx currents bootstrap --env dev` creates the bucket and the identity, and prints the values).
 */
export const dev = defineEnvironment({
  name: 'dev',
  project: 'replace-me-dev',
  region: 'europe-west1',
  // CI deploys this environment (it has `deploy`), so its Terraform state is remote.
  backend: { bucket: 'replace-me-dev-tfstate', prefix: 'currents-segment' },
  deploy: {
    serviceAccount: 'currents-deployer@replace-me-dev.iam.gserviceaccount.com',
    workloadIdentityProvider:
      'projects/000000000000/locations/global/workloadIdentityPools/currents-github/providers/github',
  },
  // A development environment may be torn down with its Firestore databases; every other environment keeps the
  // default (on), whatever its name.
  deleteProtection: false,
  connectors: [
    {
      name: 'email-eu',
      displayName: 'Braze EU email engagement (dev)',
      contactEmail: 'platform-team@example.com',
      workspace: 'braze-workspace-dev-eu',
      // sourceId: the Segment source the write key belongs to (replace with yours), checked through the Public API.
      segment: { region: 'eu', credential: { kind: 'writeKey' }, sourceId: 'replace-me-email-eu-source' },
      events: ['email'],
    },
    {
      name: 'engagement-us',
      displayName: 'Braze US engagement (dev)',
      contactEmail: 'platform-team@example.com',
      workspace: 'braze-workspace-dev-us',
      segment: { region: 'us', credential: { kind: 'oauth', appId: 'app-dev-0000', keyId: 'key-dev-0000' } },
      events: ['behaviors', 'campaigns', 'canvas', 'pushnotification', 'sms', 'contentcard'],
      includeAnonymousUsers: true,
      credentialGracePeriod: '72h',
    },
  ],
});
