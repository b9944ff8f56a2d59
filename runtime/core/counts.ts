/** Counting by key, for the outcome counts the function logs and returns. Pure. */

/** How many items there are of each key. */
export function countBy<T>(items: readonly T[], key: (t: T) => string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const i of items) {
    const k = key(i);
    out[k] = (out[k] ?? 0) + 1;
  }
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
  for (const [k, v] of Object.entries(from ?? {})) into[k] = (into[k] ?? 0) + v;
  return into;
}
