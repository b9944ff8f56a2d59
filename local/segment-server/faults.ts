/** The local Segment server's fault injection: the rules, which of them fire for a request, and the rejected ids. */
import type { ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { prng } from '../../common/samples';
import { bump } from './counters';
import { destroy, send } from './http-io';
import type { FaultRule } from './types';

/** What the faults decided for one request: an answer, or a dropped connection (before or after accepting). */
export interface FaultDecision {
  status?: number;
  retryAfter?: number;
  destroy?: 'before' | 'after';
}

export type FaultTarget = 'tracking' | 'token' | 'publicApi';

interface Rule extends FaultRule {
  id: string;
  fired: number;
}

/** The fault rules and rejected message ids; `reset()` forgets them and restarts the seeded random generator. */
export class FaultInjector {
  private rules: Rule[] = [];
  private seq = 0;
  private random: () => number;
  /** Message ids a tracking request is answered 400 for. */
  readonly rejected = new Set<string>();

  /** `onFired` is called once for each request at least one rule fired for. */
  constructor(
    private readonly seed: number,
    private readonly onFired: () => void,
  ) {
    this.random = prng(seed);
  }

  add(rule: FaultRule): string {
    const id = `f${++this.seq}`;
    this.rules.push({ ...rule, id, fired: 0 });
    return id;
  }

  remove(id: string): void {
    this.rules = this.rules.filter((r) => r.id !== id);
  }

  clear(): void {
    this.rules = [];
  }

  list(): (FaultRule & { id: string; fired: number })[] {
    return this.rules.map((r) => ({ ...r }));
  }

  reset(): void {
    this.rules = [];
    this.rejected.clear();
    this.random = prng(this.seed);
  }

  /** Returns the fault decision for this request (after applying latency). */
  async decide(target: FaultTarget): Promise<FaultDecision | undefined> {
    let latency = 0;
    let decision: FaultDecision | undefined;
    let fired = false;
    for (const rule of this.rules) {
      const ruleTarget = rule.target ?? 'tracking';
      if (ruleTarget !== 'all' && ruleTarget !== target) continue;
      if (rule.times !== undefined && rule.fired >= rule.times) continue;
      const decides = rule.destroyConnection || rule.destroyAfterAccept || rule.status !== undefined;
      if (decision && decides) continue; // the answer is already decided: this rule neither fires nor counts
      if (this.random() >= (rule.probability ?? 1)) continue;
      rule.fired++;
      fired = true;
      latency += rule.latencyMs ?? 0;
      if (decision) continue;
      if (rule.destroyConnection) decision = { destroy: 'before' };
      else if (rule.destroyAfterAccept) decision = { destroy: 'after' };
      else if (rule.status !== undefined) {
        const list = typeof rule.status === 'number' ? [rule.status] : rule.status;
        decision = { status: list[Math.floor(this.random() * list.length)]!, retryAfter: rule.retryAfterSeconds };
      }
    }
    if (fired) this.onFired();
    if (latency > 0) await sleep(latency);
    return decision;
  }
}

/**
 * Answers a request with its injected fault when the fault decides the answer now (a dropped connection, counted as
 * `closed` in `byStatus`, or the injected status with `errorBody`); returns whether it did.
 */
export function answerFault(
  res: ServerResponse,
  fault: FaultDecision | undefined,
  byStatus: Record<string, number>,
  errorBody: (status: number) => unknown,
): boolean {
  if (fault?.destroy) {
    bump(byStatus, 'closed');
    destroy(res);
    return true;
  }
  if (fault?.status === undefined) return false;
  const headers: Record<string, string> = {};
  if (fault.retryAfter !== undefined) headers['retry-after'] = String(fault.retryAfter);
  bump(byStatus, fault.status);
  send(res, fault.status, errorBody(fault.status), headers);
  return true;
}
