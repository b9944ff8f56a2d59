import { connectorWarnings, formatValidationError, selectedTypes } from '../../shared/connector';
import { parse } from '../../common/args';
import * as specs from '../specs';
import { definitionsFile, HOW_TO_EXPORT, loadValidated } from '../../common/definitions';
import { table } from '../../common/table';

export async function run(argv: string[]): Promise<number> {
  const { positionals } = parse(specs.validate, argv);
  const { environments, errors } = loadValidated(positionals[0]);
  if (!environments.length && !errors.length) {
    console.error(`Nothing to validate: ${definitionsFile(positionals[0])} defines no environment; ${HOW_TO_EXPORT}.`);
    return 1;
  }
  const rows = environments.flatMap((env) =>
    env.connectors.map((c) => [
      env.name,
      c.name,
      c.segment.region,
      c.segment.credential.kind,
      selectedTypes(c).length,
      c.credentialGracePeriod,
      c.workspace,
      c.contactEmail,
    ]),
  );
  if (rows.length) {
    console.log(table(['env', 'connector', 'region', 'credential', 'events', 'grace', 'workspace', 'contact'], rows));
  }
  if (errors.length) {
    console.error(`\n${errors.length} problem${errors.length === 1 ? '' : 's'} found:`);
    for (const e of errors) console.error(`  - ${formatValidationError(e)}`);
    return 1;
  }
  const warnings = environments.flatMap((env) =>
    env.connectors.flatMap(connectorWarnings).map((w) => ({ ...w, environment: env.name })),
  );
  if (warnings.length) {
    console.log(`\n${warnings.length} warning${warnings.length === 1 ? '' : 's'}:`);
    for (const w of warnings) console.log(`  - ${formatValidationError(w)}`);
  }
  const count = environments.reduce((n, e) => n + e.connectors.length, 0);
  console.log(`\nOK: ${environments.length} environment(s), ${count} connector(s), all valid.`);
  return 0;
}
