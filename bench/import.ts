/**
 * `npm run bench -- import [--records N] [--codec deflate|null] [--in-flight K]`
 *
 * One Braze-style Avro file of N records (default 200,000, deflate) in the local Cloud Storage stand-in (its own process,
 * `currents storage-server`, so that the bucket's bytes are not counted here) is imported into a connector's ingest topic
 * on the Pub/Sub emulator, with progress in the Firestore emulator, through the same code as the live import and
 * `currents import` (ConnectorImporter: the real Cloud Storage client, the receiver's publisher). Measured: events/s
 * from the first byte read to the last chunk acknowledged, and this process's peak RSS while importing (also for a file
 * a tenth the size, to show that it does not grow with the file). The floor: avsc decoding the same file alone from
 * local disk (its BlockDecoder stream), events/s, the best of three passes. Two diagnostics say where the rest goes: the import with publishing
 * replaced by a no-op (reading and transcoding alone), and the import's own chunks published with the Pub/Sub client
 * alone at the same concurrency (what the emulator takes; the import can go no faster than that). Last line:
 * {"bench":"import","eventsPerSec":…,"floorEventsPerSec":…,"floorRatio":…,"peakMB":…}
 */
import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { PubSub } from '@google-cloud/pubsub';
import { Storage } from '@google-cloud/storage';
import { createFileDecoder } from 'avsc';
import { writeLargeAvroFile } from '../local/avro-export';
import { startEmulators } from '../local/emulators';
import { ConnectorImporter } from '../runtime/storage/importer';
import { brazeObjectName } from '../runtime/storage/paths';
import { RECEIVER_BATCHING } from '../runtime/adapters/ingest-publisher';
import { resourceNames } from '../shared/names';
import { inFlight as inFlightLoop } from './_in-flight';
import { benchEnvironment } from './_environment';
import { startStorageProcess } from './_storage-process';

const { values } = parseArgs({
  options: {
    records: { type: 'string', default: '200000' },
    codec: { type: 'string', default: 'deflate' },
    'in-flight': { type: 'string', default: '8' },
  },
});
const RECORDS = Number(values.records);
const CODEC = values.codec === 'null' ? 'null' : 'deflate';
const IN_FLIGHT = Number(values['in-flight']);
const TYPE = 'users.messages.email.Open';
const BUCKET = 'bench-export';

/** avsc alone: decode every record of the file from disk. */
function floor(path: string): Promise<{ records: number; seconds: number }> {
  return new Promise((res, rej) => {
    const started = process.hrtime.bigint();
    let records = 0;
    createFileDecoder(path)
      .on('data', () => records++)
      .on('end', () => res({ records, seconds: Number(process.hrtime.bigint() - started) / 1e9 }))
      .on('error', rej);
  });
}

/** Seconds to publish `chunks` with the Pub/Sub client alone, `inFlight` at once, with the importer's batching. */
async function publishFloor(pubsub: PubSub, topicName: string, chunks: Buffer[], inFlight: number): Promise<number> {
  const topic = pubsub.topic(topicName, { batching: RECEIVER_BATCHING });
  const { seconds } = await inFlightLoop(inFlight, chunks, async (data) => {
    await topic.publishMessage({ data, attributes: { event_type: TYPE } });
  });
  return seconds;
}

async function main(): Promise<void> {
  const environment = benchEnvironment('import', { events: ['email'] });
  const connector = environment.connectors[0]!;
  const emulators = await startEmulators({ projectId: environment.project });
  Object.assign(process.env, emulators.env);
  const storageProcess = await startStorageProcess(BUCKET);
  const pubsub = new PubSub({ projectId: environment.project });
  try {
    await pubsub.createTopic(resourceNames(connector.name).ingestTopic);
    const dir = mkdtempSync(join(tmpdir(), 'currents-bench-import-'));
    const storage = new Storage({ apiEndpoint: storageProcess.apiEndpoint, projectId: environment.project });

    const importer = (publish?: (data: Buffer) => Promise<unknown>) =>
      new ConnectorImporter({
        project: environment.project,
        connector,
        apiEndpoint: storageProcess.apiEndpoint,
        inFlight: IN_FLIGHT,
        ...(publish ? { publish } : {}),
      });
    // Clients (Cloud Storage, Pub/Sub, Firestore) are warmed by the first, smaller file: the figures are steady state.
    const real = importer();
    // The no-op publisher keeps the chunks of the large file, to publish them alone afterwards.
    let kept: Buffer[] = [];
    const noPublish = importer((data) => {
      kept.push(data);
      return Promise.resolve('x');
    });
    const run = async (records: number, tag: string, imp: ConnectorImporter) => {
      const path = join(dir, `${tag}.avro`);
      await writeLargeAvroFile(path, TYPE, records, { codec: CODEC, idPrefix: tag });
      const name = brazeObjectName({
        prefix: 'bench',
        eventType: TYPE,
        hour: new Date(Date.UTC(2026, 10, 1)),
        file: tag,
      });
      await storage.bucket(BUCKET).upload(path, { destination: name, resumable: false });
      const [meta] = await storage.bucket(BUCKET).file(name).getMetadata();
      let peak = process.memoryUsage.rss();
      const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 20);
      const started = process.hrtime.bigint();
      const result = await imp.import({ bucket: BUCKET, name, generation: String(meta.generation) });
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      clearInterval(timer);
      if (result.status !== 'done' || result.published !== records) {
        throw new Error(`import of ${records} records ended ${result.status} with ${result.published} published`);
      }
      return { path, bytes: statSync(path).size, seconds, eventsPerSec: records / seconds, peakMB: peak / 1e6 };
    };

    const small = await run(Math.max(1, Math.round(RECORDS / 10)), 'small', real);
    const large = await run(RECORDS, 'large', real);
    // Diagnostic: the same import with publishing replaced by a no-op (what Pub/Sub's emulator costs).
    await run(Math.max(1, Math.round(RECORDS / 10)), 'nopub-warm', noPublish);
    kept = [];
    const unpublished = await run(RECORDS, 'nopub', noPublish);
    const publishAlone = await publishFloor(pubsub, resourceNames(connector.name).ingestTopic, kept, IN_FLIGHT);
    kept = [];
    await Promise.all([real.close(), noPublish.close()]);
    // The floor at its best of three passes (the first pays for avsc's JIT; one pass varied by a third run to run).
    const passes = [await floor(large.path), await floor(large.path), await floor(large.path)];
    const f = passes.reduce((a, b) => (b.records / b.seconds > a.records / a.seconds ? b : a));
    const floorEventsPerSec = f.records / f.seconds;
    console.log(`file: ${RECORDS} records of ${TYPE}, ${CODEC} codec, ${(large.bytes / 1e6).toFixed(1)} MB`);
    console.log(
      `import (local bucket → Pub/Sub emulator): ${Math.round(large.eventsPerSec)} events/s in ${large.seconds.toFixed(1)} s`,
    );
    console.log(`import without publishing (diagnostic):   ${Math.round(unpublished.eventsPerSec)} events/s`);
    console.log(
      `its chunks published alone (diagnostic):  ${Math.round(RECORDS / publishAlone)} events/s (${IN_FLIGHT} in flight)`,
    );
    console.log(
      `floor (avsc decoding the file alone):      ${Math.round(floorEventsPerSec)} events/s in ${f.seconds.toFixed(1)} s`,
    );
    console.log(
      `peak RSS while importing: ${large.peakMB.toFixed(0)} MB for ${RECORDS} records; ${small.peakMB.toFixed(0)} MB for ${Math.round(RECORDS / 10)}`,
    );
    console.log(
      JSON.stringify({
        bench: 'import',
        eventsPerSec: Math.round(large.eventsPerSec),
        floorEventsPerSec: Math.round(floorEventsPerSec),
        floorRatio: Math.round((large.eventsPerSec / floorEventsPerSec) * 100) / 100,
        peakMB: Math.round(large.peakMB),
        withoutPublishingEventsPerSec: Math.round(unpublished.eventsPerSec),
        publishAloneEventsPerSec: Math.round(RECORDS / publishAlone),
      }),
    );
  } finally {
    storageProcess.stop();
    await pubsub.close();
    await emulators.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
