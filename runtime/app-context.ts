/**
 * What the connector's two routes share (runtime/push-handler.ts, runtime/probe-handler.ts; runtime/app.ts composes
 * them): the app's dependencies and answers, and the credential steps both take — recording a credential failure, and
 * the write-key source check (once per instance before its first delivery, and in every probe) — and the dead letters
 * of the events Segment refused. Like the handlers, it sees the outside world through the ports only.
 */
import type { RuntimeBudgets } from '../shared/policy';
import type { FollowUp } from './core/expiry';
import type { Translator } from './core/translate';
import type { Clock, CredentialSource, DeadLetter, DeliveryItem } from './core/types';
import type {
  CredentialCheck,
  CredentialCheckResult,
  DeadLetterSink,
  Delivery,
  DeliveryReport,
  StateStore,
  StoredDecision,
  TraceSink,
} from './ports';
import { describeError, logTransition, type Logger } from './log';

export interface AppDeps {
  /** The connector's translator, or where to get it (a keyed hash needs its key read first: runtime/adapters/translator-source.ts). */
  readonly translator: Translator | (() => Promise<Translator>);
  readonly segment: Delivery;
  readonly credentials: CredentialSource;
  readonly store: StateStore;
  readonly deadLetters: DeadLetterSink;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly policy: Pick<RuntimeBudgets, 'deliveryBudgetMs' | 'probeBudgetMs'>;
  readonly traces?: TraceSink;
  /**
   * The write-key source check through Segment's Public API (connectors with `segment.sourceId`), run by the probe before
   * it sends anything, and once per instance before its first delivery (never per push). A failed check is a credential
   * failure; an inconclusive one changes nothing and is logged as `credential_unverified` (alerted).
   */
  readonly credentialCheck?: CredentialCheck;
}

/** Longest wait for the source check an instance runs once before its first delivery. */
export const START_CHECK_BUDGET_MS = 5_000;

export interface HttpResult {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

/** One app instance: its dependencies and the credential steps the push and the probe share. */
export interface AppContext {
  readonly deps: AppDeps;
  /** Logs the state transition a decision made, if any. */
  transition(d: { transition?: Parameters<typeof logTransition>[1] }): void;
  /** Records a credential failure seen while the state was at version `basis` (logged, with its transition if any). */
  credentialFailed(detail: string, basis: number): Promise<StoredDecision<FollowUp>>;
  /** Runs the source check (when the connector has one); logs an inconclusive answer. Never throws. */
  checkSource(budgetMs: number, when: 'probe' | 'start'): Promise<CredentialCheckResult | undefined>;
  /**
   * Once per instance, before its first delivery: a failed source check is recorded as a credential failure, decided on
   * state version `basis`. Resolves true when a failure was recorded (the caller then admits again).
   */
  checkAtStart(basis: number): Promise<boolean>;
}

export function createAppContext(deps: AppDeps): AppContext {
  const { store, logger } = deps;

  const transition: AppContext['transition'] = (d) => {
    if (d.transition) logTransition(logger, d.transition);
  };

  async function credentialFailed(detail: string, basis: number): Promise<StoredDecision<FollowUp>> {
    deps.credentials.invalidate();
    const d = await store.recordFailure(detail, basis);
    logger.error('credential_failure', `Segment credential failed: ${detail}`, { detail, state: d.next.status });
    transition(d);
    return d;
  }

  async function checkSource(budgetMs: number, when: 'probe' | 'start'): Promise<CredentialCheckResult | undefined> {
    if (!deps.credentialCheck) return undefined;
    const r: CredentialCheckResult = await deps.credentialCheck
      .check({ budgetMs: Math.max(1, budgetMs) })
      .catch((err: unknown) => ({ status: 'inconclusive', detail: describeError(err) }));
    if (r.status === 'inconclusive') {
      logger.warning('credential_unverified', `${when}: the Segment credential cannot be verified: ${r.detail}`, {
        detail: r.detail,
        when,
      });
    }
    return r;
  }

  let startCheck: Promise<boolean> | undefined;
  function checkAtStart(basis: number): Promise<boolean> {
    startCheck ??= checkSource(START_CHECK_BUDGET_MS, 'start')
      .then(async (r) => {
        if (r?.status !== 'failed') return false;
        await credentialFailed(r.detail, basis);
        return true;
      })
      .catch((err: unknown) => {
        logger.error('internal_error', `start check not recorded: ${describeError(err)}`);
        return false;
      });
    return startCheck;
  }

  return { deps, transition, credentialFailed, checkSource, checkAtStart };
}

/** Dead letters for the events Segment refused (400 down to a single event). */
export function rejectedLetters<T extends DeliveryItem & { eventType: string }>(
  report: DeliveryReport<T>,
  raw: (item: T) => unknown,
): DeadLetter[] {
  return report.rejected.map(({ item, status, detail }) => ({
    reason: 'rejected' as const,
    detail: `Segment answered ${status}${detail ? `: ${detail}` : ''}`,
    eventType: item.eventType,
    id: item.messageId,
    raw: raw(item),
  }));
}
