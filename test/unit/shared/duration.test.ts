/** The short human form of a duration: seconds under a minute (never `0m` or `<1m` for a time not over), then d/h/m. */
import { formatDurationMs } from '../../../shared/duration';

it('says seconds under a minute, then days, hours and minutes', () => {
  expect(formatDurationMs(0)).toBe('0m');
  expect(formatDurationMs(400)).toBe('1s');
  expect(formatDurationMs(42_000)).toBe('42s');
  expect(formatDurationMs(60_000)).toBe('1m');
  expect(formatDurationMs(90 * 60_000)).toBe('1h 30m');
  expect(formatDurationMs(51 * 3_600_000)).toBe('2d 3h');
});
