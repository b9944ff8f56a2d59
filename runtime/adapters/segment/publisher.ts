/**
 * The Segment client's publisher: one request of one batch to the Tracking API, with the connector's credential (a
 * write key, or an OAuth token from the TokenManager), and what the answer means (`Attempt`). It keeps no batch
 * accounting beyond the request and status counts; retries, splits and budgets are `UnitSender`'s (unit.ts).
 */
import { batchBody } from '../../core/batch';
import { CredentialUnavailableError, type Clock, type CredentialSource, type DeliveryItem } from '../../core/types';
import type { DeliveryReport } from '../../ports';
import { type HttpClient, parseRetryAfter, TransientError } from './http';
import { CredentialRefusedError, type TokenManager } from './oauth';

/** What one request's answer means for the events it carried. */
export type Attempt =
  | { kind: 'ok' }
  | { kind: 'status'; status: number; detail: string; retryAfterMs?: number }
  | { kind: 'network'; detail: string }
  | { kind: 'credential'; detail: string; generation: number }
  | { kind: 'transient'; detail: string; retryAfterMs?: number };

export interface PublisherOptions {
  http: HttpClient;
  batchUrl: URL;
  /** The connector's region, named in a credential refusal. */
  region: string;
  credentials: CredentialSource;
  tokens: TokenManager;
  clock: Clock;
}

export class Publisher {
  /** Bumped whenever the credential is re-read, so that a 401 on an older one just retries. */
  generation = 0;

  constructor(private readonly options: PublisherOptions) {}

  private async authorization(timeoutMs: number): Promise<string> {
    const secret = await this.options.credentials.get();
    if (secret.kind === 'writeKey') return 'Basic ' + Buffer.from(secret.writeKey + ':').toString('base64');
    return 'Bearer ' + (await this.options.tokens.token(secret, timeoutMs));
  }

  /** Sends the items as one batch (counted in the report's `requests` and `statuses`) and judges the answer. */
  async attempt(
    items: readonly DeliveryItem[],
    timeoutMs: number,
    report: Pick<DeliveryReport<unknown>, 'requests' | 'statuses'>,
  ): Promise<Attempt> {
    const { http, batchUrl, region, clock } = this.options;
    const gen = this.generation;
    let auth: string;
    try {
      auth = await this.authorization(timeoutMs);
    } catch (err) {
      if (err instanceof CredentialUnavailableError || err instanceof CredentialRefusedError) {
        return { kind: 'credential', detail: err.message, generation: gen };
      }
      if (err instanceof TransientError)
        return { kind: 'transient', detail: err.message, retryAfterMs: err.retryAfterMs };
      // The source failed in some other way (e.g. Secret Manager unreachable): passing. Its message is not repeated.
      return { kind: 'transient', detail: `credential source failed (${(err as Error).name})` };
    }
    const body = batchBody(items, new Date(clock.now()).toISOString());
    report.requests++;
    try {
      const res = await http.post({
        url: batchUrl,
        headers: { 'content-type': 'application/json', authorization: auth },
        body,
        timeoutMs,
        what: '',
      });
      const status = res.status;
      report.statuses[status] = (report.statuses[status] ?? 0) + 1;
      if (status >= 200 && status < 300) return { kind: 'ok' };
      if (status === 401 || status === 403) {
        return { kind: 'credential', detail: `Segment answered ${status} (${region})`, generation: gen };
      }
      return {
        kind: 'status',
        status,
        detail: `Segment answered ${status}: ${res.text.slice(0, 200)}`,
        retryAfterMs: parseRetryAfter(res.headers['retry-after'], clock.now()),
      };
    } catch (err) {
      report.statuses.network = (report.statuses.network ?? 0) + 1;
      const detail =
        err instanceof TransientError ? err.message : ((err as { code?: string }).code ?? (err as Error).name);
      return { kind: 'network', detail: `request failed: ${detail}` };
    }
  }

  /** Re-reads the credential on the next request (a new generation: requests made with the old one just retry). */
  refresh(): void {
    this.generation++;
    this.invalidate();
  }

  /** Drops the cached token and the credential source's cached secret. */
  invalidate(): void {
    this.options.tokens.invalidate();
    this.options.credentials.invalidate();
  }
}
