/**
 * `npm start -- --scenario credential-failure|write-key-rotated`: a credential broken the way a deployed connector sees
 * it break, then fixed once its events are parked.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { LocalConnector } from './connector-runner';
import type { Scenario } from './start-options';
import type { LocalStack } from './stack';

/** A scenario under way: the connector it breaks, and how to fix it. */
export interface ScenarioRun {
  local: LocalConnector;
  fix: () => void;
  fixWhat: string;
}

/**
 * Breaks a credential the way a deployed connector sees it break, and says how to fix it:
 *  - `credential-failure`: the first connector's secret is removed (a secret version disabled or destroyed), then put back;
 *  - `write-key-rotated`: the write key of the first write-key connector with a source check is rotated in its Segment
 *    source (the old key's batches would be answered 200 and discarded), then the new key is put into the secret.
 */
export function startScenario(scenario: Scenario, stack: LocalStack, out: (l: string) => void): ScenarioRun {
  if (scenario === 'credential-failure') {
    const local = stack.connectors[0]!;
    out(`\nScenario credential-failure: the secret of '${local.connector.name}' is removed now (no enabled version).`);
    local.setSecret(undefined);
    const value = stack.credentials.get(local.connector.name)!.secretValue;
    return { local, fix: () => local.setSecret(value), fixWhat: 'the credential is put back into the secret now' };
  }
  const local = stack.connectors.find(
    (l) => l.connector.segment.credential.kind === 'writeKey' && l.connector.segment.sourceId !== undefined,
  );
  if (!local) {
    throw new Error(
      `--scenario write-key-rotated needs a write-key connector with segment.sourceId in environment '${stack.environment.name}'`,
    );
  }
  const { region, sourceId } = local.connector.segment;
  const newKey = stack.servers[region].sources.rotateWriteKey(sourceId!);
  out(
    `\nScenario write-key-rotated: the write key of Segment source ${sourceId} ('${local.connector.name}', ${region}) is rotated now; the Tracking API would answer 200 to the old key and discard its events.`,
  );
  return {
    local,
    fix: () => local.setSecret(newKey),
    fixWhat: "the source's new write key is put into the secret now",
  };
}

/**
 * With `write-key-rotated`, waits (at most `timeoutMs`) for the probe's source check to see the rotation: events sent
 * before would be answered 200 and discarded by Segment. `reached` holds each `connector:status` moved to.
 */
export async function untilScenarioSeen(
  scenario: Scenario | undefined,
  failing: LocalConnector | undefined,
  reached: ReadonlySet<string>,
  timeoutMs: number,
  out: (l: string) => void,
): Promise<void> {
  if (scenario !== 'write-key-rotated' || !failing) return;
  const seenBy = Date.now() + timeoutMs;
  while (!reached.has(`${failing.connector.name}:failing`) && Date.now() < seenBy) await sleep(100);
  out(`[${failing.connector.name}] the probe's source check saw the rotation; events are parked from now on.`);
}
