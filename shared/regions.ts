/**
 * Segment's regions: the one list every region-keyed table (endpoints, Public API hosts, the local Segment servers) and
 * every message about a region derive from. Adding a region here makes the compiler name each table that lacks it.
 */
export const REGIONS = ['us', 'eu'] as const;
export type SegmentRegion = (typeof REGIONS)[number];

/** The region a connector or a local Segment server stands for when none is given. */
export const DEFAULT_REGION: SegmentRegion = 'us';

/** The regions as a message lists them: `'us' or 'eu'` (quoted) or `us or eu`. */
export function regionChoice(quoted = true): string {
  const names = REGIONS.map((r) => (quoted ? `'${r}'` : r));
  return names.length > 1 ? `${names.slice(0, -1).join(', ')} or ${names.at(-1)}` : names.join('');
}

/** Every region but `region`. */
export function otherRegions(region: SegmentRegion): SegmentRegion[] {
  return REGIONS.filter((r) => r !== region);
}

export function isRegion(value: string): value is SegmentRegion {
  return (REGIONS as readonly string[]).includes(value);
}

/** A value for each region: `fn` run over REGIONS in order. */
export async function forEachRegion<T>(fn: (region: SegmentRegion) => Promise<T>): Promise<Record<SegmentRegion, T>> {
  const out = {} as Record<SegmentRegion, T>;
  for (const region of REGIONS) out[region] = await fn(region);
  return out;
}
