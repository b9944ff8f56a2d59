/** The receiver wired with its real adapters (placeholder: the handler lands in the next commit). */
import type * as ff from '@google-cloud/functions-framework';
import type { RuntimeConfig } from '../../shared/runtime-config';

export interface ReceiverRuntime {
  readonly config: RuntimeConfig;
}

export function createReceiverRuntime(
  config: RuntimeConfig,
  _opts: { env?: Record<string, string | undefined> } = {},
): ReceiverRuntime {
  return { config };
}

export function createReceiverHandler(_runtime: ReceiverRuntime): (req: ff.Request, res: ff.Response) => Promise<void> {
  return async (_req, res) => {
    res.status(503).set('Retry-After', '30').json({ error: 'receiver not ready' });
  };
}
