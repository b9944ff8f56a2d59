/** A valid connector for translation tests: a minimal definition with `overrides`, parsed (defaults applied). */
import { parseConnector, type Connector } from '../../../shared/connector';

export function testConnector(overrides: Record<string, unknown>): Connector {
  const { connector, errors } = parseConnector({
    name: 'test',
    displayName: 'Test',
    contactEmail: 'a@example.com',
    workspace: 'ws',
    segment: { region: 'us', credential: { kind: 'writeKey' } },
    events: ['email'],
    ...overrides,
  });
  expect(errors).toEqual([]);
  return connector!;
}
