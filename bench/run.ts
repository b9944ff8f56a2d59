/**
 * `npm run bench -- NAME [options]`: runs bench/NAME.ts. Each benchmark prints its figures and, as its last line, one
 * JSON object `{"bench":NAME,...}`.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { localGoogleClients } from '../common/google-clients';

const [name, ...rest] = process.argv.slice(2);
const available = readdirSync(__dirname)
  .filter((f) => f.endsWith('.ts') && f !== 'run.ts' && !f.startsWith('_'))
  .map((f) => f.replace(/\.ts$/, ''));
if (!name || !existsSync(join(__dirname, `${name}.ts`))) {
  console.error(`usage: npm run bench -- <${available.join('|')}> [options]`);
  process.exit(2);
}
process.argv = [process.argv[0]!, join(__dirname, `${name}.ts`), ...rest];
// Benchmarks run against the emulators and local servers only: no metadata-server probe (and no warning about it).
localGoogleClients();
// eslint-disable-next-line @typescript-eslint/no-require-imports
require(`./${name}`);
