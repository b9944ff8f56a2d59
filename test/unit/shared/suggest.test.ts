/** The one "did you mean" helper every message uses (shared/suggest.ts). */
import { didYouMean, editDistance, suggest } from '../../../shared/suggest';

describe('editDistance', () => {
  it.each([
    ['', '', 0],
    ['abc', '', 3],
    ['', 'abc', 3],
    ['open', 'open', 0],
    ['opne', 'open', 1], // a swap of neighbours is one edit
    ['opn', 'open', 1],
    ['emial', 'email', 1],
    ['kitten', 'sitting', 3],
    ['Open', 'open', 1], // case counts here; suggest() ignores it
  ])('%j → %j is %d', (a, b, d) => {
    expect(editDistance(a, b)).toBe(d);
    expect(editDistance(b, a)).toBe(d);
  });
});

describe('suggest', () => {
  const keys = ['name', 'displayName', 'contactEmail', 'workspace', 'maxInstances', 'concurrency'];

  it('prefers a name equal but for case', () => {
    expect(suggest('contactemail', keys)).toEqual(['contactEmail']);
    expect(suggest('writekey', ['writeKey', 'oauth'])).toEqual(['writeKey']);
    expect(suggest('EU', ['us', 'eu'])).toEqual(['eu']);
  });

  it('then names that contain what was typed, shortest first', () => {
    expect(suggest('push', ['sms', 'users.messages.pushnotification.Send', 'pushnotification'])).toEqual([
      'pushnotification',
      'users.messages.pushnotification.Send',
    ]);
    // Fewer than 3 characters never match by containment (everything contains 'a').
    expect(suggest('na', ['displayName', 'workspace'])).toEqual([]);
  });

  it('then names within a few edits, only the closest and one edit further', () => {
    expect(suggest('contactEmial', keys)).toEqual(['contactEmail']);
    expect(suggest('maxinstance', keys)).toEqual(['maxInstances']);
    expect(suggest('users.messages.email.Opne', ['users.messages.email.Send', 'users.messages.email.Open'])).toEqual([
      'users.messages.email.Open',
    ]);
    expect(suggest('campain', ['canvas', 'campaigns', 'behaviors'])).toEqual(['campaigns']);
  });

  it('suggests nothing when nothing is close, and at most `limit` names', () => {
    expect(suggest('region', keys)).toEqual([]);
    expect(suggest('zzzz', ['email', 'sms'])).toEqual([]);
    expect(suggest('Open', ['a.Open', 'b.Open', 'c.Open', 'd.Open'], 2)).toEqual(['a.Open', 'b.Open']);
    expect(suggest('x', [])).toEqual([]);
  });
});

describe('didYouMean', () => {
  it('lists the suggestions in backquotes, with an optional note each', () => {
    expect(didYouMean([])).toBe('');
    expect(didYouMean(['eu'])).toBe('did you mean `eu`?');
    expect(didYouMean(['a', 'b', 'c'], (s) => (s === 'a' ? ' (a group)' : ''))).toBe(
      'did you mean `a` (a group), `b` or `c`?',
    );
  });
});
