/**
 * `currents`: the project's command line, on commander. The surface (every command's description, arguments, options
 * and examples) is cli/specs.ts; each command's body lives in cli/commands/<name>.ts, exports `run(argv)`, and is
 * loaded only when that command runs, so that `--help`, a usage error or one command never loads another's
 * dependencies (the Google clients in particular).
 *
 * Exit codes: 0 success, `--help`, `--version`; 1 a failure (printed as `currents <command>: <message>`); 2 a usage
 * error (unknown command or option, with the closest one; a missing argument; a bad value; no command at all, which
 * prints the help).
 */
import { Command, CommanderError } from 'commander';
import { commandOf, UsageError, usageMessage } from '../common/args';
import { dropLibraryWarnings } from '../common/library-warnings';
import { COMMAND_SPECS } from './specs';
import { PRODUCT } from '../shared/product';
import { localGoogleClients } from '../common/google-clients';

interface CommandModule {
  run(argv: string[]): Promise<number>;
}

/** Command bodies by name, each loaded on first use. */
export type CommandBodies = Record<string, () => CommandModule>;

/* eslint-disable @typescript-eslint/no-require-imports */
/** The bodies of cli/commands; the stand-in commands' (local/commands) are handed to `main` by the entry point. */
const BODIES: CommandBodies = {
  validate: () => require('./commands/validate'),
  environments: () => require('./commands/environments'),
  bootstrap: () => require('./commands/bootstrap'),
  translate: () => require('./commands/translate'),
  'plan-summary': () => require('./commands/plan-summary'),
  status: () => require('./commands/status'),
  'dead-letters': () => require('./commands/dead-letters'),
  probe: () => require('./commands/probe'),
  'send-test': () => require('./commands/send-test'),
  'receiver-token': () => require('./commands/receiver-token'),
  verify: () => require('./commands/verify'),
  import: () => require('./commands/import'),
};
/* eslint-enable @typescript-eslint/no-require-imports */

export const VERSION = PRODUCT.version;

/** Where the output goes (tests may capture it). */
export interface Output {
  out(text: string): void;
  err(text: string): void;
}

/** Through the console, which ignores a closed pipe (`currents --help | head`). */
const STD: Output = {
  out: (t) => console.log(t.replace(/\n$/, '')),
  err: (t) => console.error(t.replace(/\n$/, '')),
};

/** The `currents` program: every command of cli/specs.ts; parsing it tells which command to run (or prints help). */
function program(io: Output, chosen: (name: string) => void): Command {
  const output = { writeOut: io.out, writeErr: io.err, outputError: () => undefined };
  const root = new Command('currents')
    .description('Braze Currents → Segment connectors on Google Cloud: check, inspect and operate them.')
    .version(VERSION, '-v, --version', 'print the version')
    .helpOption('-h, --help', 'show this help')
    .helpCommand('help [command]', 'show the help of a command')
    .showSuggestionAfterError(true)
    .enablePositionalOptions()
    .exitOverride()
    .configureOutput(output)
    .addHelpText('after', "\nRun 'npx currents <command> --help' for a command's options and examples.\n");
  for (const spec of COMMAND_SPECS) {
    const cmd = commandOf(spec).configureOutput(output);
    cmd.action(() => chosen(spec.name));
    root.addCommand(cmd);
  }
  return root;
}

async function runBody(name: string, argv: string[], bodies: CommandBodies): Promise<number> {
  // Against the emulators (PUBSUB_EMULATOR_HOST / FIRESTORE_EMULATOR_HOST set) no metadata server exists to probe.
  if (process.env.PUBSUB_EMULATOR_HOST || process.env.FIRESTORE_EMULATOR_HOST) localGoogleClients();
  const body = bodies[name] ?? BODIES[name];
  if (!body) throw new Error(`the ${name} command is not part of this build (its body was not given to main)`);
  return body().run(argv);
}

/** Runs `currents ARGV`; `standIns` are the bodies of the stand-in commands (local/commands), when available. */
export async function main(argv: string[], io: Output = STD, standIns: CommandBodies = {}): Promise<number> {
  dropLibraryWarnings();
  let chosen: string | undefined;
  const root = program(io, (n) => (chosen = n));
  const name = COMMAND_SPECS.some((s) => s.name === argv[0]) ? argv[0] : undefined;
  const label = name ? `currents ${name}` : 'currents';
  const hint = `Run '${label} --help' for ${name ? 'its options and examples' : 'the commands'}.`;
  try {
    root.parse(argv, { from: 'user' });
    // The command is argv[0] (the program's own options stop at it); its body parses the rest with the same spec.
    return chosen ? await runBody(chosen, argv.slice(1), standIns) : 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version') return 0;
      // `currents help` (0), or no command at all: the help was printed to stderr, as a usage error (2).
      if (err.code === 'commander.help') return err.exitCode === 0 ? 0 : 2;
      io.err(`${label}: ${usageMessage(err)}\n${hint}\n`);
      return 2;
    }
    if (err instanceof UsageError) {
      const usage = root.commands.find((c) => c.name() === name)?.usage();
      io.err(`${label}: ${err.message}\n${usage ? `Usage: ${label} ${usage}\n` : ''}${hint}\n`);
      return 2;
    }
    io.err(`${label}: ${(err as Error).message}\n`);
    return 1;
  }
}
