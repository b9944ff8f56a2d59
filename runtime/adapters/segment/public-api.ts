/**
 * Segment's Public API, the one call the source check needs: `GET {host}/sources/{sourceId}` with the environment's
 * Public API token (`Authorization: Bearer …`), answered `{"data":{"source":{…, "enabled", "writeKeys"}}}`. The host is
 * the connector's region's (`https://api.segmentapis.com` for us, `https://eu1.api.segmentapis.com` for eu); a base URL
 * override exists for tests and local runs only (the local Segment server serves the same route).
 *
 * `createSourceCheck` wires it to the connector's write key and the pure judgement (runtime/core/credential-check.ts).
 */
import type { SegmentRegion } from '../../../shared/connector';
import {
  judgeSource,
  type CredentialCheck,
  type CredentialCheckResult,
  type SourceLookup,
} from '../../core/credential-check';
import { CredentialUnavailableError, type CredentialSource } from '../../core/types';

export const PUBLIC_API_HOSTS: Readonly<Record<SegmentRegion, string>> = {
  us: 'https://api.segmentapis.com',
  eu: 'https://eu1.api.segmentapis.com',
};

/** Where the Public API token comes from (a SecretSource fits). Errors never carry the token. */
export interface PublicApiTokenSource {
  read(): Promise<string>;
  invalidate(): void;
}

/**
 * Asks for one source. Never throws: 200 → found (with `enabled` and `writeKeys`), 404 → not found, 401/403 → the token
 * is refused, anything else (429, 5xx, network, timeout, an answer of another shape) → unavailable.
 */
export async function lookupSource(options: {
  region: SegmentRegion;
  sourceId: string;
  token: string;
  baseUrl?: string;
  timeoutMs: number;
}): Promise<SourceLookup> {
  const url = new URL(
    `/sources/${encodeURIComponent(options.sourceId)}`,
    options.baseUrl ?? PUBLIC_API_HOSTS[options.region],
  );
  let res: Response;
  let body: unknown;
  try {
    res = await fetch(url, {
      headers: { authorization: `Bearer ${options.token}`, accept: 'application/json' },
      signal: AbortSignal.timeout(Math.max(1, options.timeoutMs)),
    });
    body = await res.json().catch(() => undefined);
  } catch (err) {
    const e = err as { name?: string; cause?: { code?: string } };
    return {
      kind: 'unavailable',
      detail:
        e.name === 'TimeoutError'
          ? `timed out after ${options.timeoutMs} ms`
          : (e.cause?.code ?? e.name ?? 'network error'),
    };
  }
  if (res.status === 404) return { kind: 'not_found' };
  if (res.status === 401 || res.status === 403) return { kind: 'token_refused', status: res.status };
  if (res.status !== 200) return { kind: 'unavailable', detail: `answered ${res.status}` };
  const source = (body as { data?: { source?: { enabled?: unknown; writeKeys?: unknown } } } | undefined)?.data?.source;
  if (
    typeof source?.enabled !== 'boolean' ||
    !Array.isArray(source.writeKeys) ||
    !source.writeKeys.every((k) => typeof k === 'string')
  ) {
    return { kind: 'unavailable', detail: 'answered 200 without data.source.enabled and data.source.writeKeys' };
  }
  return { kind: 'found', enabled: source.enabled, writeKeys: source.writeKeys as string[] };
}

export interface SourceCheckOptions {
  readonly region: SegmentRegion;
  readonly sourceId: string;
  /** The connector's credential (its write key is compared, never sent or logged). */
  readonly credentials: CredentialSource;
  /** The environment's Public API token. */
  readonly token: PublicApiTokenSource;
  /** Tests and local runs only. */
  readonly baseUrl?: string;
  /** Longest wait for one answer (also bounded by the budget). Default 10,000 ms. */
  readonly requestTimeoutMs?: number;
}

/**
 * The source check of a write-key connector: reads the write key (a secret that cannot be had is a failure, as on the
 * delivery path) and the Public API token (one that cannot be had, or is refused, makes the check inconclusive and is
 * re-read next time), asks for the source, and judges the answer.
 */
export function createSourceCheck(options: SourceCheckOptions): CredentialCheck {
  return {
    async check({ budgetMs }): Promise<CredentialCheckResult> {
      let writeKey: string;
      try {
        const secret = await options.credentials.get();
        if (secret.kind !== 'writeKey') return { status: 'ok' }; // OAuth failures are seen by Segment itself
        writeKey = secret.writeKey;
      } catch (err) {
        if (err instanceof CredentialUnavailableError) return { status: 'failed', detail: err.message };
        return { status: 'inconclusive', detail: `the connector's secret could not be read (${(err as Error).name})` };
      }
      let token: string;
      try {
        token = (await options.token.read()).trim();
      } catch (err) {
        options.token.invalidate();
        const why =
          err instanceof CredentialUnavailableError ? err.message : `could not be read (${(err as Error).name})`;
        return { status: 'inconclusive', detail: `the Public API token: ${why}; the write key cannot be verified` };
      }
      const lookup = await lookupSource({
        region: options.region,
        sourceId: options.sourceId,
        token,
        baseUrl: options.baseUrl,
        timeoutMs: Math.min(options.requestTimeoutMs ?? 10_000, budgetMs),
      });
      if (lookup.kind === 'token_refused') options.token.invalidate();
      return judgeSource(lookup, { sourceId: options.sourceId, region: options.region, writeKey });
    },
  };
}
