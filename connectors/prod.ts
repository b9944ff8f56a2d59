import { defineEnvironment } from '../shared/connector';

/** Production: a placeholder project id and state bucket to replace with your own. */
export const prod = defineEnvironment({
  name: 'prod',
  project: 'replace-me-prod',
  region: 'us-central1',
  backend: { bucket: 'replace-me-prod-tfstate', prefix: 'currents-segment' },
  connectors: [
    {
      name: 'email-eu',
      displayName: 'Braze EU email engagement',
      contactEmail: 'crm-eu@example.com',
      workspace: 'braze-workspace-eu',
      segment: { region: 'eu', credential: { kind: 'writeKey' } },
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
