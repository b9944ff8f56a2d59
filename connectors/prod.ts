import { defineEnvironment } from '../shared/connector';

/**
 * Production. Placeholders to replace with your own: the project id, the state bucket and the deploy identity
 * (`npx currents bootstrap --env prod` creates the bucket and the identities, and prints the values).
 */
export const prod = defineEnvironment({
  name: 'prod',
  project: 'replace-me-prod',
  region: 'us-central1',
  backend: { bucket: 'replace-me-prod-tfstate', prefix: 'currents-segment' },
  deploy: {
    serviceAccount: 'currents-deployer@replace-me-prod.iam.gserviceaccount.com',
    workloadIdentityProvider:
      'projects/000000000000/locations/global/workloadIdentityPools/currents-github/providers/github',
    // Read-only: with it, a pull request shows Terraform's real plan of prod beside the summary.
    planServiceAccount: 'currents-planner@replace-me-prod.iam.gserviceaccount.com',
  },
  connectors: [
    {
      name: 'email-eu',
      displayName: 'Braze EU email engagement',
      contactEmail: 'crm-eu@example.com',
      workspace: 'braze-workspace-eu',
      segment: { region: 'eu', credential: { kind: 'writeKey' } },
      // Segment's EU region: the connector runs in the EU, whatever the environment's region (validate insists).
      location: 'europe-west1',
      events: ['email'],
      fields: { redact: [], hash: ['email_address'] },
    },
    {
      name: 'messaging-us',
      displayName: 'Braze US messaging',
      contactEmail: 'crm-us@example.com',
      workspace: 'braze-workspace-us',
      segment: { region: 'us', credential: { kind: 'oauth', appId: 'app-prod-0000', keyId: 'key-prod-0000' } },
      events: ['pushnotification', 'sms', 'whatsapp', 'inappmessage', 'contentcard', 'webhook'],
      eventNames: { 'users.messages.pushnotification.Open': 'Push Opened' },
      credentialGracePeriod: '72h',
      maxInstances: 20,
    },
    {
      name: 'journeys-us',
      displayName: 'Braze US campaigns and Canvas',
      contactEmail: 'crm-us@example.com',
      workspace: 'braze-workspace-us',
      segment: { region: 'us', credential: { kind: 'writeKey' } },
      events: ['behaviors', 'campaigns', 'canvas'],
      fields: { redact: ['phone_number'], hash: [] },
    },
  ],
});
