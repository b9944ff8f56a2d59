/**
 * The connector runtime wired with its real adapters, and its HTTP routes. runtime/function.ts is the entry point that
 * serves it; tests and benchmarks use it in-process.
 *
 * Routes:
 *   POST /         a Pub/Sub push (the connector's push subscription, OIDC-authenticated by Cloud Run)
 *   POST /probe    the scheduled credential probe and drain (Cloud Scheduler, OIDC)
 *   GET  /healthz  liveness, with the connector's name and nothing else
 *   POST /__clock  local runs and tests only (CURRENTS_TEST_CLOCK=1): move the function's clock
 *
 * The Google clients are loaded on first use, so that the function's cold start stays short.
 */
import type * as ff from '@google-cloud/functions-framework';
import type { RuntimeConfig } from '../shared/runtime-config';
import { runtimeBudgets, type RuntimeBudgets } from '../shared/policy';
import { createApp, type ConnectorApp } from './app';
import { OffsetClock } from './core/clock';
import { bearerToken, tokenAccepted, tokenDigest } from '../shared/receiver-auth';
import { systemClock, type Clock } from './core/types';
import { PubSubDeadLetters } from './adapters/dead-letters';
import { FirestoreStateStore } from './adapters/firestore-state';
import { FirestoreTraces } from './adapters/firestore-trace';
import { credentialSourceFor, hashKeySourceFor, publicApiTokenSourceFor, secretSourceFor } from './adapters/secrets';
import { translatorSource } from './adapters/translator-source';
import { createSegmentClient, createSourceCheck } from './adapters/segment';
import { createLogger, describeError, type Logger } from './log';
import type { OwnedStateStore } from './ports';

export interface Runtime {
  readonly config: RuntimeConfig;
  readonly app: ConnectorApp;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly store: OwnedStateStore;
  /** The delivery and probe budgets, derived from the deployed timeout (config.timeoutSeconds). */
  readonly budgets: RuntimeBudgets;
  close(): Promise<void>;
}

/** Wires the real adapters for a configuration (also used by the in-process benchmark and tests). */
export function createRuntime(
  config: RuntimeConfig,
  opts: { clock?: Clock; logSink?: (line: string) => void; env?: Record<string, string | undefined> } = {},
): Runtime {
  const clock = opts.clock ?? (config.testClock ? new OffsetClock() : systemClock);
  const logger = createLogger({ connector: config.connector.name, sink: opts.logSink });
  const secrets = secretSourceFor(config, { clock, env: opts.env });
  const credentials = credentialSourceFor(config.connector.segment.credential, secrets, {
    onSecretValue: (v) => logger.registerSecret(v),
  });
  const segment = createSegmentClient({
    region: config.connector.segment.region,
    credentials,
    baseUrl: config.segmentBaseUrl,
    tokenUrl: config.segmentTokenUrl,
    clock,
  });
  const { region, sourceId, credential } = config.connector.segment;
  const credentialCheck =
    sourceId !== undefined && credential.kind === 'writeKey'
      ? createSourceCheck({
          region,
          sourceId,
          credentials,
          baseUrl: config.publicApiBaseUrl,
          token: publicApiTokenSourceFor(config, {
            clock,
            env: opts.env,
            onSecretValue: (v) => logger.registerSecret(v),
          }),
        })
      : undefined;
  const budgets = budgetsFor(config);
  const store = FirestoreStateStore.forConfig(config, {
    clock,
    // Firestore unreachable: deliveries go on on the last known `active` state for a bounded time, and say so.
    onStaleState: (use) =>
      logger.warning(
        'state_unavailable',
        `credential state unreadable (${use.detail}); delivering on the last known active state, read ${use.ageMs} ms ago`,
        { ageMs: use.ageMs, limitMs: use.limitMs, detail: use.detail },
      ),
    // …and when no known state may be used: the push is answered 503 (alerted: infra's state_unavailable metric).
    onUnreadable: (failure) =>
      logger.error('state_unavailable', `credential state unreadable (${failure.detail}); pushes are answered 503`, {
        ageMs: failure.ageMs,
        limitMs: failure.limitMs,
        detail: failure.detail,
      }),
  });
  const deadLetters = new PubSubDeadLetters({
    projectId: config.project,
    topic: config.names.deadLetterTopic,
    connector: config.connector.name,
  });
  const traces = new FirestoreTraces({ projectId: config.project, databaseId: config.names.firestoreDatabase });
  const app = createApp({
    translator: translatorSource(
      config.connector,
      () => hashKeySourceFor(config, { clock, env: opts.env, onSecretValue: (v) => logger.registerSecret(v) }),
      clock,
    ),
    segment,
    credentials,
    store,
    deadLetters,
    logger,
    clock,
    policy: budgets,
    traces,
    credentialCheck,
  });
  return {
    config,
    app,
    clock,
    logger,
    store,
    budgets,
    close: async () => {
      await Promise.allSettled([segment.close(), store.close(), deadLetters.close(), traces.close()]);
    },
  };
}

/** The budgets of the deployed timeout; local runs and tests may shorten the delivery budget (CURRENTS_DELIVERY_BUDGET_MS). */
export function budgetsFor(config: Pick<RuntimeConfig, 'timeoutSeconds' | 'deliveryBudgetMs'>): RuntimeBudgets {
  const budgets = runtimeBudgets(config.timeoutSeconds);
  const budgetMs = config.deliveryBudgetMs;
  return budgetMs === undefined
    ? budgets
    : { ...budgets, deliveryBudgetMs: budgetMs, probeBudgetMs: Math.max(budgetMs, 5000) };
}

type Req = ff.Request;
type Res = ff.Response;

/** The HTTP entry point, routing to the connector app. */
export function createHandler(runtime: Runtime): (req: Req, res: Res) => Promise<void> {
  const { app, config, clock } = runtime;
  const invoker = config.invokerToken === undefined ? undefined : [tokenDigest(config.invokerToken)];
  return async (req, res) => {
    try {
      const path = req.path.replace(/\/+$/, '') || '/';
      if (path === '/healthz' && req.method === 'GET') {
        res.status(200).json({ ok: true, connector: config.connector.name });
      } else if (invoker && !invokerAccepted(req, invoker)) {
        // Local runs: as Cloud Run refuses a push or a probe without the invoker's OIDC token.
        res.status(401).json({ error: 'unauthenticated: this function is invoked by its push subscription only' });
      } else if (path === '/probe') {
        // The probe changes state (transitions, drains, drops): POST only, as Cloud Scheduler and `currents probe` send.
        if (req.method !== 'POST') {
          res
            .status(405)
            .set('allow', 'POST')
            .json({ error: `${req.method} /probe: the probe accepts POST only` });
          return;
        }
        const r = await app.handleProbe();
        res.status(r.status).json(r.body);
      } else if (path === '/__clock' && config.testClock && clock instanceof OffsetClock) {
        const body = (req.body ?? {}) as { offsetMs?: unknown; advanceMs?: unknown };
        if (typeof body.offsetMs === 'number') clock.offsetMs = body.offsetMs;
        if (typeof body.advanceMs === 'number') clock.offsetMs += body.advanceMs;
        runtime.store.invalidateCache();
        res.status(200).json({ offsetMs: clock.offsetMs, now: new Date(clock.now()).toISOString() });
      } else if (path === '/' && req.method === 'POST') {
        const body: unknown =
          req.body && typeof req.body === 'object' && !Buffer.isBuffer(req.body) ? req.body : req.rawBody;
        const r = await app.handlePush(body ?? '');
        if (r.status === 204) res.status(204).end();
        else res.status(r.status).json(r.body);
      } else {
        res.status(404).json({ error: `no route ${req.method} ${path}` });
      }
    } catch (err) {
      runtime.logger.error('internal_error', `request failed: ${describeError(err)}`);
      if (!res.headersSent) res.status(500).json({ error: 'internal error' });
    }
  };
}

/** The local invoker token, from `Authorization: Bearer` or the push endpoint's `?token=` (compared in constant time). */
function invokerAccepted(req: Req, accepted: readonly Buffer[]): boolean {
  const query = typeof req.query?.token === 'string' ? req.query.token : undefined;
  return tokenAccepted(bearerToken(req.headers.authorization) ?? query, accepted);
}
