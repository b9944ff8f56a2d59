/**
 * `currents storage-server`: runs the local Cloud Storage stand-in (local/storage-server.ts) on its own, for trying the
 * storage import by hand and for the import benchmark (which keeps the bucket's bytes out of the measured process). The
 * first line printed is a JSON object `{"apiEndpoint": URL}`: the real client's `apiEndpoint` or STORAGE_EMULATOR_HOST.
 */
import { startStorageServer } from '../storage-server';
import { parse, UsageError } from '../../common/args';
import * as specs from '../../cli/specs';

export async function run(argv: string[]): Promise<number> {
  const { values } = parse(specs.storageServer, argv);
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new UsageError(`--port must be 0..65535, got '${values.port}'`);
  const server = await startStorageServer({ port, buckets: values.bucket ?? [] });
  console.log(JSON.stringify({ apiEndpoint: server.apiEndpoint, buckets: values.bucket ?? [] }));
  console.log(
    `local Cloud Storage on ${server.apiEndpoint}: new Storage({ apiEndpoint: '${server.apiEndpoint}' }) or STORAGE_EMULATOR_HOST=${server.apiEndpoint}`,
  );
  await new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
  await server.close();
  console.log(`stopped: ${server.stats.requests} request(s), ${server.stats.mediaBytes} media byte(s) served`);
  return 0;
}
