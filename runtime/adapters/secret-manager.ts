/**
 * Secret Manager, as the runtime uses it: the calls made (declared once, a subset of `SecretManagerServiceClient`, so
 * that tests can inject a client: there is no emulator), the process's one lazily created client, a version's payload
 * as text, and what its errors mean for a credential.
 */
import { CredentialUnavailableError } from '../core/types';

/** A secret version as the client lists it (state as the enum's name or number). */
export interface SecretVersionInfo {
  readonly name?: string | null;
  readonly state?: string | number | null;
}

/** A version's payload as `accessSecretVersion` returns it. */
export interface SecretPayload {
  payload?: { data?: Uint8Array | string | null } | null;
}

/** The Secret Manager calls the project makes (the runtime reads; `currents receiver-token` adds and disables). */
export interface SecretManagerCalls {
  accessSecretVersion(request: { name: string }): Promise<readonly [SecretPayload, ...unknown[]]>;
  listSecretVersions(request: {
    parent: string;
    filter?: string;
  }): Promise<readonly [readonly SecretVersionInfo[], ...unknown[]]>;
  addSecretVersion(request: {
    parent: string;
    payload: { data: Buffer };
  }): Promise<readonly [SecretVersionInfo, ...unknown[]]>;
  disableSecretVersion(request: { name: string }): Promise<readonly [SecretVersionInfo, ...unknown[]]>;
  close?(): Promise<void>;
}

/** Reads one version (the credential's `versions/latest`). */
export type SecretVersionAccessor = Pick<SecretManagerCalls, 'accessSecretVersion'>;
/** Lists the versions and reads each (the door's receiver tokens). */
export type SecretVersionLister = Pick<SecretManagerCalls, 'accessSecretVersion' | 'listSecretVersions'>;

let sharedClient: Promise<unknown> | undefined;

/**
 * The process's one `SecretManagerServiceClient` (created on first use: the library loads lazily), typed as the subset
 * of its calls the caller uses.
 */
export function secretManagerClient<T extends Partial<SecretManagerCalls>>(): Promise<T> {
  sharedClient ??= import('@google-cloud/secret-manager').then((m) => new m.SecretManagerServiceClient());
  return sharedClient as Promise<T>;
}

/** The injected client, or the process's one. */
export function clientOr<T extends Partial<SecretManagerCalls>>(client: T | undefined): Promise<T> {
  return client ? Promise.resolve(client) : secretManagerClient<T>();
}

/** A version's payload as UTF-8 text ('' when it has none). */
export function payloadText(response: SecretPayload | undefined): string {
  const data = response?.payload?.data;
  return data == null ? '' : typeof data === 'string' ? data : Buffer.from(data).toString('utf8');
}

/** gRPC status codes (numeric, so that google-gax need not be loaded to compare them). */
const GRPC = { NOT_FOUND: 5, PERMISSION_DENIED: 7, FAILED_PRECONDITION: 9 } as const;

/** Maps a Secret Manager error to CredentialUnavailableError (missing / disabled / destroyed / no access) or a plain Error. */
export function mapSecretManagerError(err: unknown, secretName: string): Error {
  const code = (err as { code?: unknown } | null)?.code;
  const what = `Secret Manager secret ${secretName}`;
  switch (code) {
    case GRPC.NOT_FOUND:
      return new CredentialUnavailableError(
        `${what} or its latest version does not exist; add a version holding the credential (see README)`,
      );
    case GRPC.FAILED_PRECONDITION:
      return new CredentialUnavailableError(
        `${what}: the latest version is disabled or destroyed; enable it or add a new version`,
      );
    case GRPC.PERMISSION_DENIED:
      return new CredentialUnavailableError(
        `${what} cannot be read by the function's service account (permission denied); it needs roles/secretmanager.secretAccessor on the secret`,
      );
    default: {
      // Transient (UNAVAILABLE, DEADLINE_EXCEEDED, ...): not a credential failure; the caller retries.
      const e = new Error(
        `could not read ${what} (${code !== undefined ? `code ${String(code)}` : (err as Error)?.name || 'error'}); will retry`,
      );
      (e as Error & { code?: unknown }).code = code;
      return e;
    }
  }
}
