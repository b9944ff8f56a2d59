/**
 * The CDKTF app (`cdktf.json` → `npx tsx infra/main.ts`): one stack per environment of connectors/index.ts, so
 * `npm run cdktf -- synth` writes them all and `npm run cdktf -- deploy prod` applies one. The `cdktf` script is the
 * CDKTF CLI with its telemetry call (checkpoint-api.hashicorp.com) off: CHECKPOINT_DISABLE=1, the only switch the CLI
 * reads (it loads no .env), as the deploy workflow sets it too.
 */
import { App } from 'cdktf';
import { environments } from '../connectors';
import { ConnectorValidationError } from '../shared/connector';
import { defineEnvironments } from './app';
import { RuntimeEntryMissingError } from './runtime-archive';

// cdktf captures a full stack trace for every token it creates; with Node's source-map translation on (as tsx turns it
// on) that alone doubles synth time. Synth errors are reported by message, so the translation is switched off here.
process.setSourceMapsEnabled(false);

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
