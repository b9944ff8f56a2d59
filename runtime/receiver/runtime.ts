/**
 * A workspace's door wired with its real adapters (Secret Manager tokens, a Pub/Sub publisher per connector topic,
 * Cloud Logging JSON lines), and the way it is served.
 *
 * Served under functions-framework, as Cloud Functions does, but the receiver reads each request's body itself:
 * functions-framework's body parsers would buffer and inflate up to 1 GB before any code of ours runs (a compressed
 * bomb takes the instance's memory), and answer 400 to a body that is not JSON before it is authenticated (Braze would
 * split the batch and drop events). So `serveBeforeFramework` hands the HTTP server that functions-framework creates
 * our request listener instead of its Express app. Should a future functions-framework create its server some other
 * way, the registered function still answers from the body the framework parsed (`req.rawBody`), with the same rules.
 */
import type * as ff from '@google-cloud/functions-framework';
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
// The module object itself (not an ES namespace copy), so that functions-framework sees the replaced createServer.
// eslint-disable-next-line @typescript-eslint/no-require-imports
import http = require('node:http');
import { receiverBudgets, type ReceiverBudgets } from '../../shared/policy';
import type { DoorConfig } from '../../shared/door-config';
import { ENV_VARS } from '../../shared/runtime-config';
import { systemClock, type Clock } from '../core/types';
import { createLogger, type Logger } from '../log';
import { decodeBody } from './body';
import { DEFAULT_RETRY_AFTER_SECONDS } from './core';
import { webAssemblyScanUnavailable } from './envelope-scan-wasm';
import { createReceiver, owesContinue, type ReceiverHandler } from './handler';
import { type DoorPublisher, PubSubIngestPublisher, TopicsPublisher } from '../adapters/ingest-publisher';
import { tokenSourceFor, type ReceiverTokenSource } from './tokens';

export interface ReceiverRuntime {
  readonly config: DoorConfig;
  readonly handle: ReceiverHandler;
  readonly logger: Logger;
  readonly tokens: ReceiverTokenSource;
  readonly publisher: DoorPublisher;
  /** The publish timeout, derived from the door's deployed timeout (config.timeoutSeconds) unless overridden. */
  readonly budgets: ReceiverBudgets;
  /** From now on, new requests are answered 503 (Braze re-sends them to another instance). */
  beginShutdown(): void;
  close(): Promise<void>;
}

function positiveInt(env: Record<string, string | undefined>, name: string, fallback: number): number {
  const text = env[name];
  if (text === undefined || text === '') return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${name} must be a positive whole number (got '${text}')`);
  return n;
}

export function createReceiverRuntime(
  config: DoorConfig,
  opts: {
    env?: Record<string, string | undefined>;
    clock?: Clock;
    logSink?: (line: string) => void;
    tokens?: ReceiverTokenSource;
    publisher?: DoorPublisher;
    maxBodyBytes?: number;
  } = {},
): ReceiverRuntime {
  const env = opts.env ?? {};
  const clock = opts.clock ?? systemClock;
  const { door } = config;
  const logger = createLogger({
    connector: door.names.function,
    sink: opts.logSink,
    base: { workspace: door.workspace },
  });
  const tokens = opts.tokens ?? tokenSourceFor(config, env, { clock });
  // Derived from the receiver's deployed timeout (CURRENTS_TIMEOUT_SECONDS); local runs and tests may override it.
  const derived = receiverBudgets(config.timeoutSeconds);
  const budgets = {
    ...derived,
    publishTimeoutMs: positiveInt(env, ENV_VARS.receiverPublishTimeoutMs, derived.publishTimeoutMs),
  };
  const publisher =
    opts.publisher ??
    new TopicsPublisher(
      config.topics,
      (topic) => new PubSubIngestPublisher({ projectId: config.project, topic, timeoutMs: budgets.publishTimeoutMs }),
    );
  const noWebAssembly = webAssemblyScanUnavailable();
  if (noWebAssembly !== undefined) {
    logger.warning('internal_error', `receiver: routing with the JavaScript scan (${noWebAssembly})`, {
      reason: 'scan_in_javascript',
    });
  }
  let shuttingDown = false;
  const handle = createReceiver({
    door,
    tokens,
    publisher,
    logger,
    clock,
    maxBodyBytes: opts.maxBodyBytes,
    retryAfterSeconds: positiveInt(env, ENV_VARS.receiverRetryAfterSeconds, DEFAULT_RETRY_AFTER_SECONDS),
    shuttingDown: () => shuttingDown,
  });
  return {
    config,
    handle,
    logger,
    tokens,
    publisher,
    budgets,
    beginShutdown: () => {
      shuttingDown = true;
    },
    close: () => publisher.close(),
  };
}

/** The handler for functions-framework's parsed request (the fallback; see the module comment). */
export function frameworkHandler(runtime: ReceiverRuntime): (req: ff.Request, res: ff.Response) => Promise<void> {
  // The framework has already read and decompressed the body; only the limit is left to apply.
  return (req, res) =>
    runtime.handle(req, res, (r, limit) => decodeBody((r as ff.Request).rawBody ?? Buffer.alloc(0), undefined, limit));
}

let installed = false;
const KEEP_ALIVE_TIMEOUT_MS = 620_000;

/**
 * How long a client may take to send a request. Braze sends at most a few hundred KB per request from its data centres:
 * it needs well under a second. A client that takes longer than `headersMs` for its headers, or `requestMs` for the
 * whole request (headers and body), is answered 408 by Node and cut, so that a slow sender never holds one of the
 * instance's concurrent slots for minutes (Node's own default is 300 s). Checked every `checkEveryMs`.
 */
export const RECEIVER_SERVER_TIMEOUTS = { headersMs: 10_000, requestMs: 30_000, checkEveryMs: 1_000 } as const;

/** The receiver's server options (timeouts) merged into `base`. */
export function receiverServerOptions(
  base: http.ServerOptions = {},
  timeouts: { headersMs: number; requestMs: number; checkEveryMs: number } = RECEIVER_SERVER_TIMEOUTS,
): http.ServerOptions {
  return {
    ...base,
    headersTimeout: timeouts.headersMs,
    requestTimeout: timeouts.requestMs,
    connectionsCheckingInterval: timeouts.checkEveryMs,
    // Idle keep-alive connections are kept longer than any client's (or front end's) own idle timeout, so that the
    // server never closes a connection just as a client sends its next request on it (a reset Braze would re-send).
    keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
  };
}

/**
 * Serves `listener` on `server` also for requests sent with `Expect: 100-continue`: without this Node answers
 * `100 Continue` to any of them, and the client sends its body before it is authenticated. The handler sends it once
 * the token is accepted; a refused request is answered from its headers alone.
 */
export function answerContinueAfterAuth(
  server: http.Server,
  listener: (req: IncomingMessage, res: ServerResponse) => void,
): void {
  server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => {
    owesContinue(req);
    listener(req, res);
  });
}

/**
 * Makes the next `http.createServer()` (functions-framework's) serve `listener` instead of the listener it is given.
 * Called once, when the receiver's module is loaded, before functions-framework creates its server.
 */
export function serveBeforeFramework(listener: (req: IncomingMessage, res: ServerResponse) => void): void {
  if (installed) return;
  installed = true;
  const original = http.createServer;
  const patched = ((...args: unknown[]) => {
    (http as { createServer: unknown }).createServer = original;
    const options = args.length > 1 && typeof args[0] === 'object' ? (args[0] as http.ServerOptions) : {};
    const server = original(receiverServerOptions(options), listener as RequestListener);
    answerContinueAfterAuth(server, listener);
    return server;
  }) as typeof http.createServer;
  (http as { createServer: unknown }).createServer = patched;
}
