/**
 * The capacity and cost model (shared/capacity.ts): its arithmetic, checked against figures worked out by hand from the
 * measured table and the price list, and how plan-summary presents it.
 */
import { capacity, MEASURED, monthlyCost, PRICES, secondsPerPush } from '../../../shared/capacity';
import { capacityLines } from '../../../infra/summary';
import { loadEnvironments } from '../../../shared/connector';
import { connectorDefinition } from '../../support/function/fixture';

describe('time per push', () => {
  it('is the measured time at a measured concurrency, and linear between levels', () => {
    for (const [c, ms] of MEASURED.msPerPushByConcurrency) expect(secondsPerPush(c)).toBeCloseTo(ms / 1000, 9);
    const [[c0, t0], [c1, t1]] = [MEASURED.msPerPushByConcurrency[3]!, MEASURED.msPerPushByConcurrency[4]!];
    const mid = (c0 + c1) / 2;
    expect(secondsPerPush(mid)).toBeCloseTo((t0 + t1) / 2000, 9);
  });

  it('shifts by the difference in Segment latency, never below 1 ms', () => {
    expect(secondsPerPush(1, 500)).toBeCloseTo((MEASURED.msPerPushByConcurrency[0]![1] + 300) / 1000, 9);
    expect(secondsPerPush(1, -10_000)).toBe(0.001);
  });
});

describe('the ceiling', () => {
  it('is instances × concurrency × events per push / time per push', () => {
    const [c, ms] = MEASURED.msPerPushByConcurrency[4]!; // 16
    const cap = capacity({ maxInstances: 10, concurrency: c }, { vcpu: 1 });
    expect(cap.eventsPerSec).toBe(Math.floor((10 * c * MEASURED.eventsPerPush) / (ms / 1000)));
    expect(cap.advice).toMatch(/raise maxInstances \(now 10\) or concurrency \(now 16\)/);
  });

  it('doubles with the instances, and says when the CPU is the limit instead', () => {
    const one = capacity({ maxInstances: 5, concurrency: 8 }, { vcpu: 1 });
    const two = capacity({ maxInstances: 10, concurrency: 8 }, { vcpu: 1 });
    expect(Math.abs(two.eventsPerSec - 2 * one.eventsPerSec)).toBeLessThanOrEqual(1);
    const starved = capacity({ maxInstances: 1, concurrency: 80 }, { vcpu: 0.001 });
    expect(starved.advice).toMatch(/CPU-bound/);
    expect(starved.cpuUtilisation).toBeCloseTo(1, 6);
  });
});

describe('the monthly cost', () => {
  const fn = { vcpu: 1, memoryGiB: 0.5, concurrency: 16 };
  const receiver = { vcpu: 1, memoryGiB: 1, concurrency: 80 };

  it('prices each line from the volume (10 million events)', () => {
    const { lines, totalUsd, dominant } = monthlyCost(10_000_000, fn, receiver);
    const line = (item: RegExp) => lines.find((l) => item.test(l.item))!;
    const bytes = 10_000_000 * MEASURED.bytesPerEvent;
    expect(line(/^Pub\/Sub/).usd).toBeCloseTo(((2 * bytes) / 2 ** 40) * PRICES.pubsubPerTiB, 9);
    expect(line(/^egress/).usd).toBeCloseTo((bytes / 2 ** 30) * PRICES.egressPerGiB, 9);
    const pushes = 100_000;
    const fnSeconds = (pushes * secondsPerPush(16)) / 16;
    expect(line(/^function/).usd).toBeCloseTo(
      fnSeconds * (PRICES.cloudRunPerVcpuSecond + 0.5 * PRICES.cloudRunPerGibSecond),
      9,
    );
    expect(line(/^requests/).usd).toBeCloseTo(((2 * pushes + 14_400) / 1e6) * PRICES.cloudRunPerMillionRequests, 9);
    expect(line(/Scheduler/).usd).toBe(PRICES.schedulerPerJobMonth);
    expect(totalUsd).toBeCloseTo(
      lines.reduce((n, l) => n + l.usd, 0),
      9,
    );
    expect(dominant).toBe(lines[0]!.item);
    expect(lines.map((l) => l.usd)).toEqual([...lines.map((l) => l.usd)].sort((a, b) => b - a));
  });

  it('grows with the volume, and costs less per event at higher concurrency', () => {
    const small = monthlyCost(1_000_000, fn, receiver);
    const large = monthlyCost(100_000_000, fn, receiver);
    const pubsub = (r: typeof small) => r.lines.find((l) => /^Pub\/Sub/.test(l.item))!.usd;
    expect(pubsub(large)).toBeCloseTo(100 * pubsub(small), 9);
    expect(large.totalUsd).toBeGreaterThan(20 * small.totalUsd); // the fixed lines (probe, secrets) do not grow
    const single = monthlyCost(10_000_000, { ...fn, vcpu: 1 / 3, concurrency: 1 }, receiver);
    const shared = monthlyCost(10_000_000, fn, receiver);
    const fnLine = (r: typeof single) => r.lines.find((l) => l.item === 'function instance time')!.usd;
    expect(fnLine(shared)).toBeLessThan(fnLine(single));
  });

  it('bills Pub/Sub at least 1,000 bytes a request', () => {
    const tiny = monthlyCost(100_000, fn, receiver).lines.find((l) => /^Pub\/Sub/.test(l.item))!;
    expect(tiny.usd).toBeGreaterThan(0);
  });
});

describe('plan-summary', () => {
  it('shows each connector’s ceiling, what limits it and its monthly cost at the stated volume', () => {
    const [env] = loadEnvironments([
      {
        name: 'test',
        project: 'capacity-test',
        region: 'europe-west1', // the connector is an EU one: it runs in the EU
        connectors: [connectorDefinition({ name: 'cap-a', maxInstances: 4, concurrency: 8 })],
      },
    ]);
    const lines = capacityLines(env!.connectors, 25_000_000).join('\n');
    const expected = capacity({ maxInstances: 4, concurrency: 8 }, { vcpu: 1 }).eventsPerSec;
    expect(lines).toContain('cost of 25,000,000 events a month');
    expect(lines).toContain(`| \`cap-a\` | 4 × 8 | ${expected.toLocaleString('en-US')} |`);
    expect(lines).toMatch(/\| \$\d+\.\d\d \| [a-zA-Z/ ()]+ \|/);
  });
});
