import { prng } from '../samples';
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { decodeProtectedHeader, importSPKI, jwtVerify, type KeyLike } from 'jose';
import { SEGMENT_LIMITS } from '../../runtime/core/batch';
import {
  BATCH_PATH,
  CLIENT_ASSERTION_TYPE,
  OAUTH_SCOPE,
  SEGMENT_ENDPOINTS,
  TOKEN_PATH,
} from '../../runtime/adapters/segment/endpoints';
import type { SegmentRegion } from '../../shared/connector';
import type {
  AcceptedEvent,
  CredentialRevocation,
  DiscardReason,
  FaultControls,
  FaultRule,
  SegmentServerOptions,
  SegmentServerStats,
  SourceControls,
} from './types';
import { setTimeout as sleep } from 'node:timers/promises';

/** The handle of a running local Segment server. See {@link startSegmentServer}. */
export interface LocalSegmentServer {
  /** Base URL of the Tracking API (`POST {url}/v1/batch`), e.g. `http://127.0.0.1:40123`. Pass as the client's `baseUrl`. */
  readonly url: string;
  /** Base URL of the OAuth token server (`POST {tokenUrl}/token`); the same server. Pass as the client's `tokenUrl`. */
  readonly tokenUrl: string;
  readonly port: number;
  readonly region: SegmentRegion;
  /** Accepted events, one per distinct (source, messageId), in order of first receipt. */
  accepted(): AcceptedEvent[];
  /** Exact counters. */
  stats(): SegmentServerStats;
  /** Fault injection. */
  readonly faults: FaultControls;
  /** The workspace's sources: disable one, rotate or remove its write keys. */
  readonly sources: SourceControls;
  /** Forgets events, counters, fault rules, rejected ids, revocations and tokens; sources return to how they started. */
  reset(): void;
  /** Stops listening and closes every connection. */
  close(): Promise<void>;
}

const MAX_READ_BYTES = 8 * 1024 * 1024;

function bump(map: Record<string, number>, key: string | number): void {
  map[String(key)] = (map[String(key)] ?? 0) + 1;
}

interface Rule extends FaultRule {
  id: string;
  fired: number;
}

interface Revocation extends Required<Pick<CredentialRevocation, 'at'>> {
  writeKey?: string;
  appId?: string;
}

/** A source of the local workspace; `index` labels its events (`writeKey:<index>`). */
interface SourceRecord {
  readonly id: string;
  readonly index: number;
  enabled: boolean;
  writeKeys: string[];
}

type Source =
  | { kind: 'writeKey'; index: number; discard?: undefined }
  | { kind: 'writeKey'; discard: DiscardReason }
  | { kind: 'oauth'; appId: string; discard?: undefined };

/** The Public API's error body (`{"errors":[{type, message}]}`). */
const apiError = (type: string, message: string) => ({ errors: [{ type, message }] });

class AuthError extends Error {}

/**
 * Starts the project's local Segment server: a real HTTP server (node:http) that speaks Segment's Tracking API closely
 * enough to prove what a client did, with exact counts and fault injection.
 *
 * Tracking API (what Segment does, as far as it is documented):
 * - `POST /v1/batch` (`{"batch":[call,...],"sentAt":...}`) and `POST /v1/track` (one call).
 * - Auth: `Authorization: Basic base64(writeKey + ":")`, or `Authorization: Bearer <token>` with a token this server
 *   issued and that has not expired (server clock; otherwise 401, as Segment refuses bad OAuth tokens). A write key
 *   is NOT checked the way a token is: as Segment does, a well-formed batch sent with a key that no source of this
 *   region has (unknown, rotated or removed, revoked, or a key of the other region), or with a key of a disabled
 *   source, is answered 200 `{"success":true}` and its events are discarded (`stats().discarded`, by reason), never
 *   accepted. No Authorization header, or another scheme, gets 401.
 * - 400 for a body that is not JSON, not an object, a `batch` that is not an array of objects, a request over 500 KiB
 *   (512,000 bytes; /v1/track: over 32 KiB), more than 2,500 events, or any call over 32 KiB (its compact JSON), and
 *   for any request carrying a messageId given to `faults.rejectMessageIds`. A 400 accepts nothing of the request.
 * - 200 `{"success":true}` otherwise. Calls without userId/anonymousId, or tracks without `event`, are answered 200 and
 *   dropped, as Segment does (counted in `droppedInvalid`). Calls without a messageId get one.
 * - Deduplication on (source, messageId): a repeat counts in `duplicates` and the event's `receipts`, and is not added.
 *
 * OAuth token server: `POST /token`, form-encoded `grant_type=client_credentials`,
 * `client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer`, `client_assertion=<JWT>`,
 * `scope=tracking_api:write`. The JWT must be RS256, its `kid` a registered key id, signed by that key, `sub` the app
 * id, `aud` this server's `tokenUrl` or this region's real token server, `iss` the same or the app id, with `exp`
 * (in the future, at most 5 minutes ahead) and a `jti` not used before. Answers
 * `{"access_token","token_type":"Bearer","expires_in","scope"}`; 400 for a malformed request, 401 (`invalid_client`)
 * for an assertion that does not verify or a revoked app. Tokens are opaque random strings.
 *
 * Public API (a subset): `GET /sources/{id}` with `Authorization: Bearer <a publicApiTokens entry>` →
 * `{"data":{"source":{id, slug, name, workspaceId, enabled, writeKeys, metadata, settings, labels}}}`; 404 for a source
 * this region's workspace does not have (a source of the other region included); 401 for another token; faults with
 * target `publicApi` apply.
 *
 * Inspection (HTTP; no auth, loopback only): `GET /__admin/stats`, `GET /__admin/events?offset=&limit=` →
 * `{total, events}`, `POST /__admin/reset`.
 * Faults (HTTP): `POST /__admin/faults` with a {@link FaultRule} → `{id}`, `GET /__admin/faults`, `DELETE /__admin/faults`
 * (all) or `DELETE /__admin/faults/<id>`, `POST /__admin/reject` `{"messageIds":[...]}`, `POST /__admin/credentials/revoke`
 * with a {@link CredentialRevocation}, `POST /__admin/credentials/restore`, `POST /__admin/tokens/expire`.
 * Sources (HTTP): `POST /__admin/sources/<id>/disable`, `.../enable`, `.../write-keys/rotate` `{newKey?, keepOld?}` →
 * `{writeKey}`, `.../write-keys/remove` `{writeKey}`; in process: `server.sources.*`.
 * The same controls in process: `server.faults.*`. Admin requests are not counted in the stats.
 *
 * @example
 * const server = await startSegmentServer({ region: 'eu', writeKeys: ['wk'] });
 * server.faults.add({ status: 503, times: 2 });               // next two requests get 503
 * server.faults.add({ status: 429, retryAfterSeconds: 1, probability: 0.1 });
 * // ... send ...
 * expect(server.stats().acceptedUnique).toBe(1000);
 * await server.close();
 */
export async function startSegmentServer(options: SegmentServerOptions = {}): Promise<LocalSegmentServer> {
  const region: SegmentRegion = options.region ?? 'us';
  const host = options.host ?? '127.0.0.1';
  const now = options.now ?? Date.now;
  const recordCalls = options.recordCalls ?? true;
  const tokenTtlSeconds = options.tokenTtlSeconds ?? 3600;
  const initialSources = () => [
    ...(options.writeKeys ?? []).map((key, index) => ({
      id: `source-${index}`,
      index,
      enabled: true,
      writeKeys: [key],
    })),
    ...(options.sources ?? []).map((s, i) => ({
      id: s.id,
      index: (options.writeKeys ?? []).length + i,
      enabled: s.enabled ?? true,
      writeKeys: [...s.writeKeys],
    })),
  ];
  const publicApiTokens = new Set(options.publicApiTokens ?? []);
  const apps = new Map<string, { appId: string; key: Promise<KeyLike> }>();
  for (const app of options.oauthApps ?? []) {
    const key = importSPKI(app.publicKeyPem, 'RS256');
    key.catch(() => undefined); // reported when used
    apps.set(app.keyId, { appId: app.appId, key });
  }
  let random = prng(options.seed ?? 1);

  // State (all of it cleared by reset()).
  let events = new Map<string, { event: AcceptedEvent; receipts: number }>();
  let order: string[] = [];
  let rules: Rule[] = [];
  let ruleSeq = 0;
  let rejected = new Set<string>();
  let revocations: Revocation[] = [];
  let tokens = new Map<string, { appId: string; expiresAt: number }>();
  let usedJti = new Set<string>();
  let counters = freshCounters();
  let sources: SourceRecord[] = initialSources();
  /** Every write key a source of this server ever had: a key no longer among them was rotated or removed. */
  let retiredKeys = new Set<string>();

  function freshCounters() {
    return {
      requests: 0,
      requestsByStatus: {} as Record<string, number>,
      bytesReceived: 0,
      eventsReceived: 0,
      duplicates: 0,
      droppedInvalid: 0,
      discarded: {} as Record<string, number>,
      publicApiRequestsByStatus: {} as Record<string, number>,
      tokenRequestsByStatus: {} as Record<string, number>,
      tokensIssued: 0,
      faultsInjected: 0,
      maxInFlight: 0,
    };
  }

  const isRevoked = (match: { writeKey?: string; appId?: string }) =>
    revocations.some(
      (r) =>
        now() >= r.at &&
        ((r.writeKey === undefined && r.appId === undefined) ||
          (r.writeKey !== undefined && r.writeKey === match.writeKey) ||
          (r.appId !== undefined && r.appId === match.appId)),
    );

  let baseUrl = '';
  const audiences = () => [baseUrl, SEGMENT_ENDPOINTS[region].tokenServer];

  function authenticate(req: IncomingMessage): Source {
    const header = req.headers.authorization ?? '';
    const [scheme, value = ''] = header.split(' ', 2);
    if (scheme === 'Basic') {
      const decoded = Buffer.from(value, 'base64').toString('utf8');
      const sep = decoded.indexOf(':');
      const key = sep < 0 ? decoded : decoded.slice(0, sep);
      const source = sources.find((s) => s.writeKeys.includes(key));
      if (!source)
        return { kind: 'writeKey', discard: retiredKeys.has(key) ? 'revoked_write_key' : 'unknown_write_key' };
      if (isRevoked({ writeKey: key })) return { kind: 'writeKey', discard: 'revoked_write_key' };
      if (!source.enabled) return { kind: 'writeKey', discard: 'source_disabled' };
      return { kind: 'writeKey', index: source.index };
    }
    if (scheme === 'Bearer') {
      const token = tokens.get(value);
      if (!token) throw new AuthError('unknown access token');
      if (now() >= token.expiresAt) throw new AuthError('access token expired');
      if (isRevoked({ appId: token.appId })) throw new AuthError('OAuth app revoked');
      return { kind: 'oauth', appId: token.appId };
    }
    throw new AuthError('missing or unsupported Authorization header');
  }

  function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    const text = JSON.stringify(body);
    res.writeHead(status, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(text),
      ...headers,
    });
    res.end(text);
  }

  /** Returns the fault decision for this request (after applying latency). */
  async function applyFaults(
    target: 'tracking' | 'token' | 'publicApi',
  ): Promise<{ status?: number; retryAfter?: number; destroy?: 'before' | 'after' } | undefined> {
    let latency = 0;
    let decision: { status?: number; retryAfter?: number; destroy?: 'before' | 'after' } | undefined;
    let fired = false;
    for (const rule of rules) {
      const ruleTarget = rule.target ?? 'tracking';
      if (ruleTarget !== 'all' && ruleTarget !== target) continue;
      if (rule.times !== undefined && rule.fired >= rule.times) continue;
      const decides = rule.destroyConnection || rule.destroyAfterAccept || rule.status !== undefined;
      if (decision && decides) continue; // the answer is already decided: this rule neither fires nor counts
      if (random() >= (rule.probability ?? 1)) continue;
      rule.fired++;
      fired = true;
      latency += rule.latencyMs ?? 0;
      if (decision) continue;
      if (rule.destroyConnection) decision = { destroy: 'before' };
      else if (rule.destroyAfterAccept) decision = { destroy: 'after' };
      else if (rule.status !== undefined) {
        const list = typeof rule.status === 'number' ? [rule.status] : rule.status;
        decision = { status: list[Math.floor(random() * list.length)]!, retryAfter: rule.retryAfterSeconds };
      }
    }
    if (fired) counters.faultsInjected++;
    if (latency > 0) await sleep(latency);
    return decision;
  }

  function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      req.on('data', (c: Buffer) => {
        size += c.length;
        if (size <= MAX_READ_BYTES) chunks.push(c);
      });
      req.on('end', () => resolve(size > MAX_READ_BYTES ? undefined : Buffer.concat(chunks)));
      req.on('error', reject);
    });
  }

  function destroy(res: ServerResponse): void {
    res.socket?.destroy();
  }

  let inFlight = 0;
  async function handleTracking(req: IncomingMessage, res: ServerResponse, path: '/v1/batch' | '/v1/track') {
    inFlight++;
    counters.maxInFlight = Math.max(counters.maxInFlight, inFlight);
    res.once('close', () => inFlight--);
    const body = await readBody(req);
    counters.requests++;
    counters.bytesReceived += body?.length ?? MAX_READ_BYTES;
    const answer = (status: number, payload: unknown, headers?: Record<string, string>) => {
      bump(counters.requestsByStatus, status);
      send(res, status, payload, headers);
    };
    const fault = await applyFaults('tracking');
    if (fault?.destroy === 'before') {
      bump(counters.requestsByStatus, 'closed');
      return destroy(res);
    }
    if (fault?.status !== undefined) {
      const headers: Record<string, string> = {};
      if (fault.retryAfter !== undefined) headers['retry-after'] = String(fault.retryAfter);
      return answer(fault.status, { error: `injected fault ${fault.status}` }, headers);
    }
    let source: Source;
    try {
      source = authenticate(req);
    } catch (err) {
      return answer(401, { error: (err as Error).message });
    }
    if (!body) return answer(413, { error: 'request entity too large' });
    const limit = path === BATCH_PATH ? SEGMENT_LIMITS.maxRequestBytes : SEGMENT_LIMITS.maxCallBytes;
    if (body.length > limit)
      return answer(400, { error: `request is ${body.length} bytes, over the ${limit}-byte limit` });
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.toString('utf8'));
    } catch {
      return answer(400, { error: 'invalid JSON' });
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      return answer(400, { error: 'body must be a JSON object' });
    }
    let calls: unknown[];
    if (path === BATCH_PATH) {
      const batch = (parsed as { batch?: unknown }).batch;
      if (!Array.isArray(batch)) return answer(400, { error: 'batch must be an array' });
      if (batch.length > SEGMENT_LIMITS.maxBatchEvents) {
        return answer(400, {
          error: `batch has ${batch.length} events, over the ${SEGMENT_LIMITS.maxBatchEvents} limit`,
        });
      }
      calls = batch;
    } else {
      calls = [{ type: 'track', ...(parsed as Record<string, unknown>) }];
    }
    for (let i = 0; i < calls.length; i++) {
      const call = calls[i];
      if (typeof call !== 'object' || call === null || Array.isArray(call)) {
        return answer(400, { error: `batch[${i}] is not an object` });
      }
      if (path === BATCH_PATH) {
        const size = Buffer.byteLength(JSON.stringify(call), 'utf8');
        if (size > SEGMENT_LIMITS.maxCallBytes) {
          return answer(400, {
            error: `batch[${i}] is ${size} bytes, over the ${SEGMENT_LIMITS.maxCallBytes}-byte limit`,
          });
        }
      }
      const id = (call as { messageId?: unknown }).messageId;
      if (typeof id === 'string' && rejected.has(id)) return answer(400, { error: `batch[${i}] rejected (injected)` });
    }
    if (source.discard) {
      // What Segment does with a write key it does not take: 200, and the events are gone.
      counters.discarded[source.discard] = (counters.discarded[source.discard] ?? 0) + calls.length;
      return answer(200, { success: true });
    }
    const sourceLabel = source.kind === 'writeKey' ? `writeKey:${source.index}` : `oauth:${source.appId}`;
    const receivedAt = now();
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
      const key = `${sourceLabel}\u0000${messageId}`;
      const seen = events.get(key);
      if (seen) {
        seen.receipts++;
        counters.duplicates++;
        continue;
      }
      events.set(key, {
        event: { messageId, source: sourceLabel, path, receivedAt, receipts: 1, ...(recordCalls ? { call } : {}) },
        receipts: 1,
      });
      order.push(key);
    }
    if (fault?.destroy === 'after') {
      bump(counters.requestsByStatus, 'closed');
      return destroy(res);
    }
    return answer(200, { success: true });
  }

  async function handlePublicApi(req: IncomingMessage, res: ServerResponse, sourceId: string) {
    req.resume();
    const answer = (status: number, payload: unknown, headers?: Record<string, string>) => {
      bump(counters.publicApiRequestsByStatus, status);
      send(res, status, payload, headers);
    };
    const fault = await applyFaults('publicApi');
    if (fault?.destroy) {
      bump(counters.publicApiRequestsByStatus, 'closed');
      return destroy(res);
    }
    if (fault?.status !== undefined) {
      const headers: Record<string, string> = {};
      if (fault.retryAfter !== undefined) headers['retry-after'] = String(fault.retryAfter);
      return answer(fault.status, apiError('injected', `injected fault ${fault.status}`), headers);
    }
    const [scheme, token = ''] = (req.headers.authorization ?? '').split(' ', 2);
    if (scheme !== 'Bearer' || !publicApiTokens.has(token)) {
      return answer(401, apiError('unauthorized', 'the Public API token is missing or not valid'));
    }
    const source = sources.find((s) => s.id === sourceId);
    if (!source) return answer(404, apiError('not-found', `source ${sourceId} not found in this workspace`));
    return answer(200, {
      data: {
        source: {
          id: source.id,
          slug: source.id,
          name: source.id,
          workspaceId: `local-${region}`,
          enabled: source.enabled,
          writeKeys: [...source.writeKeys],
          metadata: { id: 'http-api', slug: 'http-api', name: 'HTTP API', categories: ['Server'] },
          settings: {},
          labels: [],
        },
      },
    });
  }

  const sourceById = (id: string) => {
    const found = sources.find((s) => s.id === id);
    if (!found) throw new Error(`no source '${id}' in the local ${region} workspace`);
    return found;
  };
  const sourceControls: SourceControls = {
    get(id) {
      const s = sources.find((x) => x.id === id);
      return s && { id: s.id, enabled: s.enabled, writeKeys: [...s.writeKeys] };
    },
    setEnabled(id, enabled) {
      sourceById(id).enabled = enabled;
    },
    rotateWriteKey(id, opts = {}) {
      const source = sourceById(id);
      const key = opts.newKey ?? `wk_rotated_${randomBytes(12).toString('hex')}`;
      if (!opts.keepOld) for (const old of source.writeKeys) retiredKeys.add(old);
      source.writeKeys = opts.keepOld ? [...source.writeKeys, key] : [key];
      retiredKeys.delete(key);
      return key;
    },
    removeWriteKey(id, writeKey) {
      const source = sourceById(id);
      source.writeKeys = source.writeKeys.filter((k) => k !== writeKey);
      retiredKeys.add(writeKey);
    },
  };

  async function handleToken(req: IncomingMessage, res: ServerResponse) {
    const body = (await readBody(req)) ?? Buffer.alloc(0);
    const answer = (status: number, payload: unknown, headers?: Record<string, string>) => {
      bump(counters.tokenRequestsByStatus, status);
      send(res, status, payload, headers);
    };
    const fault = await applyFaults('token');
    if (fault?.destroy) {
      bump(counters.tokenRequestsByStatus, 'closed');
      return destroy(res);
    }
    if (fault?.status !== undefined) {
      const headers: Record<string, string> = {};
      if (fault.retryAfter !== undefined) headers['retry-after'] = String(fault.retryAfter);
      return answer(fault.status, { error: 'temporarily_unavailable' }, headers);
    }
    const form = new URLSearchParams(body.toString('utf8'));
    if (form.get('grant_type') !== 'client_credentials') return answer(400, { error: 'unsupported_grant_type' });
    if (form.get('client_assertion_type') !== CLIENT_ASSERTION_TYPE) return answer(400, { error: 'invalid_request' });
    if (form.get('scope') !== OAUTH_SCOPE) return answer(400, { error: 'invalid_scope' });
    const assertion = form.get('client_assertion');
    if (!assertion) return answer(400, { error: 'invalid_request' });
    const refuse = (why: string) => answer(401, { error: 'invalid_client', error_description: why });
    let kid: string | undefined;
    try {
      const header = decodeProtectedHeader(assertion);
      if (header.alg !== 'RS256') return refuse('alg must be RS256');
      kid = header.kid;
    } catch {
      return answer(400, { error: 'invalid_request', error_description: 'client_assertion is not a JWT' });
    }
    const app = kid === undefined ? undefined : apps.get(kid);
    if (!app) return refuse('unknown kid');
    let payload: { iss?: string; jti?: string; exp?: number };
    try {
      ({ payload } = await jwtVerify(assertion, await app.key, {
        algorithms: ['RS256'],
        audience: audiences(),
        subject: app.appId,
        requiredClaims: ['exp', 'jti', 'iss'],
        currentDate: new Date(now()),
        clockTolerance: 5,
      }));
    } catch (err) {
      return refuse(`assertion does not verify: ${(err as Error).message}`);
    }
    if (payload.iss !== app.appId && !audiences().includes(payload.iss ?? '')) return refuse('unexpected iss');
    if (payload.exp! * 1000 > now() + 5 * 60_000) return refuse('exp too far in the future');
    if (usedJti.has(payload.jti!)) return refuse('jti already used');
    usedJti.add(payload.jti!);
    if (isRevoked({ appId: app.appId })) return refuse('OAuth app revoked');
    const token = randomBytes(24).toString('base64url');
    tokens.set(token, { appId: app.appId, expiresAt: now() + tokenTtlSeconds * 1000 });
    counters.tokensIssued++;
    return answer(200, { access_token: token, token_type: 'Bearer', expires_in: tokenTtlSeconds, scope: OAUTH_SCOPE });
  }

  const faults: FaultControls = {
    add(rule) {
      const id = `f${++ruleSeq}`;
      rules.push({ ...rule, id, fired: 0 });
      return id;
    },
    remove(id) {
      rules = rules.filter((r) => r.id !== id);
    },
    clear() {
      rules = [];
    },
    list() {
      return rules.map((r) => ({ ...r }));
    },
    rejectMessageIds(ids) {
      for (const id of ids) rejected.add(id);
    },
    revokeCredentials(revocation = {}) {
      revocations.push({ at: revocation.at ?? now(), writeKey: revocation.writeKey, appId: revocation.appId });
    },
    restoreCredentials() {
      revocations = [];
    },
    expireTokens() {
      tokens = new Map();
    },
  };

  const accepted = () => order.map((k) => ({ ...events.get(k)!.event, receipts: events.get(k)!.receipts }));
  const stats = (): SegmentServerStats => ({
    region,
    ...counters,
    requestsByStatus: { ...counters.requestsByStatus },
    discarded: { ...counters.discarded },
    publicApiRequestsByStatus: { ...counters.publicApiRequestsByStatus },
    tokenRequestsByStatus: { ...counters.tokenRequestsByStatus },
    acceptedUnique: order.length,
  });
  const reset = () => {
    events = new Map();
    order = [];
    rules = [];
    rejected = new Set();
    revocations = [];
    tokens = new Map();
    usedJti = new Set();
    counters = freshCounters();
    sources = initialSources();
    retiredKeys = new Set();
    random = prng(options.seed ?? 1);
  };

  async function handleAdmin(req: IncomingMessage, res: ServerResponse, url: URL) {
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

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://local');
    let work: Promise<void>;
    if (req.method === 'POST' && (url.pathname === BATCH_PATH || url.pathname === '/v1/track')) {
      work = handleTracking(req, res, url.pathname as '/v1/batch' | '/v1/track');
    } else if (req.method === 'POST' && url.pathname === TOKEN_PATH) {
      work = handleToken(req, res);
    } else if (req.method === 'GET' && /^\/sources\/[^/]+$/.test(url.pathname)) {
      work = handlePublicApi(req, res, decodeURIComponent(url.pathname.slice('/sources/'.length)));
    } else if (url.pathname.startsWith('/__admin/')) {
      work = handleAdmin(req, res, url);
    } else {
      req.resume();
      send(res, 404, { error: `no route ${req.method} ${url.pathname}` });
      return;
    }
    work.catch((err: Error) => {
      if (!res.headersSent) send(res, 500, { error: `local segment server: ${err.message}` });
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  baseUrl = `http://${host}:${port}`;

  return {
    url: baseUrl,
    tokenUrl: baseUrl,
    port,
    region,
    accepted,
    stats,
    faults,
    sources: sourceControls,
    reset,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}
