/**
 * Runs `send` over `items` with `level` calls in flight at once (each worker takes the next item when its call ends),
 * and times it: the whole run, and each call.
 */
export async function inFlight<T>(
  level: number,
  items: readonly T[],
  send: (item: T) => Promise<void>,
): Promise<{ seconds: number; latenciesMs: number[] }> {
  const latenciesMs: number[] = [];
  let next = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: level }, async () => {
      while (next < items.length) {
        const item = items[next++]!;
        const t = performance.now();
        await send(item);
        latenciesMs.push(performance.now() - t);
      }
    }),
  );
  return { seconds: (performance.now() - start) / 1000, latenciesMs };
}
