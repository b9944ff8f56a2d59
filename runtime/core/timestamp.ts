/** ISO-8601 timestamps of event times, cached per day and second (the hot path of translation). Pure. */

const DAY_MS = 86_400_000;
let cachedDay = NaN;
let cachedDayPrefix = '';
let cachedSecond = NaN;
let cachedSecondPrefix = '';
const pad2 = (n: number): string => (n < 10 ? '0' : '') + n;

/**
 * ISO-8601 UTC of a time in ms (exactly Date#toISOString), or undefined when out of the range of dates. The events of
 * one feed are close in time, so the date (and often the second) is cached: a hit costs a few arithmetic operations.
 */
export function isoTimestamp(ms: number): string | undefined {
  const second = Math.floor(ms / 1000);
  const milli = ms - second * 1000;
  const msPart = (milli < 10 ? '.00' : milli < 100 ? '.0' : '.') + milli + 'Z';
  if (second === cachedSecond) return cachedSecondPrefix + msPart;
  const day = Math.floor(ms / DAY_MS);
  if (day !== cachedDay || !(ms >= 0 && ms < 253_402_300_800_000)) {
    const d = new Date(ms);
    if (Number.isNaN(d.getTime())) return undefined;
    const iso = d.toISOString();
    if (iso.length !== 24) return iso; // years before 0 or after 9999 (no caching)
    cachedDay = day;
    cachedDayPrefix = iso.slice(0, 11);
    cachedSecond = second;
    cachedSecondPrefix = iso.slice(0, 19);
    return iso;
  }
  const inDay = second - day * 86_400;
  const h = Math.floor(inDay / 3600);
  const m = Math.floor((inDay - h * 3600) / 60);
  cachedSecond = second;
  cachedSecondPrefix = cachedDayPrefix + pad2(h) + ':' + pad2(m) + ':' + pad2(inDay - h * 3600 - m * 60);
  return cachedSecondPrefix + msPart;
}

/** 2000-01-01T00:00:00Z in ms. */
const YEAR_2000_MS = 946_684_800_000;

/**
 * The event times the translator accepts. Braze (founded 2011) records an event's time when it happens, so a time before
 * 2000 is a broken value (`-1`, seconds taken for ms), not history; Segment and its destinations reject or misfile
 * those, and a time more than a day ahead (a clock a day wrong, ms taken for seconds) files the event in the future.
 * A day of leeway covers every time zone mistake and clock skew; the storage import's oldest files are a few days old.
 */
export const PLAUSIBLE_TIME = {
  earliestMs: YEAR_2000_MS,
  futureLeewayMs: DAY_MS,
  /** Why `ms` is not plausible at `nowMs` ("before 2000-01-01", "more than a day after now"), or undefined. */
  problem(ms: number, nowMs: number): string | undefined {
    if (ms < YEAR_2000_MS) return 'before 2000-01-01T00:00:00Z (implausible for a Currents event)';
    if (ms > nowMs + DAY_MS) return `more than a day after now (${new Date(nowMs).toISOString()})`;
    return undefined;
  },
} as const;
