/**
 * What `npm start` prints for people: where everything runs, the summary table per door and per connector, and with
 * `--keep-running` the endpoints and commands to try (a curl line through a door, a gcloud publish).
 */
import { randomUUID } from 'node:crypto';
import { selectedTypes } from '../shared/connector';
import { REGIONS } from '../shared/regions';
import { table } from '../common/table';
import type { LocalConnector } from './connector-runner';
import { printDoors, type DoorSummary } from './door-summary';
import { inReasonOrder } from './outcomes';
import { sumOf, type ConnectorSummary } from './start-reconcile';
import type { LocalStack } from './stack';

/** Once the stack is up: how long it took, and each connector's topic and function. */
export function printReady(stack: LocalStack, out: (l: string) => void, seconds: number): void {
  out(`Ready in ${seconds.toFixed(1)} s:`);
  out(
    table(
      ['connector', 'region', 'ingest topic', 'function'],
      stack.connectors.map((l) => [l.connector.name, l.connector.segment.region, l.names.ingestTopic, l.host.url]),
    ),
  );
}

const fmt = (r: Record<string, number>) =>
  inReasonOrder(r)
    .filter(([, v]) => v)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ') || '0';

export function printSummary(
  summaries: ConnectorSummary[],
  doors: readonly DoorSummary[],
  out: (l: string) => void,
  seconds: number,
) {
  out('');
  const door = doors.length > 0;
  if (door) {
    printDoors(doors, out);
    out('');
  }
  out(
    table(
      [
        'connector',
        door ? 'sent (Braze)' : 'published',
        'delivered (server)',
        'skipped',
        'dead-lettered',
        'parked',
        'dropped',
        'reconciled',
      ],
      summaries.map((s) => [
        s.connector,
        s.published,
        `${s.delivered} (${s.region})`,
        fmt(s.skipped),
        fmt(s.deadLettered),
        s.parked,
        s.dropped,
        s.reconciled ? 'yes' : `NO: ${s.problems.join('; ')}`,
      ]),
    ),
  );
  const ok = summaries.every((s) => s.reconciled) && doors.every((d) => d.reconciled);
  const total = door ? doors.reduce((n, d) => n + d.sent, 0) : summaries.reduce((n, s) => n + s.published, 0);
  out(
    `\n${ok ? 'Reconciled' : 'NOT reconciled'}: ${total} event(s) published in ${seconds.toFixed(1)} s; every one ` +
      `${ok ? 'ended in exactly one outcome.' : 'did not end in exactly one outcome (see above).'}`,
  );
}

/** After the summary: the state changes seen, and what each Segment server discarded for a key it does not take. */
export function printAfterword(
  stack: LocalStack,
  stateLines: readonly string[],
  out: (l: string) => void,
  writeKeyRotated: boolean,
): void {
  if (stateLines.length) out(`\nState changes:\n  ${stateLines.join('\n  ')}`);
  for (const region of REGIONS) {
    const discarded = sumOf(stack.servers[region].stats().discarded);
    if (discarded || writeKeyRotated) {
      out(`Segment (${region}) discarded ${discarded} event(s) sent with a write key it does not take.`);
    }
  }
}

export function printEndpoints(stack: LocalStack, out: (l: string) => void) {
  const ps = stack.emulators.pubsub.host;
  out(`\nEverything keeps running (Ctrl-C, or SIGTERM to this process, stops it all):`);
  out(`  Pub/Sub emulator    ${ps}   (export PUBSUB_EMULATOR_HOST=${ps})`);
  out(
    `  Firestore emulator  ${stack.emulators.firestore.host}   (export FIRESTORE_EMULATOR_HOST=${stack.emulators.firestore.host})`,
  );
  out(`  Segment US server   ${stack.servers.us.url}/__admin/events`);
  out(`  Segment EU server   ${stack.servers.eu.url}/__admin/events`);
  for (const l of stack.connectors) {
    out(`  ${l.connector.name.padEnd(18)}  topic ${l.names.ingestTopic}, function ${l.host.url}`);
    if (l.receiver) {
      out(
        `  ${''.padEnd(18)}  receiver ${l.receiver.url}  token ${l.receiver.token}  (door of ${l.connector.workspace})`,
      );
    }
  }
  const first = stack.connectors[0]!;
  if (first.receiver) {
    out(
      `\nPost an event through the door of ${first.connector.workspace} (${first.connector.name} selects its type), as Braze does, and watch what becomes of it below:`,
    );
    out(`  ${curlLine(first)}`);
  }
  out(
    `\nPublish an event yourself, and watch what becomes of it below (delivered, skipped, dead-lettered, parked, dropped or duplicate, with the reason):`,
  );
  out(
    `  CLOUDSDK_AUTH_DISABLE_CREDENTIALS=true CLOUDSDK_API_ENDPOINT_OVERRIDES_PUBSUB=http://${ps}/ gcloud pubsub topics publish ` +
      `projects/${stack.projectId}/topics/${first.names.ingestTopic} --project=${stack.projectId} \\\n` +
      `    --message='{"events":[{"event_type":"${first.connector.events[0]?.includes('.') ? first.connector.events[0] : 'users.messages.email.Open'}","id":"try-1","time":${Math.floor(Date.now() / 1000)},"user":{"user_id":"b1","external_user_id":"u1"},"properties":{"email_address":"a@example.com"}}]}'`,
  );
  out(
    `  PUBSUB_EMULATOR_HOST=${ps} FIRESTORE_EMULATOR_HOST=${stack.emulators.firestore.host} npx currents status --env ${stack.environment.name}`,
  );
}

/** An event of a type the connector selects, for the hints and the curl line. */
function tryEvent(local: LocalConnector, id: string): Record<string, unknown> {
  const type = selectedTypes(local.connector)[0] ?? 'users.messages.email.Open';
  return {
    event_type: type,
    id,
    time: Math.floor(Date.now() / 1000),
    user: { user_id: 'braze-try-1', external_user_id: 'try-user-1' },
    properties: {},
  };
}

/** A `curl` command that posts one event through the connector's receiver exactly as Braze does. */
export function curlLine(local: LocalConnector, id = `try-${randomUUID()}`): string {
  const body = JSON.stringify({ events: [tryEvent(local, id)] });
  return (
    `curl -sS -X POST ${local.receiver!.url}/ -H 'Authorization: Bearer ${local.receiver!.token}' ` +
    `-H 'Braze-Currents-Version: 1' -H 'Content-Type: application/json' --data '${body}'`
  );
}
