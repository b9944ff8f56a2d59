/**
 * Events of types the catalogue does not know, counted in the state document for `currents status`:
 * `unknownTypes: { <type>: { events, firstSeenAt, lastSeenAt } }`. Counting writes nothing per event: an instance adds
 * up what it saw and writes it (one merge of increments) when it sees a type it has not written yet (so a new type is
 * in the status at once) or when the interval since its last write has passed. Counts an instance saw after its last
 * write are lost if it stops first: the figures are a lower bound, the types and times are exact. For status only: a
 * failed write is retried with the next message and never fails the push.
 */
import type { Clock } from '../../core/types';
import type { UnknownTypeTotals } from '../../ports';
import type { FirestoreConnection } from './connection';
import { millis } from './documents';

export class UnknownTypeCounts {
  private pending = new Map<string, number>();
  private readonly written = new Set<string>();
  private lastWrite?: number;

  constructor(
    private readonly conn: FirestoreConnection,
    private readonly opts: { clock: Clock; intervalMs: number },
  ) {}

  /** Adds one message's counts; returns true when it wrote them (with what was pending). */
  async note(byType: Readonly<Record<string, number>>): Promise<boolean> {
    let fresh = false;
    for (const [type, n] of Object.entries(byType)) {
      this.pending.set(type, (this.pending.get(type) ?? 0) + n);
      if (!this.written.has(type)) fresh = true;
    }
    const now = this.opts.clock.now();
    if (!this.pending.size || (!fresh && this.lastWrite !== undefined && now - this.lastWrite < this.opts.intervalMs))
      return false;
    const batch = this.pending;
    this.pending = new Map();
    this.lastWrite = now;
    try {
      const { fs, stateRef } = await this.conn.refs();
      const at = fs.Timestamp.fromMillis(now);
      const unknownTypes: Record<string, unknown> = {};
      for (const [type, n] of batch) {
        unknownTypes[type] = {
          events: fs.FieldValue.increment(n),
          lastSeenAt: at,
          ...(this.written.has(type) ? {} : { firstSeenAt: at }),
        };
      }
      // Set with merge takes map keys literally, so event types with dots stay single keys.
      await stateRef.set({ unknownTypes }, { merge: true });
      this.conn.stats.writes++;
      for (const type of batch.keys()) this.written.add(type);
      return true;
    } catch {
      for (const [type, n] of batch) this.pending.set(type, (this.pending.get(type) ?? 0) + n);
      this.lastWrite = undefined;
      return false;
    }
  }
}

/** The unknown-type counts of the state document. */
export function unknownTypesFromDoc(data: Record<string, unknown> | undefined): UnknownTypeTotals {
  const out: Record<string, { events: number; firstSeenAt?: number; lastSeenAt?: number }> = {};
  const raw = data?.unknownTypes;
  if (!raw || typeof raw !== 'object') return out;
  for (const [type, v] of Object.entries(raw as Record<string, unknown>)) {
    const e = (v ?? {}) as { events?: unknown; firstSeenAt?: unknown; lastSeenAt?: unknown };
    if (typeof e.events !== 'number') continue;
    out[type] = { events: e.events, firstSeenAt: millis(e.firstSeenAt), lastSeenAt: millis(e.lastSeenAt) };
  }
  return out;
}
