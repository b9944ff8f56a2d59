/** The Segment answer a handled message is counted under on the dashboard: the worst of its requests' answers. */
import { worstSegmentStatus } from '../../../runtime/core/segment-status';

it('picks no answer over any status, then the highest status', () => {
  expect(worstSegmentStatus({})).toBeUndefined();
  expect(worstSegmentStatus({ 200: 3 })).toBe('200');
  expect(worstSegmentStatus({ 200: 3, 400: 1 })).toBe('400');
  expect(worstSegmentStatus({ 429: 2, 200: 1, 503: 1 })).toBe('503');
  expect(worstSegmentStatus({ 200: 1, network: 1, 503: 4 })).toBe('network');
  expect(worstSegmentStatus({ 500: 0, 200: 1 })).toBe('200');
});
