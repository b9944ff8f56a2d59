/**
 * `currents`: the project's command line. Each subcommand lives in cli/commands/<name>.ts, exports `usage` and
 * `run(argv)`, and is loaded only when called, so that one command's dependencies never slow another.
 */
import { UsageError } from './args';
import { localGoogleClients } from '../local/google-clients';

interface Command {
  usage: string;
  run(argv: string[]): Promise<number>;
}

/* eslint-disable @typescript-eslint/no-require-imports */
const COMMANDS: Record<string, () => Command> = {
  validate: () => require('./commands/validate'),
  translate: () => require('./commands/translate'),
  'plan-summary': () => require('./commands/plan-summary'),
  'segment-server': () => require('./commands/segment-server'),
  status: () => require('./commands/status'),
  'dead-letters': () => require('./commands/dead-letters'),
  probe: () => require('./commands/probe'),
  'send-test': () => require('./commands/send-test'),
  'braze-send': () => require('./commands/braze-send'),
  'receiver-token': () => require('./commands/receiver-token'),
  verify: () => require('./commands/verify'),
  import: () => require('./commands/import'),
  'storage-server': () => require('./commands/storage-server'),
};
/* eslint-enable @typescript-eslint/no-require-imports */

function help(): string {
  return ['Usage:', ...Object.values(COMMANDS).map((c) => `  ${c().usage}`)].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(help());
    return name ? 0 : 2;
  }
  const load = COMMANDS[name];
  if (!load) {
    console.error(`unknown command '${name}'\n${help()}`);
    return 2;
  }
  // Against the emulators (PUBSUB_EMULATOR_HOST / FIRESTORE_EMULATOR_HOST set) no metadata server exists to probe.
  if (process.env.PUBSUB_EMULATOR_HOST || process.env.FIRESTORE_EMULATOR_HOST) localGoogleClients();
  const command = load();
  try {
    return await command.run(rest);
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`currents ${name}: ${err.message}\nUsage: ${command.usage}`);
      return 2;
    }
    console.error(`currents ${name}: ${(err as Error).message}`);
    return 1;
  }
}
