/**
 * The connectors `npm start` runs unless `--definitions` names others: the local run's own, so that it never depends on
 * what the team keeps in connectors/ (user data). Environment `dev` has two Braze workspaces: `local-eu` with one
 * connector, and `local-us` with two whose selections split its events, so that the door of one workspace routing each
 * event to the connector that selects its type is exercised end to end.
 */
import { defineEnvironment, type Environment, type EnvironmentDefinition, loadEnvironments } from '../shared/connector';
import { loadEnvironmentsOrThrow } from '../cli/definitions';

export const LOCAL_ENVIRONMENTS: EnvironmentDefinition[] = [
  defineEnvironment({
    name: 'dev',
    project: 'currents-local-dev',
    region: 'europe-west1',
    deleteProtection: false,
    connectors: [
      {
        name: 'email-eu',
        displayName: 'Braze EU email engagement (local)',
        contactEmail: 'platform-team@example.com',
        workspace: 'local-eu',
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
  }),
];

/** The environments of a local run: the module `--definitions` names, or the local run's own (above). */
export function localEnvironments(definitions?: string): Environment[] {
  return definitions === undefined ? loadEnvironments(LOCAL_ENVIRONMENTS) : loadEnvironmentsOrThrow(definitions);
}
