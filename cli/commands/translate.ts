import { readFileSync } from 'node:fs';
import { DEFAULT_CATALOG } from '../../shared/catalog';
import { type Connector } from '../../shared/connector';
import { ENV_VARS } from '../../shared/runtime-config';
import { ALL_TYPES, createTranslator, type TranslatorConfig } from '../../runtime/core/translate';
import { parse, UsageError } from '../../common/args';
import * as specs from '../specs';
import { loadEnvironmentsOrThrow, pick } from '../../common/definitions';
import { TranslateSummary } from '../translate-summary';

function readStdin(): Buffer {
  try {
    return readFileSync(0);
  } catch (err) {
    // No stdin at all (closed): nothing to translate.
    if ((err as NodeJS.ErrnoException).code === 'EAGAIN' || (err as NodeJS.ErrnoException).code === 'EOF') {
      return Buffer.alloc(0);
    }
    throw err;
  }
}

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse(specs.translate, argv);
  if ((values.connector === undefined) !== (values.env === undefined)) {
    throw new UsageError('--connector and --env go together (name a connector of an environment)');
  }
  let config: TranslatorConfig = ALL_TYPES;
  let label = `all ${DEFAULT_CATALOG.length} types exported by default`;
  if (values.connector !== undefined && values.env !== undefined) {
    const environments = loadEnvironmentsOrThrow(values.definitions);
    const connector: Connector = pick(environments, values.env, values.connector).connectors[0]!;
    config = connector;
    label = `connector '${connector.name}' of '${values.env}'`;
  }
  let translator;
  try {
    // A connector that hashes with hmac-sha256 needs its key: CURRENTS_HASH_KEY (a test key will do to see the shape).
    translator = createTranslator(config, { hashKey: process.env[ENV_VARS.hashKey] });
  } catch (err) {
    throw new UsageError(`${(err as Error).message} (set ${ENV_VARS.hashKey})`);
  }
  const attributes = values.eventType ? { event_type: values.eventType } : undefined;

  const inputs: Array<{ name: string; data: Buffer }> = [];
  if (positionals.length === 0 || (positionals.length === 1 && positionals[0] === '-')) {
    inputs.push({ name: 'stdin', data: readStdin() });
  } else {
    for (const file of positionals) {
      try {
        inputs.push({ name: file, data: readFileSync(file) });
      } catch (err) {
        throw new UsageError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
      }
    }
  }

  const summary = new TranslateSummary();
  const out: string[] = [];
  for (const input of inputs) {
    const result = translator.translateMessage(input.data, attributes);
    for (const e of result.send) out.push(e.json);
    summary.add(input.name, result);
    if (out.length >= 1000) process.stdout.write(out.splice(0).join('\n') + '\n');
  }
  if (out.length) process.stdout.write(out.join('\n') + '\n');
  // Skipped events exit 0: the function skips (and acknowledges) them too; only dead letters are failures.
  console.error(summary.lines(label).join('\n'));
  return summary.deadLetterCount > 0 ? 1 : 0;
}
