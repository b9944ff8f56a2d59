/**
 * Timing and delivery policy of a connector, derived from its definition: the function's timeout, the push subscription's
 * ack deadline and retry backoff, the delivery budget inside one request, the probe schedule. The infrastructure declares
 * these values, the local run provisions the emulator with them, and the runtime works within them: one source.
 */
import type { Connector } from './connector';
import { durationMs } from './duration';

export interface ConnectorPolicy {
  /** Cloud Function request timeout. */
  readonly functionTimeoutSeconds: number;
  /** Push subscription ack deadline: the function's timeout plus a margin, so Pub/Sub never redelivers a live request. */
  readonly ackDeadlineSeconds: number;
  /** Time the handler may spend delivering one message before answering (leaves room to park or nack). */
  readonly deliveryBudgetMs: number;
  /** Time the probe may spend draining parked events. */
  readonly probeBudgetMs: number;
  /** Push subscription retry policy (Pub/Sub's exponential backoff between redeliveries). */
  readonly minimumBackoffSeconds: number;
  readonly maximumBackoffSeconds: number;
  /** Deliveries before Pub/Sub moves a message to the dead-letter topic. */
  readonly maxDeliveryAttempts: number;
  /** How long the dead-letter hold subscription keeps messages. */
  readonly deadLetterRetentionSeconds: number;
  /** Cloud Scheduler cron for the credential probe. */
  readonly probeSchedule: string;
  /** Grace period of the expiry rule. */
  readonly gracePeriodMs: number;
  /** Parked groups expire (TTL) this long after the grace period ends; the probe drops and counts them first. */
  readonly parkedTtlMarginMs: number;
}

/** Seconds Pub/Sub waits for the function's answer: its timeout plus a margin for the platform's own latency. */
export function ackDeadlineFor(functionTimeoutSeconds: number): number {
  return Math.min(600, functionTimeoutSeconds + 20);
}

export function connectorPolicy(c: Pick<Connector, 'deadLetterMaxAttempts' | 'retention' | 'credentialGracePeriod'>) {
  const functionTimeoutSeconds = 60;
  const policy: ConnectorPolicy = {
    functionTimeoutSeconds,
    ackDeadlineSeconds: ackDeadlineFor(functionTimeoutSeconds),
    deliveryBudgetMs: (functionTimeoutSeconds - 15) * 1000,
    probeBudgetMs: (functionTimeoutSeconds - 15) * 1000,
    minimumBackoffSeconds: 10,
    maximumBackoffSeconds: 600,
    maxDeliveryAttempts: c.deadLetterMaxAttempts,
    deadLetterRetentionSeconds: Math.round(durationMs(c.retention) / 1000),
    probeSchedule: '*/3 * * * *',
    gracePeriodMs: durationMs(c.credentialGracePeriod),
    parkedTtlMarginMs: 24 * 3_600_000,
  };
  return policy;
}
