/**
 * The sending of an `npm start` run: each workspace's Braze feed through its door (the local Braze), or each
 * connector's feed published to its topic, paced by `--rate`, with a progress line.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Connector } from '../shared/connector';
import { sendLikeBraze } from './braze';
import { brazeFeed, buildFeed, type FeedEvent, type FeedMessage, type Intent } from './feed';
import { sumOf, type ConnectorSummary } from './start-reconcile';
import type { LocalStack } from './stack';

/** The run's feeds, and what each event is meant to become and which connector is meant to handle it. */
export interface RunFeeds {
  /** Through the doors (`--via receiver`), or to the topics. */
  door: boolean;
  /** Each workspace's Braze feed (through its door). */
  doorFeeds: Map<string, { bodies: readonly unknown[]; events: readonly FeedEvent[] }>;
  /** Each connector's messages (to its topic; none through the doors) and the events it is meant to handle. */
  feeds: Map<string, { messages: readonly FeedMessage[]; expected: readonly { id: string; intent: Intent }[] }>;
  /** Each connector's expected events, for the reconciliation. */
  expectations: Map<string, readonly { id: string; intent: Intent }[]>;
  /** Events to send in all. */
  total: number;
}

export function planFeeds(
  stack: LocalStack,
  connectors: readonly Connector[],
  options: { via: 'receiver' | 'topic'; events: number },
): RunFeeds {
  const door = options.via === 'receiver';
  const doorFeeds: RunFeeds['doorFeeds'] = new Map(
    stack.doors.map((d, i) => [d.workspace, brazeFeed(d.door.connectors, { events: options.events, seed: i + 1 })]),
  );
  const feeds: RunFeeds['feeds'] = new Map(
    connectors.map((c, i) => {
      if (door) {
        const events = doorFeeds.get(c.workspace)!.events.filter((e) => e.connector === c.name);
        return [c.name, { messages: [], expected: events }];
      }
      const messages = buildFeed(c, { events: options.events, seed: i + 1 });
      return [c.name, { messages, expected: messages.flatMap((m) => m.events) }];
    }),
  );
  const expectations = new Map([...feeds].map(([name, f]) => [name, f.expected]));
  const total = door
    ? [...doorFeeds.values()].reduce((n, f) => n + f.events.length, 0)
    : [...expectations.values()].reduce((n, e) => n + e.length, 0);
  return { door, doorFeeds, feeds, expectations, total };
}

/** The progress line: rewritten in place on a TTY, else a plain line at most once a second (or when forced). */
export class Progress {
  published = 0;
  /** When sending started (the pace of `--rate` and the summary's duration count from here). */
  readonly publishStart = Date.now();
  private lastPlain = 0;

  constructor(
    private readonly total: number,
    private readonly summarize: () => ConnectorSummary[],
    private readonly out: (line: string) => void,
    private readonly tty: boolean,
  ) {}

  line(): string {
    const s = this.summarize();
    const delivered = s.reduce((n, x) => n + x.delivered, 0);
    const skipped = s.reduce((n, x) => n + sumOf(x.skipped), 0);
    const dl = s.reduce((n, x) => n + sumOf(x.deadLettered), 0);
    const parked = s.reduce((n, x) => n + x.parked, 0);
    return `published ${this.published}/${this.total} · delivered ${delivered} · skipped ${skipped} · dead-lettered ${dl} · parked ${parked}`;
  }

  show(force = false): void {
    if (this.tty) process.stdout.write(`\r${this.line()}   `);
    else if (force || Date.now() - this.lastPlain > 1000) {
      this.lastPlain = Date.now();
      this.out(this.line());
    }
  }
}

/** Each workspace's Braze feed through its door, as Braze sends (the rate shared by the doors). */
export async function sendThroughDoors(
  stack: LocalStack,
  doorFeeds: RunFeeds['doorFeeds'],
  options: { rate: number; timeoutSeconds: number },
  progress: Progress,
  out: (line: string) => void,
): Promise<void> {
  const reports = await Promise.all(
    stack.doors.map((d) =>
      sendLikeBraze(doorFeeds.get(d.workspace)!.bodies, {
        url: d.url,
        token: d.token,
        rate: options.rate > 0 ? options.rate / stack.doors.length : 0,
        backoff: { initialMs: 250, maxMs: 5000 },
        giveUpAfterMs: options.timeoutSeconds * 1000,
        onRequest: (r) => {
          if (r.status === 200) progress.published += r.events.length;
          progress.show();
        },
      }),
    ),
  );
  for (const [i, r] of reports.entries()) {
    if (r.notDelivered.length) {
      out(
        `\n[${stack.doors[i]!.workspace}] Braze could not deliver ${r.notDelivered.length} event(s): ${r.notDelivered[0]!.why}`,
      );
    }
  }
}

/** Each connector's messages published to its topic, in turns, paced by `rate` (events per second; 0: at once). */
export async function publishToTopics(
  stack: LocalStack,
  feeds: RunFeeds['feeds'],
  rate: number,
  progress: Progress,
): Promise<void> {
  const queues = stack.connectors.map((l) => ({ local: l, messages: [...feeds.get(l.connector.name)!.messages] }));
  const inflight: Promise<unknown>[] = [];
  while (queues.some((q) => q.messages.length)) {
    for (const q of queues) {
      const msg = q.messages.shift();
      if (!msg) continue;
      inflight.push(q.local.publish(msg.data, msg.attributes));
      progress.published += msg.events.length;
      if (rate > 0) {
        const due = progress.publishStart + (progress.published / rate) * 1000;
        if (due > Date.now()) await sleep(due - Date.now());
      }
      progress.show();
    }
    if (inflight.length > 200) await Promise.all(inflight.splice(0));
  }
  await Promise.all(inflight);
}
