import { sampleFeed } from '../../../common/samples';

// Random ids alone are not enough: the PRNG has 32 bits of state, so a feed of ~100,000 events holds a repeated id
// (seed 3 repeats one at event 113,051), which Segment drops as a duplicate messageId. Each id ends in its index.
it('gives every event of a feed its own id, ending in its index', () => {
  const feed = sampleFeed({ count: 3000, seed: 3 });
  expect(new Set(feed.map((e) => e.id)).size).toBe(feed.length);
  feed.forEach((e, i) => {
    expect(e.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-a[0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(parseInt(e.id.slice(24), 16)).toBe(i);
  });
});
