/**
 * The CDKTF app (`cdktf.json` → `npx tsx infra/main.ts`): one stack per environment of connectors/index.ts, so
 * `npx cdktf synth` writes them all and `npx cdktf deploy prod` applies one.
 */
import { App } from 'cdktf';
import { environments } from '../connectors';
import { ConnectorValidationError } from '../shared/connector';
import { defineEnvironments } from './app';
import { RuntimeEntryMissingError } from './runtime-archive';

try {
  const app = new App();
  defineEnvironments(app, environments);
  app.synth();
} catch (err) {
  if (err instanceof ConnectorValidationError || err instanceof RuntimeEntryMissingError) {
    console.error(err.message);
    process.exit(1);
  }
  throw err;
}
