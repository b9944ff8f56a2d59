/**
 * `currents plan-summary [PATH] [--base REF|DIR]`: Markdown for a pull request, per environment: each connector's region,
 * credential kind, events, grace period, anonymous flag and contact; the resources each connector becomes; and, against
 * a base (a git ref, or an earlier synth output directory), the connectors added, removed or changed, field by field.
 */
import { resolve } from 'node:path';
import { formatValidationError } from '../../shared/connector';
import { parse, UsageError } from '../../common/args';
import * as specs from '../specs';
import { defaultDefinitions, loadDefinitionInputs, loadValidated } from '../../common/definitions';

export async function run(argv: string[]): Promise<number> {
  const { positionals, values } = parse(specs.planSummary, argv);
  const eventsPerMonth = values.eventsPerMonth === undefined ? undefined : Number(values.eventsPerMonth);
  if (eventsPerMonth !== undefined && !(Number.isFinite(eventsPerMonth) && eventsPerMonth > 0)) {
    throw new UsageError(`--events-per-month must be a positive number (got '${values.eventsPerMonth}')`);
  }
  // Loaded on demand: the summary synthesizes each connector's construct to list its resources.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const summary = require('../../infra/summary') as typeof import('../../infra/summary');
  const { environments, errors } = loadValidated(positionals[0]);
  if (errors.length) {
    console.log('## Currents → Segment connectors: plan summary\n');
    console.log(`❌ **${errors.length} problem(s) in the connector definitions**; nothing can be deployed:\n`);
    for (const e of errors) console.log(`- ${formatValidationError(e)}`);
    return 1;
  }
  const definitionsFile = resolve(positionals[0] ?? defaultDefinitions());
  const base =
    values.base !== undefined
      ? summary.loadBase(values.base, definitionsFile, (file) => loadDefinitionInputs(file))
      : undefined;
  process.stdout.write(
    summary.planSummary(environments, { base, resources: values.resources !== false, eventsPerMonth }),
  );
  return 0;
}
