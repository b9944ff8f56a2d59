import { parseArgs, type ParseArgsConfig } from 'node:util';

/** Thrown for a command-line mistake: the message is printed with the command's usage, exit code 2. */
export class UsageError extends Error {}

/** node:util parseArgs with errors turned into UsageErrors. */
export function parse<T extends NonNullable<ParseArgsConfig['options']>>(
  argv: string[],
  options: T,
  allowPositionals = true,
) {
  try {
    return parseArgs({ args: argv, options, allowPositionals, strict: true });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}
