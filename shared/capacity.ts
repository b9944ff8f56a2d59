/**
 * How far one connector scales, and what it costs: a model with no I/O, from the connector's settings, figures measured
 * by the benchmarks on this repository's reference machine (2 cores), and Google Cloud's list prices. `currents
 * plan-summary` prints it per connector; docs/sizing.md explains it.
 *
 *   ceiling (events/s) = maxInstances × concurrency × eventsPerPush / secondsPerPush(concurrency, Segment latency)
 *
 * One push is one Braze request (≤ 100 events): the receiver publishes each request as one message. A push takes about
 * one Segment round trip plus the function's own work; concurrent pushes on one instance overlap their round trips,
 * which is what request concurrency buys. The time per push at each concurrency is measured (`npm run bench --
 * concurrency`, Segment answering after 200 ms), not assumed: overlap is not perfect, and the table says by how much.
 * For another Segment latency the measured time is shifted by the difference.
 */
import type { Connector } from './connector';

/** Figures measured by the benchmarks (reference machine, 2 cores; see docs/sizing.md). */
export const MEASURED = {
  /** When the figures below were measured, and by what. */
  source: '2026-11-29, npm run bench -- concurrency / receiver / e2e on the 2-core reference machine',
  /** Events in one push: one Braze request. */
  eventsPerPush: 100,
  /** Segment latency the push times below were measured at, ms. */
  segmentLatencyMs: 200,
  /** Measured mean time per push (ms) with N pushes at once on one function process: [N, ms]. */
  msPerPushByConcurrency: [
    [1, 212],
    [2, 213],
    [4, 214],
    [8, 218],
    [16, 239],
    [32, 290],
  ] as ReadonlyArray<readonly [number, number]>,
  /** CPU time the function spends per event (the concurrency bench reads it from /proc), ms. */
  functionCpuMsPerEvent: 0.08,
  /** The receiver's CPU time per request of 100 events (parse, publish), ms. */
  receiverCpuMsPerRequest: 3,
  /** Time the receiver holds a request: Pub/Sub's publish acknowledgement, ms (p50 at moderate load). */
  receiverMsPerRequest: 20,
  /** Average size of one Currents event as Braze sends it (JSON, nested shape), bytes. */
  bytesPerEvent: 900,
  /** Log bytes per push: one `batch_done` line from the function and one `receiver_request` line from the receiver. */
  logBytesPerPush: 900,
} as const;

/**
 * Google Cloud list prices (USD, Tier 1 regions, request-based CPU billing), read on 2026-11-29 from the public pricing
 * pages of each product. Free tiers are left out: the figures are what a connector adds to a bill that already uses them.
 */
export const PRICES = {
  readOn: '2026-11-29',
  pubsubPerTiB: 40,
  /** Pub/Sub bills at least 1,000 bytes per publish or push request. */
  pubsubMinBytesPerRequest: 1000,
  cloudRunPerVcpuSecond: 0.000024,
  cloudRunPerGibSecond: 0.0000025,
  cloudRunPerMillionRequests: 0.4,
  /** Internet egress (Premium tier, to Segment's Tracking API), per GiB. */
  egressPerGiB: 0.12,
  firestorePer100kReads: 0.03,
  loggingPerGiB: 0.5,
  schedulerPerJobMonth: 0.1,
  secretManagerPer10kAccesses: 0.03,
} as const;

/** What one connector's function instance is given (the construct's serviceConfig). */
export interface InstanceShape {
  readonly vcpu: number;
  readonly memoryGiB: number;
  readonly concurrency: number;
}

/** The connector's function as deployed: 1 vCPU above one push at a time, a third of one otherwise, 512 MiB. */
export function functionShape(c: Pick<Connector, 'concurrency'>): InstanceShape {
  return { vcpu: c.concurrency > 1 ? 1 : 1 / 3, memoryGiB: 0.5, concurrency: c.concurrency };
}

/**
 * Seconds one push takes when `concurrency` pushes share an instance and Segment answers after `segmentLatencyMs`:
 * the measured time at that concurrency (linear between measured levels, the last one's slope beyond), shifted by the
 * difference in Segment latency.
 */
export function secondsPerPush(concurrency: number, segmentLatencyMs: number = MEASURED.segmentLatencyMs): number {
  const table = MEASURED.msPerPushByConcurrency;
  let i = 1;
  while (i < table.length - 1 && table[i]![0] < concurrency) i++;
  const [c0, t0] = table[i - 1]!;
  const [c1, t1] = table[i]!;
  const ms = concurrency <= c0 ? t0 : t0 + ((t1 - t0) * (concurrency - c0)) / (c1 - c0);
  return Math.max(1, ms + segmentLatencyMs - MEASURED.segmentLatencyMs) / 1000;
}

export interface Capacity {
  /** Sustainable events/s for the connector's settings at the stated Segment latency. */
  readonly eventsPerSec: number;
  readonly pushesPerSecPerInstance: number;
  /** CPU share one instance uses at that rate (above ~0.8 the CPU, not Segment's latency, is the limit). */
  readonly cpuUtilisation: number;
  /** The setting that limits the ceiling, and what to change to raise it. */
  readonly advice: string;
}

export function capacity(
  c: Pick<Connector, 'maxInstances'> & { concurrency: number },
  shape: Pick<InstanceShape, 'vcpu'>,
  segmentLatencyMs = 200,
): Capacity {
  const perInstance = c.concurrency / secondsPerPush(c.concurrency, segmentLatencyMs);
  const cpuLimited = shape.vcpu / ((MEASURED.functionCpuMsPerEvent * MEASURED.eventsPerPush) / 1000);
  const pushes = Math.min(perInstance, cpuLimited);
  const eventsPerSec = Math.floor(c.maxInstances * pushes * MEASURED.eventsPerPush);
  const cpuUtilisation = (pushes * MEASURED.functionCpuMsPerEvent * MEASURED.eventsPerPush) / 1000 / shape.vcpu;
  const advice =
    perInstance <= cpuLimited
      ? `raise maxInstances (now ${c.maxInstances}) or concurrency (now ${c.concurrency}) to go higher`
      : `CPU-bound at this concurrency: raise maxInstances (now ${c.maxInstances}) or the instance's vCPU`;
  return { eventsPerSec, pushesPerSecPerInstance: pushes, cpuUtilisation, advice };
}

export interface CostLine {
  readonly item: string;
  readonly usd: number;
  readonly basis: string;
}

/**
 * The monthly cost of `eventsPerMonth` events through one connector: receiver and function requests and instance time,
 * Pub/Sub publish and push, egress to Segment, logs, the probe, Firestore state reads, Secret Manager accesses. Lines
 * sorted by cost, highest first.
 */
export function monthlyCost(
  eventsPerMonth: number,
  fn: InstanceShape,
  receiver: InstanceShape,
  segmentLatencyMs = 200,
): { lines: CostLine[]; totalUsd: number; dominant: string } {
  const pushes = eventsPerMonth / MEASURED.eventsPerPush;
  const bytes = eventsPerMonth * MEASURED.bytesPerEvent;
  const pubsubBytes = 2 * Math.max(bytes, pushes * PRICES.pubsubMinBytesPerRequest); // publish + push
  // Request-based billing: an instance is billed while it handles requests; concurrent requests share that time.
  const fnInstanceSeconds = (pushes * secondsPerPush(fn.concurrency, segmentLatencyMs)) / fn.concurrency;
  const rcvInstanceSeconds = (pushes * MEASURED.receiverMsPerRequest) / 1000 / receiver.concurrency;
  const probesPerMonth = (30 * 24 * 60) / 3;
  const month = 30 * 24 * 3600;
  const lines: CostLine[] = [
    {
      item: 'Pub/Sub (publish + push)',
      usd: (pubsubBytes / 2 ** 40) * PRICES.pubsubPerTiB,
      basis: `${fmtBytes(pubsubBytes)} at $${PRICES.pubsubPerTiB}/TiB`,
    },
    {
      item: 'function instance time',
      usd: fnInstanceSeconds * (fn.vcpu * PRICES.cloudRunPerVcpuSecond + fn.memoryGiB * PRICES.cloudRunPerGibSecond),
      basis: `${Math.round(fnInstanceSeconds)} s of ${fn.vcpu} vCPU / ${fn.memoryGiB} GiB (${fn.concurrency} pushes at once)`,
    },
    {
      item: 'receiver instance time',
      usd:
        rcvInstanceSeconds *
        (receiver.vcpu * PRICES.cloudRunPerVcpuSecond + receiver.memoryGiB * PRICES.cloudRunPerGibSecond),
      basis: `${Math.round(rcvInstanceSeconds)} s of ${receiver.vcpu} vCPU / ${receiver.memoryGiB} GiB`,
    },
    {
      item: 'requests (receiver + function + probe)',
      usd: ((2 * pushes + probesPerMonth) / 1e6) * PRICES.cloudRunPerMillionRequests,
      basis: `${Math.round(2 * pushes + probesPerMonth)} requests`,
    },
    {
      item: 'egress to Segment',
      usd: (bytes / 2 ** 30) * PRICES.egressPerGiB,
      basis: `${fmtBytes(bytes)} at $${PRICES.egressPerGiB}/GiB`,
    },
    {
      item: 'logs',
      usd: ((pushes * MEASURED.logBytesPerPush) / 2 ** 30) * PRICES.loggingPerGiB,
      basis: `${fmtBytes(pushes * MEASURED.logBytesPerPush)} at $${PRICES.loggingPerGiB}/GiB`,
    },
    {
      item: 'Firestore (state reads, ≤ 1 per 5 s per busy instance)',
      usd: (Math.min(pushes, month / 5) / 1e5) * PRICES.firestorePer100kReads,
      basis: `≤ ${Math.round(Math.min(pushes, month / 5))} reads, 0 writes per event`,
    },
    {
      item: 'Secret Manager (credential and token reads, cached)',
      usd: ((month / 60 + (2 * month) / 30) / 1e4) * PRICES.secretManagerPer10kAccesses,
      basis: 'one read per minute (function) and two per 30 s (receiver), per busy instance',
    },
    { item: 'Cloud Scheduler (the probe)', usd: PRICES.schedulerPerJobMonth, basis: '1 job' },
  ];
  lines.sort((a, b) => b.usd - a.usd);
  const totalUsd = lines.reduce((n, l) => n + l.usd, 0);
  return { lines, totalUsd, dominant: lines[0]!.item };
}

function fmtBytes(n: number): string {
  return n >= 2 ** 30 ? `${(n / 2 ** 30).toFixed(1)} GiB` : `${(n / 2 ** 20).toFixed(1)} MiB`;
}
