/**
 * The connector's request handling, with every adapter injected: one Pub/Sub push (`handlePush`,
 * runtime/push-handler.ts) and the scheduled credential probe (`handleProbe`, runtime/probe-handler.ts), over one
 * context per instance (runtime/app-context.ts: the dependencies, and the credential steps both routes share).
 * runtime/runtime.ts wires the real adapters and serves the routes; tests and benchmarks wire the same adapters to the
 * emulators and the local Segment server.
 */
import { type AppDeps, createAppContext } from './app-context';
import { handleProbe } from './probe-handler';
import { handlePush } from './push-handler';

export type { Delivery, StateStore, TraceSink } from './ports';
export { type AppDeps, type HttpResult, START_CHECK_BUDGET_MS } from './app-context';
export type { PushCounts } from './push-handler';

export function createApp(deps: AppDeps) {
  const ctx = createAppContext(deps);
  return {
    handlePush: (body: unknown) => handlePush(ctx, body),
    handleProbe: () => handleProbe(ctx),
  };
}

export type ConnectorApp = ReturnType<typeof createApp>;
