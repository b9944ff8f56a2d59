/** The local Segment server's Public API subset: `GET /sources/{id}`. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { bump } from './counters';
import type { ServerContext } from './context';
import { answerFault } from './faults';
import { send } from './http-io';

/** The Public API's error body (`{"errors":[{type, message}]}`). */
const apiError = (type: string, message: string) => ({ errors: [{ type, message }] });

export async function handlePublicApi(
  ctx: ServerContext,
  publicApiTokens: ReadonlySet<string>,
  req: IncomingMessage,
  res: ServerResponse,
  sourceId: string,
): Promise<void> {
  req.resume();
  const answer = (status: number, payload: unknown) => {
    bump(ctx.counters.publicApiRequestsByStatus, status);
    send(res, status, payload);
  };
  const fault = await ctx.faults.decide('publicApi');
  const errorBody = (status: number) => apiError('injected', `injected fault ${status}`);
  if (answerFault(res, fault, ctx.counters.publicApiRequestsByStatus, errorBody)) return;
  const [scheme, token = ''] = (req.headers.authorization ?? '').split(' ', 2);
  if (scheme !== 'Bearer' || !publicApiTokens.has(token)) {
    return answer(401, apiError('unauthorized', 'the Public API token is missing or not valid'));
  }
  const source = ctx.workspace.find(sourceId);
  if (!source) return answer(404, apiError('not-found', `source ${sourceId} not found in this workspace`));
  return answer(200, {
    data: {
      source: {
        id: source.id,
        slug: source.id,
        name: source.id,
        workspaceId: `local-${ctx.region}`,
        enabled: source.enabled,
        writeKeys: [...source.writeKeys],
        metadata: { id: 'http-api', slug: 'http-api', name: 'HTTP API', categories: ['Server'] },
        settings: {},
        labels: [],
      },
    },
  });
}
