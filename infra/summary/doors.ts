/**
 * The plan summary's part about Braze: one Custom Currents Export per workspace, its URL (the stack output of the
 * workspace's door, which has this form), its token secret, the connectors it feeds and the exact boxes to tick in
 * Braze's form (the union of the connectors' selections, by the event names of Braze's form).
 */
import type { Environment } from '../../shared/connector';
import { boxLines, doorLocation, doorUrl, doorUrlOutput, unselectedWarning, workspaceDoors } from '../../shared/door';

export function doorLines(env: Environment): string[] {
  const doors = workspaceDoors(env.connectors);
  if (!doors.length) return [];
  const lines = [
    `**Braze: one Custom Currents Export per workspace** (${doors.length}): paste the URL into the workspace's Current, ` +
      'with a token from `currents receiver-token new`, and tick exactly these event boxes (known after deploy as ' +
      'the stack output named beside each URL, which has this form):',
    '',
  ];
  for (const d of doors) {
    lines.push(
      `- workspace \`${d.workspace}\`: ${doorUrl(env, d.workspace, doorLocation(d, env))} (output \`${doorUrlOutput(d.workspace)}\`, ` +
        `token secret \`${d.names.tokenSecret}\`), feeds ${d.connectors.map((c) => `\`${c.name}\``).join(', ')}; ` +
        `tick ${d.boxes.length} box(es):`,
      ...boxLines(d, (name) => `\`${name}\``).map((line) => `  - ${line}`),
    );
    const warning = unselectedWarning(d);
    if (warning) lines.push(`  - ⚠️ ${warning}`);
  }
  lines.push('');
  return lines;
}
