/**
 * `currents verify`'s checks, per connector, before a deploy (by a person with ADC, or the deploy workflow):
 *  - `credential secret`: the connector's secret exists and its latest version is enabled and holds a credential of the
 *    declared kind (what the function reads);
 *  - `segment`: a write key belongs to an enabled source in the connector's region (the Public API source check, with
 *    the environment's Public API token), or the OAuth app gets a token for its key and Segment accepts it; a write key
 *    without `segment.sourceId` cannot be checked (a warning: Segment answers 200 to any write key);
 *  - `receiver token`: once the token secret of the connector's workspace door exists, its latest version is enabled.
 *  - `hash key` (`fields.hashAlgorithm: 'hmac-sha256'` only): once its hash-key secret exists, its latest version is
 *    enabled and long enough.
 * A secret that does not exist at all (the credential secret of a new connector, the Public API token secret of a new
 * environment) is created, without a version, by the deploy: that check is skipped, saying so, so that the first deploy
 * can run. A secret that exists without any version yet is `pending`: the connector is deployed and parks what arrives
 * (alerting its contact) until a version is added, so the deploy goes on. verify fails only for what breaks a running
 * connector: a credential that is there but wrong, or a latest version disabled or destroyed (a rotation gone wrong).
 * Every detail names what is wrong and never a secret value. Secret Manager is reached through an injected client (the
 * real one in the command; tests pass a fake, as there is no emulator).
 */
import { RECEIVER_TOKEN } from '../../shared/receiver-auth';
import {
  credentialSourceFor,
  mapSecretManagerError,
  parseSegmentSecret,
  SecretManagerSource,
  type SecretVersionAccessor,
} from '../../runtime/adapters/secrets';
import { createSegmentClient, createSourceCheck } from '../../runtime/adapters/segment';
import { MIN_HASH_KEY_LENGTH, NO_SOURCE_CHECK_WARNING } from '../../shared/connector';
import { doorNames } from '../../shared/door';
import { publicApiTokenSecret } from '../../shared/names';
import { createFieldHasher } from '../../runtime/core/field-hash';
import type { OpsTarget } from './context';

/** The Secret Manager calls verify makes (a subset of `SecretManagerServiceClient`). */
export interface VerifySecretClient extends SecretVersionAccessor {
  getSecret(request: { name: string }): Promise<unknown>;
}

export type VerifyStatus = 'ok' | 'FAIL' | 'warn' | 'skip' | 'pending';

export interface VerifyRow {
  readonly connector: string;
  readonly check: 'credential secret' | 'segment' | typeof RECEIVER_TOKEN | 'hash key';
  readonly status: VerifyStatus;
  readonly detail: string;
}

export interface VerifyOptions {
  readonly secrets: VerifySecretClient;
  /** Local runs and tests only: the Public API, Tracking API and token server base URLs (the local Segment server). */
  readonly publicApiBaseUrl?: string;
  readonly segmentBaseUrl?: string;
  readonly segmentTokenUrl?: string;
  /** Longest wait for Segment. Default 10,000 ms. */
  readonly timeoutMs?: number;
}

const GRPC_NOT_FOUND = 5;

/** The checks of one connector, in order; a credential secret that cannot be read skips the Segment check. */
export async function verifyConnector(target: OpsTarget, options: VerifyOptions): Promise<VerifyRow[]> {
  const { connector, project, names, environment } = target;
  const row = (check: VerifyRow['check'], status: VerifyStatus, detail: string): VerifyRow => ({
    connector: connector.name,
    check,
    status,
    detail,
  });
  const budgetMs = options.timeoutMs ?? 10_000;
  const { region, credential, sourceId } = connector.segment;
  const secretName = `projects/${project}/secrets/${names.secret}`;
  const source = new SecretManagerSource({ secretName, client: options.secrets, cacheMs: 60_000 });
  const rows: VerifyRow[] = [];

  const exists = (name: string) => secretExists(options.secrets, name);
  const versionless = (name: string) => secretVersionless(options.secrets, name);
  const created =
    'does not exist yet: the deploy creates it (without a version); then add a version (README, "Deploying") and run verify again';
  const parks = `the connector parks what arrives (and alerts ${connector.contactEmail}) until one is added`;

  let readable = false;
  if (!(await exists(secretName))) {
    rows.push(row('credential secret', 'skip', `${names.secret} ${created}`));
  } else if (await versionless(secretName)) {
    rows.push(
      row('credential secret', 'pending', `${names.secret} has no version yet: ${parks} (README, "Deploying")`),
    );
  } else {
    try {
      const parsed = parseSegmentSecret(await source.read(), credential, source.label);
      readable = true;
      rows.push(
        row('credential secret', 'ok', `${names.secret}: latest version enabled, holds ${kindLabel(parsed.kind)}`),
      );
    } catch (err) {
      rows.push(row('credential secret', 'FAIL', (err as Error).message));
    }
  }

  const tokenName = `projects/${project}/secrets/${publicApiTokenSecret(environment.name)}`;
  if (!readable) {
    rows.push(row('segment', 'skip', 'not checked: the credential secret cannot be read'));
  } else if (credential.kind === 'writeKey' && sourceId !== undefined && !(await exists(tokenName))) {
    rows.push(row('segment', 'skip', `not checked: ${publicApiTokenSecret(environment.name)} ${created}`));
  } else if (credential.kind === 'writeKey' && sourceId !== undefined && (await versionless(tokenName))) {
    rows.push(
      row(
        'segment',
        'pending',
        `not checked: ${publicApiTokenSecret(environment.name)} has no version yet: the source check stays ` +
          'inconclusive (events are delivered; a revoked write key stays invisible) until one is added',
      ),
    );
  } else if (credential.kind === 'writeKey' && sourceId === undefined) {
    rows.push(row('segment', 'warn', `not checked: ${NO_SOURCE_CHECK_WARNING}`));
  } else if (credential.kind === 'writeKey') {
    const check = createSourceCheck({
      region,
      sourceId: sourceId!,
      credentials: credentialSourceFor(credential, source),
      token: new SecretManagerSource({ secretName: tokenName, client: options.secrets }),
      baseUrl: options.publicApiBaseUrl,
      requestTimeoutMs: budgetMs,
    });
    const r = await check.check({ budgetMs });
    rows.push(
      r.status === 'ok'
        ? row('segment', 'ok', `source ${sourceId} is enabled in ${region} and has the write key in the secret`)
        : row('segment', 'FAIL', r.status === 'inconclusive' ? `cannot verify: ${r.detail}` : r.detail),
    );
  } else {
    const client = createSegmentClient({
      region,
      credentials: credentialSourceFor(credential, source),
      baseUrl: options.segmentBaseUrl,
      tokenUrl: options.segmentTokenUrl,
      requestTimeoutMs: budgetMs,
    });
    try {
      const r = await client.verifyCredential({ budgetMs });
      rows.push(
        r.ok
          ? row('segment', 'ok', `OAuth app ${credential.appId} (key ${credential.keyId}) granted a token in ${region}`)
          : row('segment', 'FAIL', r.inconclusive ? `cannot verify: ${r.detail}` : r.detail),
      );
    } finally {
      await client.close();
    }
  }

  rows.push(row(RECEIVER_TOKEN, ...(await receiverTokenCheck(target, options.secrets))));
  if (connector.fields.hashAlgorithm === 'hmac-sha256') rows.push(row('hash key', ...(await hashKeyCheck())));
  return rows;

  /** The hash key of hmac-sha256: its secret readable and the key long enough (never the key itself). */
  async function hashKeyCheck(): Promise<[VerifyStatus, string]> {
    const name = `projects/${project}/secrets/${names.hashKeySecret}`;
    if (!(await exists(name))) return ['skip', `${names.hashKeySecret} ${created}`];
    try {
      createFieldHasher(
        'hmac-sha256',
        await new SecretManagerSource({ secretName: name, client: options.secrets }).read(),
      );
      return [
        'ok',
        `${names.hashKeySecret}: latest version enabled, a key of at least ${MIN_HASH_KEY_LENGTH} characters`,
      ];
    } catch (err) {
      return ['FAIL', (err as Error).message];
    }
  }
}

/** Whether a secret exists (getSecret); NOT_FOUND → false, other errors say what is wrong. */
async function secretExists(secrets: VerifySecretClient, name: string): Promise<boolean> {
  try {
    await secrets.getSecret({ name });
    return true;
  } catch (err) {
    if ((err as { code?: unknown }).code === GRPC_NOT_FOUND) return false;
    throw mapSecretManagerError(err, name);
  }
}

/** Whether a secret that exists has no version at all yet (accessing `latest` answers NOT_FOUND). */
async function secretVersionless(secrets: VerifySecretClient, name: string): Promise<boolean> {
  try {
    await secrets.accessSecretVersion({ name: `${name}/versions/latest` });
    return false;
  } catch (err) {
    return (err as { code?: unknown }).code === GRPC_NOT_FOUND;
  }
}

/**
 * The token secret of the door of the connector's Braze workspace: not deployed (skip), no token yet (pending), or its
 * latest version enabled.
 */
async function receiverTokenCheck(target: OpsTarget, secrets: VerifySecretClient): Promise<[VerifyStatus, string]> {
  const { project, environment, connector } = target;
  const tokenSecret = doorNames(connector.workspace).tokenSecret;
  const secretName = `projects/${project}/secrets/${tokenSecret}`;
  if (!(await secretExists(secrets, secretName))) {
    return ['skip', `${tokenSecret} does not exist (no door deployed)`];
  }
  if (await secretVersionless(secrets, secretName)) {
    return [
      'pending',
      `${tokenSecret} has no version yet: the door of workspace '${connector.workspace}' answers 503 (Braze retries) until ` +
        `\`currents receiver-token new --env ${environment.name} --workspace ${connector.workspace}\` makes one`,
    ];
  }
  try {
    await new SecretManagerSource({ secretName, client: secrets }).read();
    return ['ok', `${tokenSecret}: latest version enabled`];
  } catch (err) {
    return ['FAIL', (err as Error).message];
  }
}

function kindLabel(kind: 'writeKey' | 'oauth'): string {
  return kind === 'writeKey' ? 'a write key' : 'an OAuth private key';
}

/** Every target's checks, one connector after another. */
export async function verifyTargets(targets: readonly OpsTarget[], options: VerifyOptions): Promise<VerifyRow[]> {
  const rows: VerifyRow[] = [];
  for (const t of targets) rows.push(...(await verifyConnector(t, options)));
  return rows;
}
