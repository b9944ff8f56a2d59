/**
 * One connector running for real: the test emulators, a push subscription on the Pub/Sub emulator delivering to the
 * function served by functions-framework on loopback, and the local Segment server. Each fixture uses its own project
 * id, so fixtures never see each other's topics or databases.
 */
import { randomBytes } from 'node:crypto';
import { Firestore } from '@google-cloud/firestore';
import type { PubSub } from '@google-cloud/pubsub';
import { createClients, leaseAll, acknowledge, type DeadLetterView } from '../../../cli/ops/dead-letter-queue';
import type { LocalArtifacts } from '../../../local/connector-runner';
import { emulatorsFromEnv, type Emulators } from '../../../local/emulators';
import { startLocalStack, type LocalStack } from '../../../local/stack';
import { FirestoreStateStore } from '../../../runtime/adapters/firestore-state';
import { logLineProblems } from '../../../runtime/log';
import { loadEnvironments, type ConnectorDefinition } from '../../../shared/connector';
import { FIRESTORE_LAYOUT, resourceNames } from '../../../shared/names';
import { eventsEnvelope, sampleEvent } from '../../../common/samples';

export interface LogEntry {
  severity: string;
  message: string;
  connector: string;
  event: string;
  [key: string]: unknown;
}

export interface Fixture {
  readonly stack: LocalStack;
  readonly projectId: string;
  readonly pubsub: PubSub;
  readonly logs: LogEntry[];
  readonly rawLogs: string[];
  /** A store on the connector's database, for inspecting its state from the test. */
  readonly store: FirestoreStateStore;
  readonly db: Firestore;
  /** Dead letters waiting in the hold subscription (leased and acknowledged: each is returned once). */
  takeDeadLetters(): Promise<DeadLetterView[]>;
  /** Polls `check` until it is true or `timeoutMs` passes; returns its last value. */
  waitFor(check: () => boolean | Promise<boolean>, timeoutMs?: number): Promise<boolean>;
  stop(): Promise<void>;
}

export const CONNECTOR = 'fn-test';

export function connectorDefinition(overrides: Partial<ConnectorDefinition> = {}): ConnectorDefinition {
  return {
    name: CONNECTOR,
    displayName: 'Function test',
    contactEmail: 'team@example.com',
    workspace: 'ws-test',
    segment: { region: 'eu', credential: { kind: 'writeKey' } },
    events: ['email', 'canvas', 'pushnotification'],
    ...overrides,
  };
}

export async function startFixture(
  options: {
    connector?: Partial<ConnectorDefinition>;
    testClock?: boolean;
    deliveryBudgetMs?: number;
    minimumBackoffSeconds?: number;
    /** Put into generated write keys, so that a test can look for them. */
    credentialLabel?: string;
    /** Also serve the connector's receiver. */
    receivers?: boolean;
    /** Serve built archives (unpacked, installed) instead of the source. */
    artifacts?: LocalArtifacts;
    /** The Firestore host the function uses (e.g. a TCP proxy to the emulator that a test cuts); the test's own is direct. */
    functionFirestoreHost?: string;
  } = {},
): Promise<Fixture> {
  const projectId = `fn-${randomBytes(4).toString('hex')}`;
  const [environment] = loadEnvironments([
    { name: 'test', project: projectId, region: 'europe-west1', connectors: [connectorDefinition(options.connector)] },
  ]);
  const logs: LogEntry[] = [];
  const rawLogs: string[] = [];
  const stack = await startLocalStack({
    environment: environment!,
    emulators: withFirestoreHost(emulatorsFromEnv(), options.functionFirestoreHost),
    projectId,
    testClock: options.testClock,
    deliveryBudgetMs: options.deliveryBudgetMs,
    credentialLabel: options.credentialLabel,
    receivers: options.receivers,
    artifacts: options.artifacts,
    provision: {
      minimumBackoffSeconds: options.minimumBackoffSeconds ?? 1,
      maximumBackoffSeconds: 2,
      maxDeliveryAttempts: 100,
    },
    onLog: (_c, line) => {
      rawLogs.push(line);
      try {
        logs.push(JSON.parse(line) as LogEntry);
      } catch {
        /* a non-JSON line (the framework's own) */
      }
    },
  });
  const names = resourceNames(CONNECTOR);
  const store = new FirestoreStateStore({
    projectId,
    databaseId: names.firestoreDatabase,
    graceMs: 48 * 3_600_000,
    cacheMs: 0,
  });
  const db = new Firestore({ projectId, databaseId: names.firestoreDatabase });
  const clients = await createClients();
  const subscription = `projects/${projectId}/subscriptions/${names.deadLetterSubscription}`;
  const waitFor = async (check: () => boolean | Promise<boolean>, timeoutMs = 20_000) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (await check()) return true;
      if (Date.now() > deadline) return false;
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  return {
    stack,
    projectId,
    pubsub: stack.pubsub,
    logs,
    rawLogs,
    store,
    db,
    waitFor,
    takeDeadLetters: async () => {
      const letters = await leaseAll(clients.subscriber, subscription, { leaseSeconds: 60 });
      await acknowledge(clients.subscriber, subscription, letters);
      return letters;
    },
    /** Stops everything, then fails if any structured log line the functions wrote is not as LOG_EVENT_SPECS says. */
    stop: async () => {
      await stack.stop();
      await Promise.allSettled([store.close(), db.terminate(), clients.subscriber.close(), clients.publisher.close()]);
      const problems = new Set(logs.filter((l) => 'event' in l).flatMap((l) => logLineProblems({ ...l })));
      if (problems.size) {
        throw new Error(`log lines not as runtime/log.ts LOG_EVENT_SPECS says:\n${[...problems].join('\n')}`);
      }
    },
  };
}

/** Documents in the connector's parked collection. */
export async function parkedDocs(f: Fixture): Promise<number> {
  const snap = await f.db.collection(FIRESTORE_LAYOUT.parkedCollection).get();
  return snap.size;
}

export const HOUR = 3_600_000;

/** The emulators, with the Firestore host the functions are given replaced (the stack's own clients are unaffected). */
function withFirestoreHost(emulators: Emulators | undefined, host: string | undefined): Emulators | undefined {
  if (!emulators || !host) return emulators;
  return { ...emulators, env: { ...emulators.env, FIRESTORE_EMULATOR_HOST: host } };
}

/**
 * One-event messages for the fixture's connector: `publish()` sends one more (ids from `firstSeed` on, the event's
 * time now), `sent` lists every id published, `delivered(ids)` tells whether the EU Segment server accepted them all.
 */
export function oneEventFeed(f: Fixture, firstSeed: number) {
  const sent: string[] = [];
  let seed = firstSeed;
  const publish = async () => {
    const event = sampleEvent('users.messages.email.Open', { time: Math.floor(Date.now() / 1000) }, seed++);
    sent.push(event.id);
    await f.stack.connector(CONNECTOR).publish(eventsEnvelope([event]));
  };
  const delivered = (ids: string[]) => () => {
    const got = new Set(f.stack.servers.eu.accepted().map((a) => a.messageId));
    return ids.every((id) => got.has(id));
  };
  return { sent, publish, delivered };
}
