/**
 * The log events a connector's infrastructure counts and alerts on, and the names and filters of their log-based
 * metrics (infra/connector/monitoring.ts declares them; infra/dashboard.ts and the CLI read the names).
 */
import type { LogEventName } from '../../runtime/log';
import { doorNames } from '../../shared/door';
import { RECEIVER_REQUESTS_METRIC, resourceNames, storageImportNames } from '../../shared/names';

/**
 * What the runtime logs (JSON, field `event`) and the infrastructure counts: one log-based metric and alert each. Keyed by
 * the log event name (runtime/log.ts LOG_EVENTS), checked by the type system: a renamed event fails the build.
 */
export const ALERTED_EVENTS = {
  credential_failure: {
    metric: 'credential-failures',
    severity: 'ERROR',
    title: 'credential failure',
    what:
      'Segment refused the credential (401/403, OAuth token refused) or the secret is missing, disabled or destroyed. ' +
      'Events are being parked; they are dropped once the grace period passes. Put a working credential into the ' +
      'secret (`gcloud secrets versions add`, see README "Deploying").',
  },
  events_dropped: {
    metric: 'events-dropped',
    severity: 'CRITICAL',
    title: 'events dropped',
    what:
      'The credential has been failing for longer than the grace period: parked and new events are being dropped and ' +
      'are permanently lost until a probe succeeds. Fix the credential now.',
  },
  credential_unverified: {
    metric: 'credential-unverified',
    severity: 'WARNING',
    title: 'credential cannot be verified',
    what:
      "The write key's source check could not get an answer from Segment's Public API (down, rate-limited, or its " +
      'own token refused), or the probe found no credential to read (a connector deployed before its secret has a ' +
      'version). Nothing changes while it lasts, but a revoked or rotated write key would go unseen (Segment answers ' +
      "200 and discards the events), and events that arrive without a credential are parked. Check the connector's " +
      "credential secret, the environment's Public API token secret and Segment's status.",
  },
  dead_lettered: {
    metric: 'dead-lettered',
    severity: 'WARNING',
    title: 'events dead-lettered',
    what:
      'Events were written to the dead-letter topic (rejected by Segment, malformed, or out of delivery attempts). ' +
      'Inspect them on the dead-letter subscription and replay them once the cause is fixed.',
  },
  unknown_event_type: {
    metric: 'unknown-event-types',
    severity: 'WARNING',
    title: 'events of a type the catalogue does not know',
    what:
      'Braze sent events of a type this product does not know yet (Braze adds types with two weeks notice, or none). ' +
      'They are skipped and counted, or exported generically when the connector sets exportUnknownTypes. ' +
      '`currents status` and the dashboard show them by type (log event unknown_event_type, field eventType). Decide ' +
      'whether to export them: update the product (its catalogue names them) or set exportUnknownTypes.',
  },
  state_unavailable: {
    metric: 'state-unavailable',
    severity: 'ERROR',
    title: 'credential state unreadable',
    what:
      "The function cannot read the connector's credential state in its Firestore database (unreachable or slower " +
      'than 2 s). It delivers on the last known active state for up to 60 s; after that, pushes are answered 503 and ' +
      "Pub/Sub redelivers them (nothing is lost while the subscription retains them). Check Firestore's status and " +
      "the runtime account's access to the connector's database, then `currents status`.",
  },
} as const satisfies Partial<Record<LogEventName, unknown>>;
export type AlertedEvent = keyof typeof ALERTED_EVENTS;

/**
 * What a workspace's door logs once per request (`receiver_request`, with the HTTP `status` it answered) and the
 * infrastructure counts: one log-based metric per door labelled by status, and the alerts on it (infra/door.ts). Keyed by the log event name,
 * like ALERTED_EVENTS; each alert selects the statuses it watches with a Cloud Monitoring label filter.
 */
export const RECEIVER_EVENTS = {
  receiver_request: {
    /** The metric label, extracted from `jsonPayload.status` (the HTTP status answered, e.g. "202", "401", "503"). */
    label: RECEIVER_REQUESTS_METRIC.label,
    alerts: {
      /**
       * 5xx means Braze is retrying (with backoff, for up to 5 days before it disables the Current): nothing is lost yet,
       * but the door is shut. One 503 (a deploy's shutdown, one slow publish) is normal; the alert wants 5xx in every
       * 2-minute window for 5 minutes, which a Current's batches and retries keep up through an outage and a blip never
       * does (a single 5xx keeps one 2-minute window above zero, never 5 minutes of them).
       * A second condition counts Cloud Run's own 5xx for the service, which also sees crashes and timeouts the
       * receiver could not log.
       */
      'server-errors': {
        title: 'receiver answering 5xx',
        severity: 'ERROR',
        status: 'starts_with("5")',
        alignmentSeconds: 120,
        durationSeconds: 300,
        what:
          "The workspace's door has been answering 5xx to Braze for more than 5 minutes: it cannot publish to an ingest " +
          'topic of the workspace, cannot read its token secret, or is crashing. Braze keeps retrying with backoff (for up to 5 days), so ' +
          'nothing is lost yet. Check the receiver logs (event receiver_request, outcome) and `currents status`.',
      },
      /**
       * 401s to Braze itself (token rotated in one place only) stop the Current: Braze re-sends nothing and waits for
       * a person. How many refusals it takes before it stops is not documented (it posts batches in parallel, and the
       * Currents of several workspaces may share one URL), so the alert watches the rate. Any public URL also gets
       * stray requests (scanners, a curl without a token): a handful an hour. The alert wants more than
       * `refusalsAlertThreshold` (default 20) refusals in a 5-minute window, held for 5 minutes: above 4 a minute for 5
       * to 10 minutes is the rhythm of Currents posting batches, not of strays. Braze also emails its own contact.
       */
      refusals: {
        title: 'receiver refusing requests (401)',
        severity: 'CRITICAL',
        status: '"401"',
        alignmentSeconds: 300,
        durationSeconds: 300,
        what:
          "The workspace's door keeps refusing requests with 401 at the rate of a Braze Current: the token Braze sends is " +
          "not an enabled version of the door's token secret (rotated in one place only, or disabled too early). Braze stops " +
          'the Current on 401 and needs it re-enabled by hand. Make a token with `currents receiver-token new`, paste ' +
          'it into the Current (Partner Integrations → Data Export), re-enable it, then check `currents status`.',
      },
    },
  },
} as const satisfies Partial<Record<LogEventName, unknown>>;
export type ReceiverAlert = keyof (typeof RECEIVER_EVENTS)['receiver_request']['alerts'];

/** Names of the log-based metrics of a connector (derived from the shared resource names). */
export function metricName(connectorName: string, event: AlertedEvent): string {
  return `${resourceNames(connectorName).function}-${ALERTED_EVENTS[event].metric}`;
}

/**
 * The Logging filter counting one event of one connector's function; `backfill`: counted from its backfill deployment
 * too (infra/connector/backfill.ts).
 */
export function metricFilter(connectorName: string, event: AlertedEvent, backfill = false): string {
  const names = resourceNames(connectorName);
  const service = backfill
    ? `("${names.function}" OR "${storageImportNames(connectorName).backfillFunction}")`
    : `"${names.function}"`;
  return [
    'resource.type="cloud_run_revision"',
    `resource.labels.service_name=${service}`,
    `jsonPayload.connector="${connectorName}"`,
    `jsonPayload.event="${event}"`,
  ].join(' AND ');
}

/** The Logging filter counting the `receiver_request` lines of one workspace's door. */
export function doorMetricFilter(workspace: string): string {
  const fn = doorNames(workspace).function;
  return [
    'resource.type="cloud_run_revision"',
    `resource.labels.service_name="${fn}"`,
    `jsonPayload.connector="${fn}"`,
    'jsonPayload.event="receiver_request"',
  ].join(' AND ');
}
