/**
 * How long a backfill takes and what it costs (`currents import --remote`, docs/sizing.md): a model with no I/O, from the
 * connector's `backfill` settings, the rate one importer host reached in `npm run bench -- backfill`, the function's
 * measured CPU per event (shared/capacity.ts) and Google Cloud's list prices.
 *
 *   events/s = min(importers × importer rate, maxInstances × backfill function rate, Segment's ~1,000 requests/s × 500)
 *
 * A backfill push is one importer chunk (≤ 500 events, ≤ 4 MB; about 450 KB of Currents JSON), which the function sends
 * as one Segment request (≤ 500 KB): its Segment request rate is its push rate.
 */
import type { Connector } from './connector';
import { MEASURED, PRICES, secondsPerPush } from './capacity';

/** The importer's measured rate (docs/benchmarks.md) and the constants of a backfill push. */
export const BACKFILL_MEASURED = {
  source:
    '`npm run bench -- import` (one importer process, 2026-11-29, quiet 2-core machine); `npm run bench -- backfill` ' +
    'measures the remote path on the same machine, shared and slower',
  /** Events/s one importer process read, transcoded and published with about one core (the import bench). */
  importerEventsPerSec: 65_209,
  /** Events in one backfill push: the importer's chunk. */
  eventsPerPush: 500,
  /** Segment's recommended ceiling of requests per second per workspace. */
  segmentRequestsPerSec: 1000,
} as const;

/** An importer instance as deployed (512 MiB, for which Cloud Functions allots 1/3 vCPU); the bench's host had ~1. */
export const IMPORTER_SHAPE = { vcpu: 1 / 3, memoryGiB: 0.5 } as const;
/** A backfill function instance: the connector's function (1 vCPU above one push at a time). */
export const BACKFILL_FUNCTION_SHAPE = { vcpu: 1, memoryGiB: 0.5 } as const;

export interface BackfillEstimate {
  readonly events: number;
  readonly eventsPerSec: number;
  readonly limitedBy: 'importers' | 'backfill function' | "Segment's request rate";
  readonly hours: number;
  readonly segmentRequestsPerSec: number;
  readonly costUsd: number;
  readonly lines: ReadonlyArray<{ item: string; usd: number }>;
}

/** Time and cost of backfilling `events` through a connector at its `backfill` settings. */
export function backfillEstimate(
  c: Pick<Connector, 'backfill' | 'concurrency'>,
  events = 1e9,
  importerEventsPerSec: number = BACKFILL_MEASURED.importerEventsPerSec,
): BackfillEstimate {
  const perPush = BACKFILL_MEASURED.eventsPerPush;
  const importers = c.backfill.importers * importerEventsPerSec * IMPORTER_SHAPE.vcpu;
  // A backfill function instance: its pushes overlap Segment's round trips, unless its CPU is the limit.
  const latencyBound =
    (c.concurrency * perPush) / (secondsPerPush(c.concurrency) + (perPush * MEASURED.functionCpuMsPerEvent) / 1000);
  const cpuBound = (BACKFILL_FUNCTION_SHAPE.vcpu * 1000) / MEASURED.functionCpuMsPerEvent;
  const functionRate = c.backfill.maxInstances * Math.min(latencyBound, cpuBound);
  const segment = BACKFILL_MEASURED.segmentRequestsPerSec * perPush;
  const eventsPerSec = Math.min(importers, functionRate, segment);
  const limitedBy =
    eventsPerSec === importers
      ? 'importers'
      : eventsPerSec === functionRate
        ? 'backfill function'
        : "Segment's request rate";
  const seconds = events / eventsPerSec;
  const bytes = events * MEASURED.bytesPerEvent;
  const pushes = events / perPush;
  const instanceSecond = (s: { vcpu: number; memoryGiB: number }) =>
    s.vcpu * PRICES.cloudRunPerVcpuSecond + s.memoryGiB * PRICES.cloudRunPerGibSecond;
  const lines = [
    // Published by the importer and pushed to the function: twice the bytes.
    { item: 'Pub/Sub (publish + push)', usd: ((2 * bytes) / 2 ** 40) * PRICES.pubsubPerTiB },
    { item: 'egress to Segment', usd: (bytes / 2 ** 30) * PRICES.egressPerGiB },
    {
      item: 'backfill function instance time',
      usd: (events / Math.min(latencyBound, cpuBound)) * instanceSecond(BACKFILL_FUNCTION_SHAPE),
    },
    {
      item: 'importer instance time',
      usd: (events / (importerEventsPerSec * IMPORTER_SHAPE.vcpu)) * instanceSecond(IMPORTER_SHAPE),
    },
    { item: 'requests', usd: (pushes / 1e6) * PRICES.cloudRunPerMillionRequests },
    { item: 'logs', usd: ((pushes * MEASURED.logBytesPerPush) / 2 ** 30) * PRICES.loggingPerGiB },
  ].sort((a, b) => b.usd - a.usd);
  return {
    events,
    eventsPerSec: Math.floor(eventsPerSec),
    limitedBy,
    hours: seconds / 3600,
    segmentRequestsPerSec: Math.round(eventsPerSec / perPush),
    costUsd: lines.reduce((n, l) => n + l.usd, 0),
    lines,
  };
}
