/**
 * The write-key source check, PURE: what Segment's Public API said about the connector's source, judged against the
 * connector's region and write key. The Tracking API answers 200 to any well-formed batch, even with an unknown, rotated
 * or deleted write key or a key of the other region, and discards the events; this check is the only place where such a
 * key's failure can be seen.
 *
 * Rules:
 *  - the source is found on the region's Public API host, enabled, and the connector's write key is one of its write
 *    keys → `ok`;
 *  - the source is not found there (deleted, a wrong id, or a source of the other region), is disabled, or no longer has
 *    this write key (rotated or removed) → `failed`: a credential failure, which drives the state machine;
 *  - the Public API cannot answer (network, timeout, 5xx, 429, an unexpected answer) or refuses its own token (401/403),
 *    or that token cannot be read → `inconclusive`: the credential is unknown; no state change, an alert.
 * A detail never contains the write key or the token.
 */
import type { SegmentRegion } from '../../shared/connector';

/** What the Public API's `GET /sources/{id}` answered, reduced to what the check needs. */
export type SourceLookup =
  | { readonly kind: 'found'; readonly enabled: boolean; readonly writeKeys: readonly string[] }
  | { readonly kind: 'not_found' }
  | { readonly kind: 'token_refused'; readonly status: number }
  | { readonly kind: 'unavailable'; readonly detail: string };

export type CredentialCheckResult =
  | { readonly status: 'ok' }
  | { readonly status: 'failed'; readonly detail: string }
  | { readonly status: 'inconclusive'; readonly detail: string };

/** The port the app calls (the probe, and each instance once at start). */
export interface CredentialCheck {
  check(options: { budgetMs: number }): Promise<CredentialCheckResult>;
}

/** Judges a lookup of source `sourceId` on `region`'s Public API host against the connector's write key. */
export function judgeSource(
  lookup: SourceLookup,
  expected: { readonly sourceId: string; readonly region: SegmentRegion; readonly writeKey: string },
): CredentialCheckResult {
  const source = `Segment source ${expected.sourceId} (${expected.region})`;
  switch (lookup.kind) {
    case 'found':
      if (!lookup.enabled) return { status: 'failed', detail: `${source} is disabled: Segment discards its events` };
      if (!lookup.writeKeys.includes(expected.writeKey)) {
        return {
          status: 'failed',
          detail: `${source} does not have the write key in the connector's secret (rotated or removed): Segment discards its events; put the source's current write key into the secret`,
        };
      }
      return { status: 'ok' };
    case 'not_found':
      return {
        status: 'failed',
        detail: `${source} not found by the Public API of region ${expected.region} (deleted, a wrong id, or a source of the other region): Segment discards its events`,
      };
    case 'token_refused':
      return {
        status: 'inconclusive',
        detail: `the Public API refused its own token (${lookup.status}): the write key cannot be verified; check the environment's Public API token`,
      };
    case 'unavailable':
      return {
        status: 'inconclusive',
        detail: `the Public API could not answer (${lookup.detail}): the write key cannot be verified`,
      };
  }
}
