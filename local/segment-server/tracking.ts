/** The local Segment server's Tracking API: `POST /v1/batch` and `POST /v1/track`, with Segment's limits. */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { SEGMENT_LIMITS } from '../../runtime/core/batch';
import { BATCH_PATH } from '../../runtime/adapters/segment/endpoints';
import { bump } from './counters';
import type { ServerContext } from './context';
import { answerFault } from './faults';
import { destroy, MAX_READ_BYTES, readBody, send } from './http-io';
import type { Sender } from './workspace';

export type TrackingPath = '/v1/batch' | '/v1/track';

/** The request's calls, or the reason it is answered 400 (nothing of it accepted). */
function parseCalls(ctx: ServerContext, body: Buffer, path: TrackingPath): unknown[] | string {
  const limit = path === BATCH_PATH ? SEGMENT_LIMITS.maxRequestBytes : SEGMENT_LIMITS.maxCallBytes;
  if (body.length > limit) return `request is ${body.length} bytes, over the ${limit}-byte limit`;
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    return 'invalid JSON';
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return 'body must be a JSON object';
  let calls: unknown[];
  if (path === BATCH_PATH) {
    const batch = (parsed as { batch?: unknown }).batch;
    if (!Array.isArray(batch)) return 'batch must be an array';
    if (batch.length > SEGMENT_LIMITS.maxBatchEvents) {
      return `batch has ${batch.length} events, over the ${SEGMENT_LIMITS.maxBatchEvents} limit`;
    }
    calls = batch;
  } else {
    calls = [{ type: 'track', ...(parsed as Record<string, unknown>) }];
  }
  for (let i = 0; i < calls.length; i++) {
    const call = calls[i];
    if (typeof call !== 'object' || call === null || Array.isArray(call)) return `batch[${i}] is not an object`;
    if (path === BATCH_PATH) {
      const size = Buffer.byteLength(JSON.stringify(call), 'utf8');
      if (size > SEGMENT_LIMITS.maxCallBytes) {
        return `batch[${i}] is ${size} bytes, over the ${SEGMENT_LIMITS.maxCallBytes}-byte limit`;
      }
    }
    const id = (call as { messageId?: unknown }).messageId;
    if (typeof id === 'string' && ctx.faults.rejected.has(id)) return `batch[${i}] rejected (injected)`;
  }
  return calls;
}

/** Records the calls of an accepted request: invalid ones dropped, repeats counted, the rest added once. */
function acceptCalls(
  ctx: ServerContext,
  calls: unknown[],
  sender: Sender & { discard?: undefined },
  path: TrackingPath,
) {
  const { counters } = ctx;
  const sourceLabel = sender.kind === 'writeKey' ? `writeKey:${sender.index}` : `oauth:${sender.appId}`;
  const receivedAt = ctx.now();
  for (const raw of calls) {
    const call = raw as Record<string, unknown>;
    counters.eventsReceived++;
    const hasId = typeof call.userId === 'string' || typeof call.anonymousId === 'string';
    const type = call.type ?? 'track';
    if (!hasId || (type === 'track' && typeof call.event !== 'string')) {
      counters.droppedInvalid++;
      continue;
    }
    const messageId = typeof call.messageId === 'string' ? call.messageId : `local-${randomUUID()}`;
    const added = ctx.events.add(`${sourceLabel}\u0000${messageId}`, () => ({
      messageId,
      source: sourceLabel,
      path,
      receivedAt,
      receipts: 1,
      ...(ctx.recordCalls ? { call } : {}),
    }));
    if (!added) counters.duplicates++;
  }
}

export async function handleTracking(
  ctx: ServerContext,
  req: IncomingMessage,
  res: ServerResponse,
  path: TrackingPath,
): Promise<void> {
  ctx.inFlight++;
  ctx.counters.maxInFlight = Math.max(ctx.counters.maxInFlight, ctx.inFlight);
  res.once('close', () => ctx.inFlight--);
  const body = await readBody(req);
  ctx.counters.requests++;
  ctx.counters.bytesReceived += body?.length ?? MAX_READ_BYTES;
  const answer = (status: number, payload: unknown) => {
    bump(ctx.counters.requestsByStatus, status);
    send(res, status, payload);
  };
  const fault = await ctx.faults.decide('tracking');
  const faultNow = fault?.destroy === 'after' ? undefined : fault;
  const errorBody = (status: number) => ({ error: `injected fault ${status}` });
  if (answerFault(res, faultNow, ctx.counters.requestsByStatus, errorBody)) return;
  let sender: Sender;
  try {
    sender = ctx.credentials.authenticate(req, ctx.workspace);
  } catch (err) {
    return answer(401, { error: (err as Error).message });
  }
  if (!body) return answer(413, { error: 'request entity too large' });
  const calls = parseCalls(ctx, body, path);
  if (typeof calls === 'string') return answer(400, { error: calls });
  if (sender.discard) {
    // What Segment does with a write key it does not take: 200, and the events are gone.
    ctx.counters.discarded[sender.discard] = (ctx.counters.discarded[sender.discard] ?? 0) + calls.length;
    return answer(200, { success: true });
  }
  acceptCalls(ctx, calls, sender, path);
  if (fault?.destroy === 'after') {
    bump(ctx.counters.requestsByStatus, 'closed');
    return destroy(res);
  }
  return answer(200, { success: true });
}
