/**
 * The one Segment answer a handled message is counted under (log field `segmentStatus` of `batch_done`, a label of the
 * `segment-answers` metric): the worst answer among its Tracking API requests. No answer at all (`network`: refused,
 * reset, timed out) is worst, then the highest status code (5xx over 429 over other 4xx over 2xx). PURE.
 */
export function worstSegmentStatus(statuses: Readonly<Record<string, number>>): string | undefined {
  let worst: string | undefined;
  for (const [status, n] of Object.entries(statuses)) {
    if (!(n > 0)) continue;
    if (status === 'network') return 'network';
    if (worst === undefined || Number(status) > Number(worst)) worst = status;
  }
  return worst;
}
