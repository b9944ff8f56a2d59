/**
 * The state document `connector/state` read and written as plain data: { status, failingSince?, lastFailureAt?, detail?,
 * expiredAt?, recoveredAt?, version, updatedAt, dropped: { total, byType: { <event type>: n } }, lastDeliveryAt?,
 * lastDropAt? } (times are Timestamps). `version` counts the writes of the credential state (absent = 0).
 */
import { type CredentialState, INITIAL_STATE } from '../../core/expiry';
import type { DroppedTotals } from '../../ports';
import type { FirestoreModule } from './connection';

/** A Firestore Timestamp (or a number of ms) as ms; anything else is undefined. */
export function millis(v: unknown): number | undefined {
  if (v && typeof (v as { toMillis?: unknown }).toMillis === 'function')
    return (v as { toMillis(): number }).toMillis();
  if (typeof v === 'number') return v;
  return undefined;
}

/** Reads the state machine's state out of the state document (a missing or unreadable one is `active`). */
export function stateFromDoc(data: Record<string, unknown> | undefined): CredentialState {
  if (!data) return INITIAL_STATE;
  const status = data.status;
  const failingSince = millis(data.failingSince);
  const lastFailureAt = millis(data.lastFailureAt) ?? failingSince;
  const detail = typeof data.detail === 'string' ? data.detail : '';
  if ((status === 'failing' || status === 'expired') && failingSince !== undefined) {
    if (status === 'failing') return { status, failingSince, lastFailureAt: lastFailureAt!, detail };
    return { status, failingSince, lastFailureAt: lastFailureAt!, detail, expiredAt: millis(data.expiredAt) ?? 0 };
  }
  const recoveredAt = millis(data.recoveredAt);
  return recoveredAt !== undefined ? { status: 'active', recoveredAt } : INITIAL_STATE;
}

/** The version of the stored credential state (0 before its first write). */
export function versionFromDoc(data: Record<string, unknown> | undefined): number {
  const v = data?.version;
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 ? v : 0;
}

export function droppedFromDoc(data: Record<string, unknown> | undefined): DroppedTotals {
  const d = (data?.dropped ?? {}) as { total?: unknown; byType?: unknown };
  const byType: Record<string, number> = {};
  if (d.byType && typeof d.byType === 'object') {
    for (const [k, v] of Object.entries(d.byType as Record<string, unknown>)) if (typeof v === 'number') byType[k] = v;
  }
  return { total: typeof d.total === 'number' ? d.total : 0, byType };
}

/** The state document's fields for a credential state (fields the state does not have are deleted). */
export function stateFields(fs: FirestoreModule, s: CredentialState, now: number): Record<string, unknown> {
  const ts = (ms: number | undefined) => (ms === undefined ? fs.FieldValue.delete() : fs.Timestamp.fromMillis(ms));
  return {
    status: s.status,
    failingSince: ts(s.status === 'active' ? undefined : s.failingSince),
    lastFailureAt: ts(s.status === 'active' ? undefined : s.lastFailureAt),
    detail: s.status === 'active' ? fs.FieldValue.delete() : s.detail,
    expiredAt: ts(s.status === 'expired' ? s.expiredAt : undefined),
    recoveredAt: ts(s.status === 'active' ? s.recoveredAt : undefined),
    updatedAt: fs.Timestamp.fromMillis(now),
  };
}

/** The merge that adds dropped events to the cumulative `dropped` counts and sets `lastDropAt`. */
export function droppedIncrement(
  fs: FirestoreModule,
  byType: Readonly<Record<string, number>>,
  total: number,
  now: number,
): Record<string, unknown> {
  // Set with merge takes map keys literally, so event types with dots stay single keys.
  const inc: Record<string, unknown> = {};
  for (const [t, n] of Object.entries(byType)) if (n) inc[t] = fs.FieldValue.increment(n);
  return {
    dropped: { total: fs.FieldValue.increment(total), byType: inc },
    lastDropAt: fs.Timestamp.fromMillis(now),
  };
}
