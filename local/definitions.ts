import { defineEnvironment } from '../shared/connector';

/**
 * What `npm start` runs by default: a local-run environment of two connectors (EU write key with a source check, US
 * OAuth), independent of the team's own definitions in connectors/ (`npm start -- --definitions connectors --env dev`
 * runs those). Nothing here is deployed; the project id only names the emulators' project.
 */
export const dev = defineEnvironment({
  name: 'dev',
  project: 'currents-local',
  region: 'europe-west1',
  deleteProtection: false,
  connectors: [
    {
      name: 'email-eu',
      displayName: 'Braze EU email engagement (dev)',
      contactEmail: 'platform-team@example.com',
      workspace: 'braze-workspace-dev-eu',
      // sourceId: the Segment source the write key belongs to, checked through the local Public API.
      segment: { region: 'eu', credential: { kind: 'writeKey' }, sourceId: 'local-email-eu-source' },
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

/** The local-run definitions module's environments (the shape `--definitions` modules export). */
export const environments = [dev];

/** This module's path: `npm start`'s default definitions. */
export const LOCAL_DEFINITIONS = __filename;
