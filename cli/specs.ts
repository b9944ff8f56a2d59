/**
 * The surface of `currents`: every command's name, description, arguments, options and examples. Light on purpose
 * (it imports only the argument layer): `currents --help`, `currents <command> --help` and every usage error are
 * answered from here without loading a command's body. cli/main.ts loads cli/commands/<name>.ts only to run it; the
 * body parses its arguments with the same spec (`parse(specs.status, argv)`), so a command called in-process behaves
 * as on the command line.
 */
import type { CommandSpec, OptionSpec } from '../common/args';
import { DEFAULT_REGION, REGIONS } from '../shared/regions';

/** What every operating command takes: which environment, which connector, which definitions. */
export interface TargetValues {
  env?: string;
  connector?: string;
  definitions?: string;
}

export const TARGET_OPTIONS: readonly OptionSpec[] = [
  { flags: '--env <ENV>', description: 'the environment whose connectors to act on (required)' },
  { flags: '--connector <NAME>', description: 'one connector of the environment (default: all of them)' },
  {
    flags: '--definitions <PATH>',
    description: 'the connector definitions module (default: PATH, else connectors/index.ts)',
  },
];
/** The same, for the commands that act on one connector only (send-test, receiver-token, import). */
const ONE_CONNECTOR_OPTIONS: readonly OptionSpec[] = TARGET_OPTIONS.map((o) =>
  o.flags.startsWith('--connector') ? { ...o, description: 'one connector of the environment (required)' } : o,
);
const PATH_ARGUMENT = {
  name: '[PATH]',
  description: 'the connector definitions module (default: connectors/index.ts)',
};
const JSON_OPTION = { flags: '--json', description: 'print JSON instead of tables' };

export const validate: CommandSpec<Record<string, never>> = {
  name: 'validate',
  summary: 'check the connector definitions',
  description:
    'Check the connector definitions (every rule of every connector, and the rules across connectors) and list the ' +
    'connectors. Exit 1 when a definition has a problem.',
  arguments: [PATH_ARGUMENT],
  options: [],
  examples: ['npx currents validate', 'npx currents validate connectors/dev.ts'],
};

export const translate: CommandSpec<{
  connector?: string;
  env?: string;
  definitions?: string;
  eventType?: string;
}> = {
  name: 'translate',
  summary: 'translate Currents JSON into the Segment calls a connector would send',
  description:
    'Translate Currents JSON (envelope, single event, flat records, JSON Lines; files or stdin) into Segment track ' +
    'calls, one JSON object per line on stdout, with a summary of outcomes on stderr. Without --connector, every ' +
    'type exported by default is translated with no renames; a skipped type is named with the reason. A connector ' +
    'that hashes with hmac-sha256 needs its key in CURRENTS_HASH_KEY. Sends nothing. Exit 1 when an event was ' +
    'dead-lettered.',
  arguments: [{ name: '[FILE...]', description: 'files of Currents events (default, or "-": stdin)' }],
  options: [
    {
      flags: '--connector <NAME>',
      description: 'translate as this connector does (with --env): its types and renames',
    },
    { flags: '--env <ENV>', description: 'the environment of --connector' },
    { flags: '--definitions <PATH>', description: 'the connector definitions module (default: connectors/index.ts)' },
    {
      flags: '--event-type <TYPE>',
      description: "the message's event_type attribute, as Pub/Sub delivers it (for records that carry no type)",
    },
  ],
  examples: [
    'npx currents translate events.json',
    'npx currents translate --env dev --connector email-eu events.jsonl',
    'cat events.json | npx currents translate',
  ],
};

export const planSummary: CommandSpec<{ base?: string; resources: boolean; eventsPerMonth?: string }> = {
  name: 'plan-summary',
  summary: 'Markdown summary of the connectors: changes, capacity, monthly cost',
  description:
    'Print a Markdown summary of the connectors (for a pull request): changes against a git ref or a synth output, ' +
    'the resources of each connector, capacity and monthly cost. Exit 1 when a definition has a problem.',
  arguments: [PATH_ARGUMENT],
  options: [
    { flags: '--base <REF|DIR>', description: 'compare with the definitions at a git ref, or a cdktf synth output' },
    { flags: '--no-resources', description: 'leave out the list of resources' },
    { flags: '--events-per-month <N>', description: 'the volume the cost estimate assumes' },
  ],
  examples: ['npx currents plan-summary', 'npx currents plan-summary --base origin/main --events-per-month 50000000'],
};

export const segmentServer: CommandSpec<{
  port: string;
  region: string;
  writeKey?: string[];
  source?: string[];
  publicApiToken?: string[];
  oauthApp?: string[];
  idsOnly: boolean;
  tokenTtl: string;
}> = {
  name: 'segment-server',
  summary: 'run the local Segment server (Tracking API, Public API, OAuth tokens)',
  description:
    "Run the local Segment server: a stand-in for Segment's Tracking API (/v1/batch), its Public API (sources) and " +
    'its OAuth token server, as npm start and the tests use it. Runs until stopped.',
  options: [
    { flags: '--port <P>', description: 'the port to listen on (0: any free port)', default: '0' },
    { flags: `--region <${REGIONS.join('|')}>`, description: 'the Segment region it plays', default: DEFAULT_REGION },
    { flags: '--write-key <KEY>', description: 'a write key it accepts (repeatable)', repeatable: true },
    {
      flags: '--source <SOURCE_ID:WRITE_KEY>',
      description: 'a source and its write key, for the Public API (repeatable)',
      repeatable: true,
    },
    { flags: '--public-api-token <T>', description: 'a Public API token it accepts (repeatable)', repeatable: true },
    {
      flags: '--oauth-app <APP_ID:KEY_ID:PUBLIC_PEM_FILE>',
      description: 'an OAuth app and its public key (repeatable)',
      repeatable: true,
    },
    { flags: '--token-ttl <S>', description: 'lifetime of the OAuth tokens it issues, in seconds', default: '3600' },
    { flags: '--ids-only', description: 'record only message ids, not whole calls', default: false },
  ],
  examples: ['npx currents segment-server --port 9090 --region eu --write-key wk-test'],
};

export const status: CommandSpec<TargetValues & { json?: boolean }> = {
  name: 'status',
  summary: 'credential state, grace left, parked events, dead letters, last delivery, credential secret, receiver',
  description:
    'Per connector: the credential state (active, failing since when, expired), the time left in the grace period, ' +
    "the parked events, the dead letters waiting (by reason), the last delivery, the credential secret's enabled " +
    'versions, and the receiver (URL, enabled tokens, answers over the last 15 minutes). Against the emulators when ' +
    "PUBSUB_EMULATOR_HOST and FIRESTORE_EMULATOR_HOST are set, else the environment's project (Application Default " +
    'Credentials).',
  arguments: [PATH_ARGUMENT],
  options: [...TARGET_OPTIONS, JSON_OPTION],
  examples: ['npx currents status --env prod', 'npx currents status --env prod --connector email-eu --json'],
};

export const deadLetters: CommandSpec<
  TargetValues & { reason?: string; type?: string; id?: string; dryRun?: boolean; json?: boolean }
> = {
  name: 'dead-letters',
  summary: 'list, show and replay dead letters',
  description:
    "List a connector's dead letters, show one in full, or replay them: republish them to the connector's ingest " +
    'topic (all, or those matching --reason / --type / --id), each removed from the hold once republished. The ' +
    'events keep their ids, so Segment deduplicates them: replaying twice never delivers twice.',
  arguments: [
    { name: '<list|show|replay>', description: 'what to do' },
    { name: '[ID]', description: 'with show: the event id or message id of the dead letter' },
    PATH_ARGUMENT,
  ],
  options: [
    ...TARGET_OPTIONS,
    { flags: '--reason <R>', description: 'only dead letters of this reason (e.g. rejected, invalid)' },
    { flags: '--type <T>', description: 'only dead letters of this event type' },
    { flags: '--id <ID>', description: 'only the dead letter of this event id or message id' },
    { flags: '--dry-run', description: 'with replay: say what would be replayed, replay nothing' },
    JSON_OPTION,
  ],
  examples: [
    'npx currents dead-letters list --env prod --connector email-eu',
    'npx currents dead-letters show 0f8c2a1e-… --env prod --connector email-eu',
    'npx currents dead-letters replay --env prod --connector email-eu --reason rejected --dry-run',
  ],
};

export const probe: CommandSpec<TargetValues & { json?: boolean }> = {
  name: 'probe',
  summary: 'run the credential probe now (check, then drain parked events)',
  description:
    "Run each connector's credential probe now, as its Cloud Scheduler job does every few minutes: check the Segment " +
    'credential, drain the parked events when it works, drop them when past the grace period. Exit 1 when a probe ' +
    'failed.',
  arguments: [PATH_ARGUMENT],
  options: [...TARGET_OPTIONS, JSON_OPTION],
  examples: ['npx currents probe --env prod --connector email-eu'],
};

export const sendTest: CommandSpec<TargetValues & { type?: string; timeout?: string; json?: boolean }> = {
  name: 'send-test',
  summary: 'send one test event through a connector and wait for its outcome',
  description:
    "Publish one sample event to a connector's topic and wait for what the function did with it (delivered, " +
    'skipped, dead-lettered, parked). Exit 1 unless it was delivered.',
  arguments: [PATH_ARGUMENT],
  options: [
    ...ONE_CONNECTOR_OPTIONS,
    {
      flags: '--type <TYPE>',
      description: 'the event type to send (default: users.messages.email.Open when selected, else the first selected)',
    },
    { flags: '--timeout <SECONDS>', description: 'how long to wait for the outcome' },
    JSON_OPTION,
  ],
  examples: [
    'npx currents send-test --env prod --connector email-eu',
    'npx currents send-test --env prod --connector email-eu --type users.messages.email.Click',
  ],
};

export const brazeSend: CommandSpec<{
  url?: string;
  token?: string;
  ready?: string;
  workspace?: string;
  batchSize?: string;
  concurrency?: string;
  rate?: string;
  gzip?: boolean;
  giveUpAfter?: string;
  timeout?: string;
  json?: boolean;
}> = {
  name: 'braze-send',
  summary: "post Currents events to a workspace's door the way Braze does",
  description:
    "Post Currents events (envelope, list, single event or JSON Lines files) to a Braze workspace's door the way Braze does: in " +
    'batches, with its headers and the bearer token, reacting to every answer as Braze does. The token may come from ' +
    'CURRENTS_RECEIVER_TOKEN instead of --token. Exit 1 when an event was not delivered.',
  arguments: [{ name: '<FILE...>', description: 'files of Currents events' }],
  options: [
    { flags: '--url <URL>', description: "the workspace's door to post to (required without --ready)" },
    { flags: '--token <TOKEN>', description: "the door's token (default: $CURRENTS_RECEIVER_TOKEN)" },
    {
      flags: '--ready <FILE>',
      description: 'a local run: the door URL and token from its ready object (npm start -- --keep-running --json)',
    },
    { flags: '--workspace <ID>', description: 'with --ready: the workspace whose door (default: the only one)' },
    { flags: '--batch-size <N>', description: 'events per request' },
    { flags: '--concurrency <N>', description: 'requests in flight' },
    { flags: '--rate <EVENTS_PER_S>', description: 'pace (0: as fast as possible)' },
    { flags: '--gzip', description: 'gzip the request bodies' },
    { flags: '--give-up-after <SECONDS>', description: 'stop retrying a batch after this long' },
    { flags: '--timeout <SECONDS>', description: 'timeout of one request' },
    JSON_OPTION,
  ],
  examples: [
    'npx currents braze-send a.jsonl b.jsonl --url http://127.0.0.1:8080 --token t0k3n --rate 500 --gzip',
    'CURRENTS_RECEIVER_TOKEN=… npx currents braze-send events.json --url https://…/currents-door-acme-us',
    'npx currents braze-send events.json --ready ready.json --workspace local-us',
  ],
};

export const receiverToken: CommandSpec<TargetValues & { workspace?: string; disableOthers?: boolean; keep?: string }> =
  {
    name: 'receiver-token',
    summary: "make a token for a Braze workspace's door (printed once) / finish a rotation",
    description:
      "new: make a new token for a Braze workspace's door (printed once, to paste into the workspace's Current, with the " +
      'URL and the exact event boxes to tick). disable-others: once Braze uses the new token, disable every other version.',
    arguments: [{ name: '<new|disable-others>', description: 'what to do' }, PATH_ARGUMENT],
    options: [
      ...TARGET_OPTIONS,
      {
        flags: '--workspace <ID>',
        description: "the Braze workspace whose door (default: --connector's, or the environment's only one)",
      },
      { flags: '--disable-others', description: 'with new: also disable every other version at once (a leaked token)' },
      { flags: '--keep <N>', description: 'with disable-others: the version to keep (default: the newest enabled)' },
    ],
    examples: [
      'npx currents receiver-token new --env prod --workspace braze-workspace-us',
      'npx currents receiver-token new --env prod --connector email-eu',
      'npx currents receiver-token disable-others --env prod --workspace braze-workspace-us',
    ],
  };

export const verify: CommandSpec<TargetValues> = {
  name: 'verify',
  summary: 'preflight: secrets, Segment credential, receiver token',
  description:
    "Check, before traffic flows, that each connector's secrets exist, that its Segment credential works (Public " +
    'API source check or OAuth token) and that the door of its workspace has a receiver token. Exit 1 when a check ' +
    'failed.',
  arguments: [PATH_ARGUMENT],
  options: [...TARGET_OPTIONS],
  examples: ['npx currents verify --env prod', 'npx currents verify --env prod --connector email-eu'],
};

export const importSpec: CommandSpec<
  TargetValues & {
    from?: string;
    to?: string;
    bucket?: string;
    prefix?: string;
    dryRun: boolean;
    json: boolean;
    storageEndpoint?: string;
    reimport: boolean;
    remote: boolean;
  }
> = {
  name: 'import',
  summary: 'replay a period of the storage export into a connector',
  description:
    "Import the Currents files of Braze's storage export for a period (whole hours, UTC) into a connector, as its " +
    'storage import would; files already imported are skipped unless --reimport.',
  arguments: [PATH_ARGUMENT],
  options: [
    ...ONE_CONNECTOR_OPTIONS,
    { flags: '--from <YYYY-MM-DDTHH>', description: 'the first hour (UTC) to import (required)' },
    { flags: '--to <YYYY-MM-DDTHH>', description: 'the hour (UTC) to stop before (required)' },
    { flags: '--bucket <B>', description: "the export's bucket (default: the connector's storage.bucket)" },
    { flags: '--prefix <P>', description: "the export's prefix (default: the connector's storage.prefix)" },
    { flags: '--reimport', description: 'import files already imported again', default: false },
    {
      flags: '--remote',
      description:
        'hand the files to the deployed backfill importer and watch its progress (nothing is read on this machine)',
      default: false,
    },
    { flags: '--dry-run', description: 'list the files, import nothing', default: false },
    { flags: '--json', description: 'print JSON instead of lines', default: false },
    { flags: '--storage-endpoint <URL>', description: 'a Cloud Storage stand-in (default: $STORAGE_EMULATOR_HOST)' },
  ],
  examples: [
    'npx currents import --env prod --connector email-eu --from 2026-11-01T00 --to 2026-11-03T00 --dry-run',
    'npx currents import --env prod --connector email-eu --from 2026-11-01T00 --to 2026-12-01T00 --remote',
  ],
};

export const storageServer: CommandSpec<{ port: string; bucket?: string[] }> = {
  name: 'storage-server',
  summary: 'run the local Cloud Storage stand-in (JSON API, in memory)',
  description:
    'Run the local Cloud Storage stand-in (JSON API, in memory), for a storage import by hand and for the import ' +
    'benchmark. Prints its endpoint as JSON and runs until stopped.',
  options: [
    { flags: '--port <P>', description: 'the port to listen on (0: any free port)', default: '0' },
    { flags: '--bucket <NAME>', description: 'a bucket to create (repeatable)', repeatable: true },
  ],
  examples: ['npx currents storage-server --port 4443 --bucket braze-export'],
};

/** Every `currents` command, in the order `currents --help` lists them. */
export const environmentsSpec: CommandSpec<{ json?: boolean; githubOutput?: boolean; only?: string }> = {
  name: 'environments',
  summary: 'list the environments: project, region, state, deploy identity (for CI)',
  description:
    'List the environments of the definitions: project, region, where the Terraform state is kept, the connectors ' +
    'and their locations, and whether CI deploys the environment (its deploy identity) and plans it (a read-only ' +
    "planning account). --github-output prints the lists CI's jobs take as matrices (all, deploy, plan), as lines " +
    'for $GITHUB_OUTPUT. Exit 1 when a definition has a problem.',
  arguments: [PATH_ARGUMENT],
  options: [
    { flags: '--json', description: 'one JSON object per environment, one per line' },
    { flags: '--github-output', description: 'all=, deploy= and plan= lines of JSON arrays, for $GITHUB_OUTPUT' },
    { flags: '--only <ENV>', description: 'only this environment (an unknown name is an error)' },
  ],
  examples: [
    'npx currents environments',
    'npx currents environments --json',
    'npx currents environments --github-output >> "$GITHUB_OUTPUT"',
  ],
};

export const bootstrap: CommandSpec<{ env?: string; dryRun?: boolean; repository?: string; definitions?: string }> = {
  name: 'bootstrap',
  summary: "set up an environment's project for CI: APIs, state bucket, deploy identity",
  description:
    'Set up a fresh project for an environment, idempotently (what exists is kept): the APIs the stack needs, the ' +
    'versioned Terraform state bucket of its backend, the deploy service account with exactly the roles the ' +
    "environment's stack needs (derived from the resource types it declares), the build service account, a read-only " +
    'planning account when the environment names one, and a Workload Identity pool and provider that only the ' +
    "repository's GitHub Actions may use. Runs gcloud with your credentials; --dry-run prints every command and " +
    'runs none (offline).',
  arguments: [PATH_ARGUMENT],
  options: [
    { flags: '--env <ENV>', description: 'the environment whose project to set up (required)' },
    {
      flags: '--repository <OWNER/NAME>',
      description: "the GitHub repository whose workflows may deploy (default: the git remote 'origin')",
    },
    { flags: '--dry-run', description: 'print the gcloud commands, run none', default: false },
    { flags: '--definitions <PATH>', description: 'the connector definitions module (default: connectors/index.ts)' },
  ],
  examples: [
    'npx currents bootstrap --env prod --dry-run',
    'npx currents bootstrap --env prod --repository acme/currents-connectors',
  ],
};

export const COMMAND_SPECS: readonly CommandSpec<unknown>[] = [
  validate,
  environmentsSpec,
  translate,
  planSummary,
  status,
  deadLetters,
  probe,
  sendTest,
  verify,
  bootstrap,
  receiverToken,
  importSpec,
  brazeSend,
  segmentServer,
  storageServer,
];
