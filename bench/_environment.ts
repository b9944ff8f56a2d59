import { loadEnvironments, type ConnectorDefinition, type Environment } from '../shared/connector';

/** A validated one-connector environment for a benchmark, exporting every group to the given region. */
export function benchEnvironment(name: string, overrides: Partial<ConnectorDefinition> = {}): Environment {
  return loadEnvironments([
    {
      name: 'bench',
      project: `bench-${name}`,
      region: 'us-central1',
      connectors: [
        {
          name: `bench-${name}`,
          displayName: `${name} bench`,
          contactEmail: 'bench@example.com',
          workspace: 'bench',
          segment: { region: 'us', credential: { kind: 'writeKey' } },
          events: ['behaviors', 'campaigns', 'canvas', 'messages'],
          ...overrides,
        },
      ],
    },
  ])[0]!;
}

/**
 * A validated environment whose one Braze workspace has two connectors splitting every group between them (messages;
 * behaviors, campaigns and canvas), both to the US region: a feed of every type goes through the workspace's door and is
 * routed to both, as a team with one Current and two connectors has it.
 */
export function benchWorkspace(name: string): Environment {
  const connector = (suffix: string, events: string[]): ConnectorDefinition => ({
    name: `bench-${name}-${suffix}`,
    displayName: `${name} bench (${suffix})`,
    contactEmail: 'bench@example.com',
    workspace: 'bench',
    segment: { region: 'us', credential: { kind: 'writeKey' } },
    events,
  });
  return loadEnvironments([
    {
      name: 'bench',
      project: `bench-${name}`,
      region: 'us-central1',
      connectors: [connector('m', ['messages']), connector('j', ['behaviors', 'campaigns', 'canvas'])],
    },
  ])[0]!;
}
