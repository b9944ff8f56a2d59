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
