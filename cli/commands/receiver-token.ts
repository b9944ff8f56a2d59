/**
 * `currents receiver-token new|disable-others`: the bearer tokens a Braze workspace's Current sends to the workspace's
 * door, kept as the versions of the door's token secret (every enabled version is accepted, so a token is rotated
 * without losing a request). The door is `--workspace`'s, or `--connector`'s workspace's, or the environment's only one.
 *
 * - `new` makes a strong token (32 random bytes, base64url), adds it as a new version, and prints it ONCE, with the
 *   door's URL and the steps to paste both into Braze, with the exact event boxes to tick. `--disable-others` also disables every other enabled version
 *   at once: for a leaked token, at the price of refusing a Braze Current that still sends an old one.
 * - `disable-others` finishes a rotation once Braze sends the new token: it keeps the newest enabled version (or
 *   `--keep N`) and disables the others.
 *
 * The token is printed on stdout once, in the `new` output only: never on stderr, in an error message or in any other
 * line. Secret Manager has no emulator, so this acts on the environment's real project (Application Default
 * Credentials); a local run (`npm start`) makes its own tokens.
 */
import { newReceiverToken } from '../../shared/receiver-auth';
import { REDACTED } from '../../runtime/core/types';
import { boxLines, doorLocation, doorUrl, doorUrlOutput, unselectedWarning } from '../../shared/door';
import { parse, UsageError } from '../../common/args';
import * as specs from '../specs';
import { checkCredentials, guarded, OpsError, usingEmulators } from '../ops/context';
import {
  addToken,
  createTokenSecretClient,
  disableOthers,
  type DoorTarget,
  doorTokenSecretPath,
  enabledVersions,
  resolveDoor,
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

/** What to do in Braze with a new token: the exact steps, the boxes to tick, and how to rotate. */
export function brazeSteps({ environment, door }: Pick<DoorTarget, 'environment' | 'door'>): string[] {
  const env = environment.name;
  const w = door.workspace;
  const names = door.connectors.map((c) => c.name).join(', ');
  const warning = unselectedWarning(door);
  return [
    `In Braze, workspace '${w}' (ONE Current for its ${door.connectors.length} connector(s): ${names}):`,
    '  1. Partner Integrations → Data Export → Create New Current → Custom Currents Export.',
    `  2. Name it (e.g. 'Currents to Segment: ${w}'), give a contact email (e.g. ${door.connectors[0]!.contactEmail}), and go on to Current Details.`,
    '  3. Endpoint URL: the URL above. Bearer token: the token above.',
    `  4. Tick exactly these ${door.boxes.length} event boxes, then Launch Current:`,
    ...boxLines(door).map((line) => `       ${line}`),
    ...(warning ? [`     Warning: ${warning}.`] : []),
    'To rotate the token of an existing Current instead: open it under Partner Integrations → Data Export, paste the new',
    `token in Current Details and save; once \`currents status --env ${env}\` shows 2xx answers at this door, run`,
    `\`currents receiver-token disable-others --env ${env} --workspace ${w}\` to retire the old token.`,
    `The URL is also the stack output \`${doorUrlOutput(w)}\` (\`cdktf output ${env}\`), known once deployed.`,
  ];
}

async function newToken(
  d: DoorTarget,
  client: TokenSecretClient,
  disable: boolean,
  print: (s: string) => void,
  random?: (n: number) => Buffer,
) {
  const { target: t, door } = d;
  const secret = doorTokenSecretPath(t.project, door.workspace);
  const what = `door token secret ${door.names.tokenSecret}`;
  const token = newReceiverToken(random);
  let version: string;
  try {
    version = await guarded(t, what, () => addToken(client, secret, token));
  } catch (err) {
    // Belt and braces: no error message may carry the token, whatever the client put in it.
    throw new OpsError((err as Error).message.split(token).join(REDACTED));
  }
  const url = doorUrl(d.environment, door.workspace, doorLocation(door, d.environment));
  // Printed before anything else can fail: a version whose token nobody saw would be a lock without a key.
  print(
    [
      `Braze workspace '${door.workspace}': new door token added as version ${versionNumber(version)} of ${door.names.tokenSecret} (project ${t.project}).`,
      'It is printed this once and kept only in Secret Manager: paste it into Braze now.',
      '',
      `  URL           ${url}`,
      `  bearer token  ${token}`,
      '',
      ...brazeSteps(d),
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
      ? `Disabled the other version(s) ${versionsText(disabled)}: once the door's short token cache expires, only the new token is accepted; a Current still sending an old one is refused (401) and Braze stops it until re-enabled.`
      : 'No other version was enabled: the new token is the only one.',
  );
}

async function retireOthers(
  d: DoorTarget,
  client: TokenSecretClient,
  keepArg: string | undefined,
  print: (s: string) => void,
) {
  const { target: t, door } = d;
  const secret = doorTokenSecretPath(t.project, door.workspace);
  const what = `door token secret ${door.names.tokenSecret}`;
  const enabled = await guarded(t, what, () => enabledVersions(client, secret));
  if (!enabled.length) {
    throw new OpsError(
      `Braze workspace '${door.workspace}': ${door.names.tokenSecret} has no enabled version; make a token with \`currents receiver-token new --env ${d.environment.name} --workspace ${door.workspace}\``,
    );
  }
  let keep = enabled[0]!;
  if (keepArg !== undefined) {
    const n = Number(keepArg);
    const found = enabled.find((v) => versionNumber(v) === n);
    if (!found) {
      throw new UsageError(
        `--keep ${keepArg}: not an enabled version of ${door.names.tokenSecret} (enabled: ${versionsText(enabled)})`,
      );
    }
    keep = found;
  }
  const disabled = await guarded(t, what, () => disableOthers(client, secret, keep));
  print(
    disabled.length
      ? `Braze workspace '${door.workspace}': kept version ${versionNumber(keep)} of ${door.names.tokenSecret}; disabled version(s) ${versionsText(disabled)}. The door stops accepting them once its short token cache expires.`
      : `Braze workspace '${door.workspace}': version ${versionNumber(keep)} is the only enabled version of ${door.names.tokenSecret}; nothing to disable.`,
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
  const d = resolveDoor(values, path);
  const t = d.target;
  let client = deps.secrets;
  if (!client) {
    if (usingEmulators()) {
      throw new OpsError(
        `Braze workspace '${d.door.workspace}': Secret Manager has no emulator, so door tokens live in project ${t.project} only: ` +
          'unset PUBSUB_EMULATOR_HOST and FIRESTORE_EMULATOR_HOST to act on it (a local run, `npm start`, makes its own tokens)',
      );
    }
    await checkCredentials([t]);
    client = await createTokenSecretClient();
  }
  const print = deps.print ?? ((s: string) => process.stdout.write(`${s}\n`));
  try {
    if (action === 'new') await newToken(d, client, Boolean(values.disableOthers), print, deps.random);
    else await retireOthers(d, client, values.keep, print);
    return 0;
  } finally {
    if (!deps.secrets) await client.close?.().catch(() => undefined);
  }
}
