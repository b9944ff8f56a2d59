/**
 * The write-key source check's judgement (runtime/core/credential-check.ts), pure: every lookup outcome, and no detail
 * ever carrying the write key.
 */
import { judgeSource, type SourceLookup } from '../../../runtime/core/credential-check';

const KEY = 'wk_judge_0123456789abcdef';
const expected = { sourceId: 'src_a', region: 'eu', writeKey: KEY } as const;
const found = (over: Partial<Extract<SourceLookup, { kind: 'found' }>> = {}): SourceLookup => ({
  kind: 'found',
  enabled: true,
  writeKeys: ['wk_other', KEY],
  ...over,
});

describe('judging the Public API answer about a source', () => {
  it.each<[string, SourceLookup, string, RegExp | undefined]>([
    ['enabled, with the key among others', found(), 'ok', undefined],
    ['disabled', found({ enabled: false }), 'failed', /^Segment source src_a \(eu\) is disabled/],
    [
      'without the key (rotated)',
      found({ writeKeys: ['wk_new'] }),
      'failed',
      /does not have the write key in the connector's secret/,
    ],
    ['without any key', found({ writeKeys: [] }), 'failed', /does not have the write key/],
    [
      'not found in the region (deleted, wrong id, other region)',
      { kind: 'not_found' },
      'failed',
      /not found by the Public API of region eu/,
    ],
    ['token refused', { kind: 'token_refused', status: 403 }, 'inconclusive', /refused its own token \(403\)/],
    [
      'unavailable',
      { kind: 'unavailable', detail: 'answered 502' },
      'inconclusive',
      /could not answer \(answered 502\)/,
    ],
  ])('%s → %s', (_what, lookup, status, detail) => {
    const r = judgeSource(lookup, expected);
    expect(r.status).toBe(status);
    if (detail) expect((r as { detail: string }).detail).toMatch(detail);
    expect(JSON.stringify(r)).not.toContain(KEY);
  });

  it('compares the key exactly (a prefix or a different case is not the key)', () => {
    expect(judgeSource(found({ writeKeys: [KEY.slice(0, -1), KEY.toUpperCase()] }), expected).status).toBe('failed');
  });
});
