import { readFileSync } from 'node:fs';
import { startSegmentServer, type OAuthAppRegistration } from '../segment-server';
import { isRegion, regionChoice } from '../../shared/regions';
import { parse, UsageError } from '../../common/args';
import * as specs from '../../cli/specs';

export async function run(argv: string[]): Promise<number> {
  const { values } = parse(specs.segmentServer, argv);
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new UsageError(`--port must be 0..65535, got '${values.port}'`);
  if (!isRegion(values.region)) {
    throw new UsageError(`--region must be ${regionChoice(false)}, got '${values.region}'`);
  }
  const tokenTtlSeconds = Number(values.tokenTtl);
  if (!(tokenTtlSeconds > 0)) throw new UsageError(`--token-ttl must be a positive number of seconds`);
  const writeKeys = values.writeKey ?? [];
  const sources = (values.source ?? []).map((spec) => {
    const i = spec.indexOf(':');
    if (i <= 0 || i === spec.length - 1) throw new UsageError(`--source must be SOURCE_ID:WRITE_KEY`);
    return { id: spec.slice(0, i), writeKeys: [spec.slice(i + 1)] };
  });
  const publicApiTokens = values.publicApiToken ?? [];
  const oauthApps: OAuthAppRegistration[] = (values.oauthApp ?? []).map((spec) => {
    const [appId, keyId, ...file] = spec.split(':');
    if (!appId || !keyId || !file.length) throw new UsageError(`--oauth-app must be APP_ID:KEY_ID:PUBLIC_PEM_FILE`);
    return { appId, keyId, publicKeyPem: readFileSync(file.join(':'), 'utf8') };
  });
  const server = await startSegmentServer({
    oauthApps,
    port,
    region: values.region,
    writeKeys,
    sources,
    publicApiTokens,
    tokenTtlSeconds,
    recordCalls: !values.idsOnly,
  });
  console.log(`local Segment server (${server.region}) listening on ${server.url}`);
  console.log(
    `  Tracking API: POST ${server.url}/v1/batch  (${writeKeys.length} write key(s), ${oauthApps.length} OAuth app(s))`,
  );
  if (oauthApps.length) console.log(`  OAuth token server: POST ${server.tokenUrl}/token`);
  console.log(
    `  Public API: GET ${server.url}/sources/{id}  (${writeKeys.length + sources.length} source(s), ${publicApiTokens.length} token(s)); a write key no enabled source has is answered 200 and discarded, as Segment does`,
  );
  console.log(`  sources: POST ${server.url}/__admin/sources/{id}/disable|enable|write-keys/rotate|write-keys/remove`);
  console.log(`  accepted events: GET ${server.url}/__admin/events   counts: GET ${server.url}/__admin/stats`);
  console.log(
    `  faults: POST ${server.url}/__admin/faults {"status":503,"times":2}   clear: DELETE ${server.url}/__admin/faults`,
  );
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  const stats = server.stats();
  await server.close();
  console.log(
    `stopped: ${stats.requests} request(s), ${stats.acceptedUnique} event(s) accepted, ${stats.duplicates} duplicate(s)`,
  );
  return 0;
}
