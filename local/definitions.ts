import { defineEnvironment } from '../shared/connector';

/**
 * What `npm start` runs by default: the local run's own environment, independent of the team's own definitions in
 * connectors/ (`npm start -- --definitions connectors --env dev` runs those). It has two Braze workspaces: `local-eu`
 * with one connector (EU write key with a source check, placed in the EU by the environment's region), and `local-us`
 * with two whose selections split its events, so that the door of one workspace routing each event to the connector
 * that selects its type is exercised end to end. Nothing here is deployed; the project id only names the emulators'
 * project.
 */
export const dev = defineEnvironment({
  name: 'dev',
  project: 'currents-local',
  region: 'europe-west1',
  deleteProtection: false,
  connectors: [
    {
      name: 'email-eu',
      displayName: 'Braze EU email engagement (local)',
      contactEmail: 'platform-team@example.com',
      workspace: 'local-eu',
      // sourceId: the Segment source the write key belongs to, checked through the local Public API.
      segment: { region: 'eu', credential: { kind: 'writeKey' }, sourceId: 'local-email-eu-source' },
      events: ['email'],
    },
    {
      name: 'messaging-us',
      displayName: 'Braze US messaging (local)',
      contactEmail: 'platform-team@example.com',
      workspace: 'local-us',
      segment: { region: 'us', credential: { kind: 'oauth', appId: 'app-local-0000', keyId: 'key-local-0000' } },
      events: ['pushnotification', 'sms', 'contentcard', 'inappmessage'],
      includeAnonymousUsers: true,
      credentialGracePeriod: '72h',
    },
    {
      name: 'journeys-us',
      displayName: 'Braze US campaigns and Canvas (local)',
      contactEmail: 'platform-team@example.com',
      workspace: 'local-us',
      segment: { region: 'us', credential: { kind: 'writeKey' } },
      events: ['behaviors', 'campaigns', 'canvas'],
    },
  ],
});

/** The local-run definitions module's environments (the shape `--definitions` modules export). */
export const environments = [dev];

/** This module's path: `npm start`'s default definitions. */
export const LOCAL_DEFINITIONS = __filename;
