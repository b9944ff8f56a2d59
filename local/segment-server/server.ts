/**
 * The local Segment server: the handle, the routes, and the wiring of its parts (`context.ts`: state and counters;
 * `tracking.ts`: the Tracking API; `credentials.ts`: write keys, tokens and the token endpoint; `public-api.ts`;
 * `faults.ts`: fault injection; `workspace.ts`: the sources; `admin.ts`: the admin routes).
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { BATCH_PATH, TOKEN_PATH } from '../../runtime/adapters/segment/endpoints';
import type { SegmentRegion } from '../../shared/connector';
import { handleAdmin } from './admin';
import { createContext, resetContext, statsOf } from './context';
import { handleToken } from './credentials';
import { send } from './http-io';
import { handlePublicApi } from './public-api';
import { handleTracking, type TrackingPath } from './tracking';
import type { AcceptedEvent, FaultControls, SegmentServerOptions, SegmentServerStats, SourceControls } from './types';

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
  const host = options.host ?? '127.0.0.1';
  const publicApiTokens = new Set(options.publicApiTokens ?? []);
  const ctx = createContext(options);
  const { faults: injector, credentials } = ctx;
  const faults: FaultControls = {
    add: (rule) => injector.add(rule),
    remove: (id) => injector.remove(id),
    clear: () => injector.clear(),
    list: () => injector.list(),
    rejectMessageIds(ids) {
      for (const id of ids) injector.rejected.add(id);
    },
    revokeCredentials: (revocation) => credentials.revoke(revocation),
    restoreCredentials: () => credentials.restore(),
    expireTokens: () => credentials.expireTokens(),
  };
  const accepted = () => ctx.events.list();
  const stats = () => statsOf(ctx);
  const reset = () => resetContext(ctx);
  const sources = ctx.workspace.controls;

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://local');
    let work: Promise<void>;
    if (req.method === 'POST' && (url.pathname === BATCH_PATH || url.pathname === '/v1/track')) {
      work = handleTracking(ctx, req, res, url.pathname as TrackingPath);
    } else if (req.method === 'POST' && url.pathname === TOKEN_PATH) {
      work = handleToken(ctx, req, res);
    } else if (req.method === 'GET' && /^\/sources\/[^/]+$/.test(url.pathname)) {
      const sourceId = decodeURIComponent(url.pathname.slice('/sources/'.length));
      work = handlePublicApi(ctx, publicApiTokens, req, res, sourceId);
    } else if (url.pathname.startsWith('/__admin/')) {
      work = handleAdmin({ stats, accepted, reset, faults, sources }, req, res, url);
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
  const baseUrl = `http://${host}:${port}`;
  credentials.baseUrl = baseUrl;

  return {
    url: baseUrl,
    tokenUrl: baseUrl,
    port,
    region: ctx.region,
    accepted,
    stats,
    faults,
    sources,
    reset,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}
