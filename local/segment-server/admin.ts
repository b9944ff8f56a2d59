/**
 * The local Segment server's admin routes (`/__admin/*`), the HTTP face of its handle (LocalSegmentServer) for a server
 * run in another process (`currents segment-server`, the benchmarks): stats, accepted events, reset, fault rules,
 * rejected ids, credential revocations, token expiry, and the sources' write keys.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readBody, send } from './http-io';
import type { LocalSegmentServer } from './server';
import type { CredentialRevocation, FaultRule } from './types';

export async function handleAdmin(
  server: Pick<LocalSegmentServer, 'stats' | 'accepted' | 'reset' | 'faults' | 'sources'>,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
): Promise<void> {
  const { stats, accepted, reset, faults, sources: sourceControls } = server;
  const text = ((await readBody(req)) ?? Buffer.alloc(0)).toString('utf8');
  let input: Record<string, unknown> = {};
  if (text) {
    try {
      input = JSON.parse(text) as Record<string, unknown>;
    } catch {
      return send(res, 400, { error: 'invalid JSON' });
    }
  }
  const route = `${req.method} ${url.pathname}`;
  switch (route) {
    case 'GET /__admin/stats':
      return send(res, 200, stats());
    case 'GET /__admin/events': {
      const all = accepted();
      const offset = Number(url.searchParams.get('offset') ?? 0);
      const limit = Number(url.searchParams.get('limit') ?? all.length);
      return send(res, 200, { total: all.length, events: all.slice(offset, offset + limit) });
    }
    case 'POST /__admin/reset':
      reset();
      return send(res, 200, { ok: true });
    case 'GET /__admin/faults':
      return send(res, 200, faults.list());
    case 'POST /__admin/faults':
      return send(res, 200, { id: faults.add(input as FaultRule) });
    case 'DELETE /__admin/faults':
      faults.clear();
      return send(res, 200, { ok: true });
    case 'POST /__admin/reject':
      faults.rejectMessageIds((input.messageIds as string[] | undefined) ?? []);
      return send(res, 200, { ok: true });
    case 'POST /__admin/credentials/revoke':
      faults.revokeCredentials(input as CredentialRevocation);
      return send(res, 200, { ok: true });
    case 'POST /__admin/credentials/restore':
      faults.restoreCredentials();
      return send(res, 200, { ok: true });
    case 'POST /__admin/tokens/expire':
      faults.expireTokens();
      return send(res, 200, { ok: true });
  }
  const sourceRoute = /^\/__admin\/sources\/([^/]+)\/(disable|enable|write-keys\/rotate|write-keys\/remove)$/.exec(
    url.pathname,
  );
  if (req.method === 'POST' && sourceRoute) {
    const id = decodeURIComponent(sourceRoute[1]!);
    if (!sourceControls.get(id)) return send(res, 404, { error: `no source '${id}'` });
    switch (sourceRoute[2]) {
      case 'disable':
      case 'enable':
        sourceControls.setEnabled(id, sourceRoute[2] === 'enable');
        return send(res, 200, { ok: true });
      case 'write-keys/rotate': {
        const writeKey = sourceControls.rotateWriteKey(id, {
          newKey: typeof input.newKey === 'string' ? input.newKey : undefined,
          keepOld: input.keepOld === true,
        });
        return send(res, 200, { writeKey });
      }
      default:
        if (typeof input.writeKey !== 'string') return send(res, 400, { error: 'writeKey must be a string' });
        sourceControls.removeWriteKey(id, input.writeKey);
        return send(res, 200, { ok: true });
    }
  }
  if (req.method === 'DELETE' && url.pathname.startsWith('/__admin/faults/')) {
    faults.remove(url.pathname.slice('/__admin/faults/'.length));
    return send(res, 200, { ok: true });
  }
  return send(res, 404, { error: `no admin route ${route}` });
}
