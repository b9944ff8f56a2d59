/**
 * The function's HTTP routes (runtime/runtime.ts createHandler) over a stand-in app: which request reaches which
 * handler. The real app behind them is exercised end to end in test/function (integration).
 */
import type { Request, Response } from '@google-cloud/functions-framework';
import { systemClock } from '../../../runtime/core/types';
import { createLogger } from '../../../runtime/log';
import { createHandler, type Runtime } from '../../../runtime/runtime';

function world(invokerToken?: string) {
  const calls: string[] = [];
  const runtime = {
    config: { connector: { name: 'email-eu' }, testClock: false, invokerToken },
    clock: systemClock,
    logger: createLogger({ connector: 'email-eu', sink: () => undefined }),
    app: {
      handleProbe: async () => (calls.push('probe'), { status: 200, body: { state: 'active' } }),
      handlePush: async () => (calls.push('push'), { status: 204, body: {} }),
    },
  } as unknown as Runtime;
  return { calls, handler: createHandler(runtime) };
}

async function request(
  handler: ReturnType<typeof createHandler>,
  method: string,
  path: string,
  extra: { headers?: Record<string, string>; query?: Record<string, string> } = {},
) {
  const answer: { status?: number; headers: Record<string, string>; body?: unknown } = { headers: {} };
  const res = {
    headersSent: false,
    status(code: number) {
      answer.status = code;
      return res;
    },
    set(name: string, value: string) {
      answer.headers[name.toLowerCase()] = value;
      return res;
    },
    json(body: unknown) {
      answer.body = body;
      return res;
    },
    end() {
      return res;
    },
  };
  const req = { method, path, body: {}, headers: extra.headers ?? {}, query: extra.query ?? {} };
  await handler(req as unknown as Request, res as unknown as Response);
  return answer;
}

describe('function routes', () => {
  it('with a local invoker token, only callers holding it reach the probe or a push (as the deployed one: issue 28)', async () => {
    const { calls, handler } = world('local-invoker-token-1234');
    expect(await request(handler, 'POST', '/')).toMatchObject({ status: 401 });
    expect(await request(handler, 'POST', '/probe', { headers: { authorization: 'Bearer wrong' } })).toMatchObject({
      status: 401,
    });
    expect(calls).toEqual([]);
    const bearer = { headers: { authorization: 'Bearer local-invoker-token-1234' } };
    expect(await request(handler, 'POST', '/probe', bearer)).toMatchObject({ status: 200 });
    expect(await request(handler, 'POST', '/', { query: { token: 'local-invoker-token-1234' } })).toMatchObject({
      status: 204,
    });
    expect(await request(handler, 'GET', '/healthz')).toMatchObject({ status: 200 });
    expect(calls).toEqual(['probe', 'push']);
  });

  it('POST /probe runs the probe', async () => {
    const { calls, handler } = world();
    expect(await request(handler, 'POST', '/probe')).toMatchObject({ status: 200, body: { state: 'active' } });
    expect(calls).toEqual(['probe']);
  });

  it('GET /probe is refused with 405 and Allow: POST, and runs nothing (the probe changes state)', async () => {
    const { calls, handler } = world();
    const answer = await request(handler, 'GET', '/probe');
    expect(answer).toMatchObject({ status: 405, headers: { allow: 'POST' } });
    expect(JSON.stringify(answer.body)).toMatch(/POST only/);
    expect(calls).toEqual([]);
  });

  it('POST / is a push; GET /healthz names the connector; anything else is 404', async () => {
    const { calls, handler } = world();
    expect(await request(handler, 'POST', '/')).toMatchObject({ status: 204 });
    expect(await request(handler, 'GET', '/healthz')).toMatchObject({
      status: 200,
      body: { ok: true, connector: 'email-eu' },
    });
    expect(await request(handler, 'GET', '/nowhere')).toMatchObject({ status: 404 });
    expect(calls).toEqual(['push']);
  });
});
