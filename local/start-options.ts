/**
 * `npm start`'s surface: its options, help and examples (START, common/args.ts) and their parsing (parseOptions).
 * `--source` is taken out first (local/storage-run.ts, takeSource).
 */
import { parse, UsageError, type CommandSpec } from '../common/args';
import type { Emulators } from './emulators';

export const SCENARIOS = ['credential-failure', 'write-key-rotated'] as const;
export type Scenario = (typeof SCENARIOS)[number];

/** What runLocal (local/start.ts) runs. */
export interface StartOptions {
  env: string;
  events: number;
  rate: number;
  keepRunning: boolean;
  /** With keepRunning: stdout carries only JSON lines (the ready object, then each accepted event); the rest → stderr. */
  json: boolean;
  /** How the feed gets in: POSTed by the local Braze to each workspace's door (default), or published to the topics. */
  via: 'receiver' | 'topic';
  scenario?: Scenario;
  definitions?: string;
  timeoutSeconds: number;
  /** Reuse running emulators under this project id (tests); by default they are started and stopped here. */
  emulators?: Emulators;
  projectId?: string;
  /** Where progress and the summary go (tests capture it). */
  out: (line: string) => void;
  /** Rewrite one progress line in place (a TTY) or print plain lines. */
  tty: boolean;
}

/** `npm start`'s surface: its options, help and examples (common/args.ts). `--source` is taken out first (takeSource). */
export const START: CommandSpec<{
  env: string;
  events: string;
  rate: string;
  keepRunning: boolean;
  scenario?: string;
  definitions?: string;
  timeout: string;
  via: string;
  json: boolean;
}> = {
  name: 'npm start --',
  summary: 'the product end to end on this machine',
  description:
    'The product end to end on this machine, with no Google Cloud account: the Pub/Sub and Firestore emulators, a ' +
    'local Segment server per region, every connector of the environment and the door of each Braze workspace, fed ' +
    'one sample Braze feed per workspace. Ends with a table per door and per connector that reconciles what was sent ' +
    'with what the pipeline did (exit 0 only when everything reconciles), or with --keep-running stays up for you to ' +
    'send events yourself.',
  options: [
    { flags: '--env <NAME>', description: 'the environment whose connectors to run', default: 'dev' },
    { flags: '--events <N>', description: 'events in the sample feed', default: '1000' },
    { flags: '--rate <EVENTS_PER_SEC>', description: 'pace of the feed (0: as fast as possible)', default: '0' },
    {
      flags: '--keep-running',
      description: 'after the summary, keep everything up and show the events you publish',
      default: false,
    },
    { flags: '--json', description: 'with --keep-running: JSON lines on stdout, for scripts', default: false },
    {
      flags: '--scenario <NAME>',
      description: `a failure to play: ${SCENARIOS.join(', ')}, or backfill (through the storage export)`,
    },
    { flags: '--source <http|storage>', description: "how events get in: Braze's HTTP export, or its storage export" },
    {
      flags: '--via <receiver|topic>',
      description: "post to each workspace's door (Braze's way) or publish to each connector's topic",
      default: 'receiver',
    },
    {
      flags: '--definitions <PATH>',
      description: "the connector definitions module (default: local/definitions.ts; 'connectors' runs yours)",
    },
    { flags: '--timeout <SECONDS>', description: 'how long to wait for the pipeline to settle', default: '120' },
  ],
  examples: [
    'npm start',
    'npm start -- --keep-running',
    'npm start -- --events 20000 --rate 500',
    'npm start -- --scenario credential-failure',
    'npm start -- --source storage',
  ],
};

/** `npm start`'s options (without `--source`, taken out by takeSource). Throws UsageError (or HelpRequested). */
export function parseOptions(argv: string[]): Omit<StartOptions, 'out' | 'tty'> {
  const { values } = parse(START, argv);
  const events = Number(values.events);
  const rate = Number(values.rate);
  const timeoutSeconds = Number(values.timeout);
  if (!Number.isInteger(events) || events < 1) throw new UsageError('--events must be a whole number ≥ 1');
  if (!(rate >= 0)) throw new UsageError('--rate must be events per second (0 = as fast as possible)');
  if (!(timeoutSeconds > 0)) throw new UsageError('--timeout must be a number of seconds');
  if (values.scenario !== undefined && !(SCENARIOS as readonly string[]).includes(values.scenario)) {
    throw new UsageError(`unknown --scenario '${values.scenario}' (known: ${SCENARIOS.join(', ')})`);
  }
  if (values.json && !values.keepRunning) throw new UsageError('--json goes with --keep-running');
  if (values.via !== 'receiver' && values.via !== 'topic') {
    throw new UsageError(`--via must be receiver or topic (got '${values.via}')`);
  }
  return {
    env: values.env,
    events,
    rate,
    via: values.via,
    keepRunning: values.keepRunning,
    json: values.json,
    scenario: values.scenario as Scenario | undefined,
    definitions: values.definitions,
    timeoutSeconds,
  };
}
