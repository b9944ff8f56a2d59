/**
 * `currents receiver-token new|disable-others`: the bearer tokens Braze sends to a connector's receiver, kept as the
 * versions of its ingest-token secret (every enabled version is accepted, so a token is rotated without losing a
 * request).
 *
 * - `new` makes a strong token (32 random bytes, base64url), adds it as a new version, and prints it ONCE, with the
 *   receiver's URL and the steps to paste both into Braze. `--disable-others` also disables every other enabled version
 *   at once: for a leaked token, at the price of refusing a Braze Current that still sends an old one.
 * - `disable-others` finishes a rotation once Braze sends the new token: it keeps the newest enabled version (or
 *   `--keep N`) and disables the others.
 *
 * The token is printed on stdout once, in the `new` output only: never on stderr, in an error message or in any other
 * line. Secret Manager has no emulator, so this acts on the environment's real project (Application Default
 * Credentials); a local run (`npm start`) makes its own tokens.
 */
import { REDACTED } from '../../runtime/core/types';
import { selectedTypes } from '../../shared/connector';
import { receiverUrl, receiverUrlOutput } from '../../shared/names';
import { parse, UsageError } from '../../common/args';
import * as specs from '../specs';
import { checkCredentials, guarded, OpsError, type OpsTarget, resolveTargets, usingEmulators } from '../ops/context';
import {
  addToken,
  createTokenSecretClient,
  disableOthers,
  enabledVersions,
  ingestTokenSecretPath,
  newIngestToken,
  type TokenSecretClient,
  versionNumber,
} from '../ops/receiver';

export interface ReceiverTokenDeps {
  /** Secret Manager client (tests inject one: there is no emulator). Default: the real client, ADC. */
  readonly secrets?: TokenSecretClient;
  /** Where the output goes. Default: stdout. */
  readonly print?: (text: string) => void;
  /** Random bytes (tests). */
  readonly random?: (n: number) => Buffer;
}

const versionsText = (names: readonly string[]) => names.map((n) => String(versionNumber(n))).join(', ');

/** What to do in Braze with a new token: the exact steps, for a new Current and for a rotation. */
export function brazeSteps(t: OpsTarget): string[] {
  const types = selectedTypes(t.connector);
  const env = t.environment.name;
  const c = t.connector.name;
  return [
    `In Braze, workspace '${t.connector.workspace}':`,
    '  1. Partner Integrations → Data Export → Create New Current → Custom Currents Export.',
    `  2. Name it (e.g. '${t.connector.displayName}'), give a contact email (e.g. ${t.connector.contactEmail}), and go on to Current Details.`,
    '  3. Endpoint URL: the URL above. Bearer token: the token above.',
    `  4. Check the events this connector exports: ${t.connector.events.join(', ')} (${types.length} types; others are skipped), then Launch Current.`,
    'To rotate the token of an existing Current instead: open it under Partner Integrations → Data Export, paste the new',
    `token in Current Details and save; once \`currents status --env ${env} --connector ${c}\` shows 2xx answers, run`,
    `\`currents receiver-token disable-others --env ${env} --connector ${c}\` to retire the old token.`,
    `The URL is also the stack output \`${receiverUrlOutput(c)}\` (\`cdktf output ${env}\`), known once deployed.`,
  ];
}

async function newToken(
  t: OpsTarget,
  client: TokenSecretClient,
  disable: boolean,
  print: (s: string) => void,
  random?: (n: number) => Buffer,
) {
  const secret = ingestTokenSecretPath(t);
  const what = `ingest-token secret ${t.names.ingestTokenSecret}`;
  const token = newIngestToken(random);
  let version: string;
  try {
    version = await guarded(t, what, () => addToken(client, secret, token));
  } catch (err) {
    // Belt and braces: no error message may carry the token, whatever the client put in it.
    throw new OpsError((err as Error).message.split(token).join(REDACTED));
  }
  const url = receiverUrl(t.environment, t.connector.name, t.connector.location);
  // Printed before anything else can fail: a version whose token nobody saw would be a lock without a key.
  print(
    [
      `${t.connector.name}: new receiver token added as version ${versionNumber(version)} of ${t.names.ingestTokenSecret} (project ${t.project}).`,
      'It is printed this once and kept only in Secret Manager: paste it into Braze now.',
      '',
      `  URL           ${url}`,
      `  bearer token  ${token}`,
      '',
      ...brazeSteps(t),
      '',
    ].join('\n'),
  );
  if (!disable) {
    print('Older enabled versions keep working until `disable-others` retires them.');
    return;
  }
  const disabled = await guarded(t, what, () => disableOthers(client, secret, version));
  print(
    disabled.length
      ? `Disabled the other version(s) ${versionsText(disabled)}: once the receiver's short token cache expires, only the new token is accepted; a Current still sending an old one is refused (401) and Braze stops it until re-enabled.`
      : 'No other version was enabled: the new token is the only one.',
  );
}

async function retireOthers(
  t: OpsTarget,
  client: TokenSecretClient,
  keepArg: string | undefined,
  print: (s: string) => void,
) {
  const secret = ingestTokenSecretPath(t);
  const what = `ingest-token secret ${t.names.ingestTokenSecret}`;
  const enabled = await guarded(t, what, () => enabledVersions(client, secret));
  if (!enabled.length) {
    throw new OpsError(
      `connector '${t.connector.name}': ${t.names.ingestTokenSecret} has no enabled version; make a token with \`currents receiver-token new --env ${t.environment.name} --connector ${t.connector.name}\``,
    );
  }
  let keep = enabled[0]!;
  if (keepArg !== undefined) {
    const n = Number(keepArg);
    const found = enabled.find((v) => versionNumber(v) === n);
    if (!found) {
      throw new UsageError(
        `--keep ${keepArg}: not an enabled version of ${t.names.ingestTokenSecret} (enabled: ${versionsText(enabled)})`,
      );
    }
    keep = found;
  }
  const disabled = await guarded(t, what, () => disableOthers(client, secret, keep));
  print(
    disabled.length
      ? `${t.connector.name}: kept version ${versionNumber(keep)} of ${t.names.ingestTokenSecret}; disabled version(s) ${versionsText(disabled)}. The receiver stops accepting them once its short token cache expires.`
      : `${t.connector.name}: version ${versionNumber(keep)} is the only enabled version of ${t.names.ingestTokenSecret}; nothing to disable.`,
  );
}

export async function run(argv: string[], deps: ReceiverTokenDeps = {}): Promise<number> {
  const { values, positionals } = parse(specs.receiverToken, argv);
  const [action, path, ...extra] = positionals;
  if (action !== 'new' && action !== 'disable-others') {
    throw new UsageError(`say what to do: 'new' or 'disable-others' (got ${action ? `'${action}'` : 'nothing'})`);
  }
  if (extra.length) throw new UsageError(`unexpected argument(s) ${extra.join(' ')}`);
  if (action === 'new' && values.keep !== undefined) throw new UsageError('--keep goes with disable-others');
  if (action === 'disable-others' && values.disableOthers) {
    throw new UsageError('--disable-others goes with new (disable-others already does it)');
  }
  const [target] = resolveTargets(values, path, { requireConnector: true });
  const t = target!;
  let client = deps.secrets;
  if (!client) {
    if (usingEmulators()) {
      throw new OpsError(
        `connector '${t.connector.name}': Secret Manager has no emulator, so receiver tokens live in project ${t.project} only: ` +
          'unset PUBSUB_EMULATOR_HOST and FIRESTORE_EMULATOR_HOST to act on it (a local run, `npm start`, makes its own tokens)',
      );
    }
    await checkCredentials([t]);
    client = await createTokenSecretClient();
  }
  const print = deps.print ?? ((s: string) => process.stdout.write(`${s}\n`));
  try {
    if (action === 'new') await newToken(t, client, Boolean(values.disableOthers), print, deps.random);
    else await retireOthers(t, client, values.keep, print);
    return 0;
  } finally {
    if (!deps.secrets) await client.close?.().catch(() => undefined);
  }
}
