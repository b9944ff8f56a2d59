/**
 * The argument layer of every command line of the project (`currents <command>`, `npm start`, `npm run soak`), on
 * commander. A command is described by a light `CommandSpec` (name, description, arguments, options, examples) that
 * loads nothing else, so the whole surface (help, suggestions, usage errors) is known before any command body loads.
 *
 * Exit codes, everywhere: 0 success (and `--help`, `--version`), 1 a failure, 2 a usage error (unknown command or
 * option, missing argument or option value, a bad value, a UsageError thrown by a command).
 */
import { Command, CommanderError, Option } from 'commander';

/** Thrown for a command-line mistake: printed with a pointer to the command's `--help`, exit code 2. */
export class UsageError extends Error {}

/** Thrown by `parse` when `--help` was asked for: `text` is the help to print (exit code 0). */
export class HelpRequested extends Error {
  constructor(readonly text: string) {
    super('help requested');
  }
}

export interface OptionSpec {
  /** commander flags, e.g. `--env <ENV>`, `--json`, `--no-resources`. */
  readonly flags: string;
  readonly description: string;
  readonly default?: string | boolean;
  /** The option may be given more than once; its value is the list of values (undefined when never given). */
  readonly repeatable?: boolean;
}

export interface ArgumentSpec {
  /** `<NAME>` (required), `[NAME]` (optional), `[NAME...]` (any number). */
  readonly name: string;
  readonly description: string;
}

/**
 * One command. `V` is the shape of its parsed option values (commander's camelCase: `--dry-run` → `dryRun`,
 * `--no-resources` → `resources: false`); it only types `parse`.
 */
export interface CommandSpec<V = Record<string, unknown>> {
  readonly name: string;
  /** One line, for the list of commands. */
  readonly summary: string;
  /** The command's help text (default: the summary). */
  readonly description?: string;
  readonly arguments?: readonly ArgumentSpec[];
  readonly options: readonly OptionSpec[];
  /** Complete command lines, shown under "Examples:" in the help. */
  readonly examples: readonly string[];
  /** Phantom: the parsed values' type. */
  readonly values?: V;
}

const collect = (value: string, previous: string[] | undefined) => [...(previous ?? []), value];

/** A commander Command for `spec`: help with examples, suggestions, errors thrown (CommanderError), never exiting. */
export function commandOf(spec: CommandSpec<unknown>): Command {
  const cmd = new Command(spec.name)
    .summary(spec.summary)
    .description(spec.description ?? spec.summary)
    .helpOption('-h, --help', 'show this help')
    .showSuggestionAfterError(true)
    .exitOverride();
  for (const a of spec.arguments ?? []) cmd.argument(a.name, a.description);
  for (const o of spec.options) {
    const option = new Option(o.flags, o.description);
    // A flag's `false` default is filled in by `parse`, not shown in the help ("(default: false)" says nothing).
    if (o.default !== undefined && o.default !== false) option.default(o.default);
    if (o.repeatable) option.argParser(collect);
    cmd.addOption(option);
  }
  if (spec.examples.length) {
    cmd.addHelpText('after', `\nExamples:\n${spec.examples.map((e) => `  $ ${e}`).join('\n')}\n`);
  }
  return cmd;
}

/**
 * commander's error text in the product's words: `error: unknown option '--conector'\n(Did you mean --connector?)` →
 * `unknown option '--conector' (did you mean --connector?)`.
 */
export function usageMessage(err: CommanderError): string {
  return err.message
    .replace(/^error: /, '')
    .replace(/\n\(Did you mean (.*)\)$/s, ' (did you mean $1)')
    .replace(/\s*\n\s*/g, ' ')
    .trim();
}

/**
 * Parses `argv` (the arguments after the command's name) with `spec`. Throws a UsageError for any mistake (with
 * commander's suggestion), HelpRequested for `--help`. Positionals are returned in order, whatever their names.
 */
export function parse<V>(spec: CommandSpec<V>, argv: readonly string[]): { values: V; positionals: string[] } {
  let help = '';
  const cmd = commandOf(spec).configureOutput({
    writeOut: (s) => (help += s),
    writeErr: (s) => (help += s),
    outputError: () => undefined,
  });
  let positionals: string[] = [];
  cmd.action(() => {
    positionals = [...cmd.args];
  });
  try {
    cmd.parse([...argv], { from: 'user' });
  } catch (err) {
    if (!(err instanceof CommanderError)) throw err;
    if (err.code === 'commander.helpDisplayed') throw new HelpRequested(help);
    throw new UsageError(usageMessage(err));
  }
  const values = cmd.opts();
  for (const o of spec.options) {
    const key = cmd.options.find((c) => c.flags === o.flags)!.attributeName();
    if (o.default === false) values[key] ??= false;
  }
  return { values: values as V, positionals };
}

/**
 * For a script's entry point (`npm start`, `npm run soak`): parses, or prints the help (exit 0) or the usage error
 * as `LABEL: message` with a pointer to `HELP` (exit 2), and exits.
 */
export function parseOrExit<T>(label: string, help: string, parseFn: () => T): T {
  try {
    return parseFn();
  } catch (err) {
    if (err instanceof HelpRequested) {
      console.log(err.text.replace(/\n$/, ''));
      process.exit(0);
    }
    if (err instanceof UsageError) {
      console.error(`${label}: ${err.message}\nRun '${help}' for the options.`);
      process.exit(2);
    }
    throw err;
  }
}
