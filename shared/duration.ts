/** Durations written as `<number><unit>` with unit `m` (minutes), `h` (hours) or `d` (days), e.g. `48h`, `7d`, `90m`. */

const UNIT_MS = { m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
export const DURATION_PATTERN = /^(\d+)(m|h|d)$/;

/** Milliseconds of a duration string, or undefined when it is not of the accepted form. */
export function parseDuration(text: string): number | undefined {
  const m = DURATION_PATTERN.exec(text);
  if (!m) return undefined;
  return Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS];
}

/** Milliseconds of a duration that has already been validated. */
export function durationMs(text: string): number {
  const ms = parseDuration(text);
  if (ms === undefined) throw new Error(`not a duration: '${text}' (write e.g. 48h, 7d or 90m)`);
  return ms;
}

/** Seconds in the `123s` form that Google APIs (and Terraform) take. */
export function googleSeconds(text: string): string {
  return `${Math.round(durationMs(text) / 1000)}s`;
}

/** A short human form: 2d 3h, 48h, 90m; under a minute, in seconds (42s), never `0m` for a time that is not over. */
export function formatDurationMs(ms: number): string {
  if (ms <= 0) return '0m';
  if (ms < UNIT_MS.m) return `${Math.ceil(ms / 1000)}s`;
  const d = Math.floor(ms / UNIT_MS.d);
  const h = Math.floor((ms % UNIT_MS.d) / UNIT_MS.h);
  const m = Math.floor((ms % UNIT_MS.h) / UNIT_MS.m);
  return [d ? `${d}d` : '', h ? `${h}h` : '', m ? `${m}m` : ''].filter(Boolean).join(' ');
}
