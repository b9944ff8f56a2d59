/** The one cache of slow reads (secrets, receiver tokens): freshness, one load in flight, invalidation, stale-on-error. */
import { CachedValue } from '../../../runtime/adapters/cached-value';

function setup(staleMs?: number) {
  let t = 1_000;
  const clock = { now: () => t };
  const loads: { resolve: (v: string) => void; reject: (e: Error) => void }[] = [];
  const cache = new CachedValue(() => new Promise<string>((resolve, reject) => loads.push({ resolve, reject })), {
    clock,
    freshMs: 100,
    staleMs,
  });
  const settle = () => new Promise((r) => setImmediate(r));
  return { cache, loads, advance: (ms: number) => (t += ms), settle };
}

describe('CachedValue', () => {
  it('keeps a value for freshMs of the clock (fresh below it, read again at it) and shares one load', async () => {
    const { cache, loads, advance, settle } = setup();
    const reads = [cache.get(), cache.get(), cache.get()];
    await settle();
    expect(loads).toHaveLength(1);
    loads[0]!.resolve('a');
    await expect(Promise.all(reads)).resolves.toEqual(['a', 'a', 'a']);
    advance(99);
    await expect(cache.get()).resolves.toBe('a');
    expect(loads).toHaveLength(1);
    advance(1);
    const next = cache.get();
    await settle();
    expect(loads).toHaveLength(2);
    loads[1]!.resolve('b');
    await expect(next).resolves.toBe('b');
  });

  it('after invalidate() loads again; a load it overtook answers its own readers but does not fill the cache', async () => {
    const { cache, loads, settle } = setup();
    const early = cache.get();
    await settle();
    cache.invalidate();
    const late = cache.get();
    await settle();
    expect(loads).toHaveLength(2);
    loads[0]!.resolve('old');
    loads[1]!.resolve('new');
    await expect(early).resolves.toBe('old');
    await expect(late).resolves.toBe('new');
    await expect(cache.get()).resolves.toBe('new');
    expect(loads).toHaveLength(2);
  });

  it('without staleMs a failed reload fails the read, and the next read tries again', async () => {
    const { cache, loads, advance, settle } = setup();
    const first = cache.get();
    await settle();
    loads[0]!.resolve('a');
    await first;
    advance(100);
    const failing = cache.get();
    await settle();
    loads[1]!.reject(new Error('unavailable'));
    await expect(failing).rejects.toThrow('unavailable');
    const retry = cache.get();
    await settle();
    expect(loads).toHaveLength(3);
    loads[2]!.resolve('b');
    await expect(retry).resolves.toBe('b');
  });

  it('with staleMs a failed reload answers the last value until it is freshMs + staleMs old, trying again each read', async () => {
    const { cache, loads, advance, settle } = setup(50);
    const first = cache.get();
    await settle();
    loads[0]!.resolve('a');
    await first;
    advance(149);
    const stale = cache.get();
    await settle();
    loads[1]!.reject(new Error('unavailable'));
    await expect(stale).resolves.toBe('a');
    advance(1);
    const tooOld = cache.get();
    await settle();
    expect(loads).toHaveLength(3);
    loads[2]!.reject(new Error('unavailable'));
    await expect(tooOld).rejects.toThrow('unavailable');
  });
});
