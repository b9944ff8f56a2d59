/**
 * `currents verify --env ENV [--connector NAME] [PATH]`: the preflight before `cdktf deploy` (cli/ops/verify.ts): per
 * connector, its credential secret, its Segment credential (the write key's source through the Public API, or an OAuth
 * token), and its workspace door's receiver token. Prints a table; exit 1 when any check fails (a secret with no version
 * yet is `pending`, not a failure: the connector deploys and parks). Never prints a secret.
 *
 * Against the environment's real project with Application Default Credentials. Local runs point it at the local Segment
 * server with CURRENTS_SEGMENT_PUBLIC_API_URL, CURRENTS_SEGMENT_BASE_URL and CURRENTS_SEGMENT_TOKEN_URL.
 */
import { ENV_VARS } from '../../shared/runtime-config';
import { parse } from '../../common/args';
import * as specs from '../specs';
import { table } from '../../common/table';
import { checkCredentials, resolveTargets } from '../ops/context';
import { verifyTargets, type VerifyOptions, type VerifySecretClient } from '../ops/verify';

export async function run(
  argv: string[],
  deps: { secrets?: VerifySecretClient; out?: (line: string) => void; env?: NodeJS.ProcessEnv } = {},
): Promise<number> {
  const { positionals, values } = parse(specs.verify, argv);
  const targets = resolveTargets(values, positionals[0]);
  const env = deps.env ?? process.env;
  const out = deps.out ?? ((l: string) => console.log(l));
  let secrets = deps.secrets;
  if (!secrets) {
    // Without credentials the client would fail in the background with a stack trace: fail first, in words.
    await checkCredentials(targets, { secretManager: true });
    const { SecretManagerServiceClient } = await import('@google-cloud/secret-manager');
    secrets = new SecretManagerServiceClient() as unknown as VerifySecretClient;
  }
  const options: VerifyOptions = {
    secrets,
    publicApiBaseUrl: env[ENV_VARS.publicApiBaseUrl] || undefined,
    segmentBaseUrl: env[ENV_VARS.segmentBaseUrl] || undefined,
    segmentTokenUrl: env[ENV_VARS.segmentTokenUrl] || undefined,
  };
  const rows = await verifyTargets(targets, options);
  out(
    table(
      ['connector', 'check', 'result', 'detail'],
      rows.map((r) => [r.connector, r.check, r.status, r.detail]),
    ),
  );
  const failed = rows.filter((r) => r.status === 'FAIL');
  const warned = rows.filter((r) => r.status === 'warn');
  const pending = [...new Set(rows.filter((r) => r.status === 'pending').map((r) => r.connector))];
  const env0 = targets[0]?.environment.name ?? values.env;
  const notes = [
    ...(warned.length ? [`${warned.length} warning(s)`] : []),
    ...(pending.length
      ? [`${pending.join(', ')} deploy(s) without a secret version yet and park until one is added`]
      : []),
  ];
  out(
    failed.length
      ? `\nFAILED: ${failed.length} check(s) failed in environment '${env0}'; fix them before deploying.`
      : `\nOK: environment '${env0}' is ready to deploy${notes.length ? ` (${notes.join('; ')})` : ''}.`,
  );
  return failed.length ? 1 : 0;
}
