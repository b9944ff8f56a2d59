/**
 * One value read through a slow source (Secret Manager, a file), cached on lru-cache's `fetch()`: concurrent reads
 * share one load, a failed reload can fall back to the last value, and `invalidate()` makes the next read load again
 * (a load already in flight then no longer fills the cache). Freshness is judged on the project's `Clock`: the value is
 * fresh while younger than `freshMs` (lru-cache's own ttl counts on its timer and keeps a value at exactly its ttl).
 */
import { LRUCache } from 'lru-cache';
import type { Clock } from '../core/types';

export interface CachedValueOptions {
  readonly clock: Clock;
  /** How long a read value is used without reading again. */
  readonly freshMs: number;
  /**
   * When a reload fails, the last value is used while it is younger than `freshMs + staleMs` (each read past
   * `freshMs` tries again). Default 0: a failed reload fails the read.
   */
  readonly staleMs?: number;
}

interface Entry<T> {
  readonly value: T;
  readonly readAt: number;
}

const KEY = 'value';

export class CachedValue<T extends NonNullable<unknown>> {
  private readonly cache: LRUCache<typeof KEY, Entry<T>>;

  constructor(
    load: () => Promise<T>,
    private readonly options: CachedValueOptions,
  ) {
    const { clock, freshMs, staleMs = 0 } = options;
    this.cache = new LRUCache<typeof KEY, Entry<T>>({
      max: 1,
      fetchMethod: async (_key, last) => {
        try {
          return { value: await load(), readAt: clock.now() };
        } catch (err) {
          if (last && clock.now() - last.readAt < freshMs + staleMs) return last;
          throw err;
        }
      },
      // A failed reload keeps the last value (for the stale window of later reads); a load that an invalidate()
      // overtook still answers the reads that were waiting for it.
      noDeleteOnFetchRejection: true,
      ignoreFetchAbort: true,
    });
  }

  /** The value: the cached one while fresh, else a new load (shared with concurrent reads). */
  async get(): Promise<T> {
    const held = this.cache.peek(KEY);
    const stale = held === undefined || this.options.clock.now() - held.readAt >= this.options.freshMs;
    const entry = await this.cache.fetch(KEY, { forceRefresh: stale });
    return entry!.value;
  }

  /** Forgets the value: the next read loads it again. */
  invalidate(): void {
    this.cache.delete(KEY);
  }
}
