/**
 * Timing and delivery policy of a connector. ONE source of time: the function's deployed request timeout. The
 * infrastructure declares it (and derives the push subscription's ack deadline and the probe job's deadline from it),
 * passes it to the function in its environment (CURRENTS_TIMEOUT_SECONDS), and the runtime derives its delivery and
 * probe budgets from that same number (`runtimeBudgets`). The receiver gets its own timeout the same way and derives its
 * publish timeout from it (`receiverBudgets`). The local run provisions the emulator with the same values.
 */
import type { Connector } from './connector';
import {
  CONNECTOR_FIELD_DEFAULTS,
  DEFAULT_BACKOFF_SECONDS,
  DEFAULT_FUNCTION_TIMEOUT_SECONDS,
  DEFAULT_PROBE_SCHEDULE,
} from './defaults';
import { durationMs } from './duration';

const HOUR_MS = 3_600_000;

/**
 * Time kept between the end of a budget and the platform's timeout: room to park what was not delivered, write the
 * dead letters, and answer (a 503 nack) before Cloud Run kills the request.
 */
export const ANSWER_MARGIN_SECONDS = 15;
/**
 * The shortest useful delivery budget: one whole Segment request (the Segment client's per-request timeout is
 * 10 s). A timeout that leaves less would cut every slow-but-successful request and redeliver it forever.
 */
export const MIN_DELIVERY_BUDGET_MS = 10_000;
/** The shortest function timeout the construct accepts: the minimum budget plus the answer margin. */
export const MIN_FUNCTION_TIMEOUT_SECONDS = MIN_DELIVERY_BUDGET_MS / 1000 + ANSWER_MARGIN_SECONDS;
/** The longest: Pub/Sub's ack deadline is the timeout plus ACK_MARGIN_SECONDS and at most 600 s. */
export const ACK_MARGIN_SECONDS = 20;
export const MAX_FUNCTION_TIMEOUT_SECONDS = 600 - ACK_MARGIN_SECONDS;

/** The receiver waits this long at most for Pub/Sub to acknowledge a publish (less when its timeout is short). */
export const MAX_PUBLISH_TIMEOUT_MS = 10_000;
/** Time the receiver keeps after a publish timed out, to answer 503 before its own timeout. */
export const RECEIVER_ANSWER_MARGIN_SECONDS = 5;
export const MIN_RECEIVER_TIMEOUT_SECONDS = 10;

/** The credential grace period when a connector does not set one (shared/defaults.ts), in milliseconds. */
export const DEFAULT_GRACE_MS = durationMs(CONNECTOR_FIELD_DEFAULTS.credentialGracePeriod);
/**
 * Parked groups expire (Firestore TTL) this long after the grace period ends, so that the probe, which counts what it
 * drops, drops them first; the TTL only cleans up when no probe ran.
 */
export const PARKED_TTL_MARGIN_MS = 24 * HOUR_MS;

/** The budgets the function works within, derived from its deployed timeout. */
export interface RuntimeBudgets {
  readonly timeoutSeconds: number;
  /** Time the handler may spend delivering one push before answering (leaves ANSWER_MARGIN_SECONDS to park or nack). */
  readonly deliveryBudgetMs: number;
  /** Time the probe may spend draining parked events (same margin, under the scheduler's attempt deadline). */
  readonly probeBudgetMs: number;
}

/**
 * The function's budgets for a timeout. Throws for a timeout outside [MIN_FUNCTION_TIMEOUT_SECONDS,
 * MAX_FUNCTION_TIMEOUT_SECONDS]: the construct refuses such a timeout with the same words before anything is deployed.
 */
export function runtimeBudgets(timeoutSeconds: number): RuntimeBudgets {
  const problem = functionTimeoutProblem(timeoutSeconds);
  if (problem) throw new Error(problem);
  const budgetMs = (timeoutSeconds - ANSWER_MARGIN_SECONDS) * 1000;
  return { timeoutSeconds, deliveryBudgetMs: budgetMs, probeBudgetMs: budgetMs };
}

/** Why a function timeout cannot work, or undefined when it can. */
export function functionTimeoutProblem(timeoutSeconds: number): string | undefined {
  if (
    Number.isInteger(timeoutSeconds) &&
    timeoutSeconds >= MIN_FUNCTION_TIMEOUT_SECONDS &&
    timeoutSeconds <= MAX_FUNCTION_TIMEOUT_SECONDS
  ) {
    return undefined;
  }
  return (
    `timeoutSeconds ${timeoutSeconds} must be a whole number between ${MIN_FUNCTION_TIMEOUT_SECONDS} and ` +
    `${MAX_FUNCTION_TIMEOUT_SECONDS}: the function keeps ${ANSWER_MARGIN_SECONDS} s to park or nack, and its delivery ` +
    `budget must hold one whole Segment request (${MIN_DELIVERY_BUDGET_MS / 1000} s); the push subscription's ack ` +
    `deadline is ${ACK_MARGIN_SECONDS} s more, at most 600`
  );
}

/** The receiver's budgets, derived from its deployed timeout. */
export interface ReceiverBudgets {
  readonly timeoutSeconds: number;
  /** How long a publish may wait for Pub/Sub's acknowledgement before the request is answered 503. */
  readonly publishTimeoutMs: number;
}

export function receiverBudgets(timeoutSeconds: number): ReceiverBudgets {
  if (!Number.isInteger(timeoutSeconds) || timeoutSeconds < MIN_RECEIVER_TIMEOUT_SECONDS) {
    throw new Error(
      `receiver timeoutSeconds ${timeoutSeconds} must be a whole number ≥ ${MIN_RECEIVER_TIMEOUT_SECONDS}`,
    );
  }
  return {
    timeoutSeconds,
    publishTimeoutMs: Math.min(MAX_PUBLISH_TIMEOUT_MS, (timeoutSeconds - RECEIVER_ANSWER_MARGIN_SECONDS) * 1000),
  };
}

/** Seconds Pub/Sub waits for the function's answer: its timeout plus a margin for the platform's own latency. */
export function ackDeadlineFor(functionTimeoutSeconds: number): number {
  return Math.min(600, functionTimeoutSeconds + ACK_MARGIN_SECONDS);
}

/** The push subscription's and the probe's settings of a connector (what the construct and the local run declare). */
export interface ConnectorPolicy {
  /** Cloud Function request timeout. */
  readonly functionTimeoutSeconds: number;
  /** Push subscription ack deadline: the function's timeout plus a margin, so Pub/Sub never redelivers a live request. */
  readonly ackDeadlineSeconds: number;
  /** Push subscription retry policy (Pub/Sub's exponential backoff between redeliveries). */
  readonly minimumBackoffSeconds: number;
  readonly maximumBackoffSeconds: number;
  /** Deliveries before Pub/Sub moves a message to the dead-letter topic. */
  readonly maxDeliveryAttempts: number;
  /** How long the dead-letter hold subscription keeps messages. */
  readonly deadLetterRetentionSeconds: number;
  /** Cloud Scheduler cron for the credential probe. */
  readonly probeSchedule: string;
}

export function connectorPolicy(
  c: Pick<Connector, 'deadLetterMaxAttempts' | 'retention'>,
  functionTimeoutSeconds: number = DEFAULT_FUNCTION_TIMEOUT_SECONDS,
): ConnectorPolicy {
  return {
    functionTimeoutSeconds,
    ackDeadlineSeconds: ackDeadlineFor(functionTimeoutSeconds),
    minimumBackoffSeconds: DEFAULT_BACKOFF_SECONDS.minimum,
    maximumBackoffSeconds: DEFAULT_BACKOFF_SECONDS.maximum,
    maxDeliveryAttempts: c.deadLetterMaxAttempts,
    deadLetterRetentionSeconds: Math.round(durationMs(c.retention) / 1000),
    probeSchedule: DEFAULT_PROBE_SCHEDULE,
  };
}
