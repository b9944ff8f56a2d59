/**
 * Counting by key, for the outcome counts the function logs and returns. Pure. A key may come from the data (an event's
 * type): `tally` keeps it an own property whatever it is, so that `__proto__` or `constructor` is counted like any other
 * name instead of reaching (or being read from) the object's prototype.
 */

/** Adds `by` to the count of `key` in `counts`. */
export function tally(counts: Record<string, number>, key: string, by = 1): void {
  const before = Object.hasOwn(counts, key) ? counts[key]! : 0;
  Object.defineProperty(counts, key, { value: before + by, enumerable: true, writable: true, configurable: true });
}

/** How many items there are of each key. */
export function countBy<T>(items: readonly T[], key: (t: T) => string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const i of items) tally(out, key(i));
  return out;
}

/** The total of a count map. */
export function sum(counts: Readonly<Record<string, number>>): number {
  let n = 0;
  for (const v of Object.values(counts)) n += v;
  return n;
}

/** Adds the counts of `from` into `into` (key by key); returns `into`. */
export function addCounts(
  into: Record<string, number>,
  from: Readonly<Record<string, number>> | undefined,
): Record<string, number> {
  for (const [k, v] of Object.entries(from ?? {})) tally(into, k, v);
  return into;
}
