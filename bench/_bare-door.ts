/**
 * The receiver bench's second floor: the least any door must do for a request, in a process of its own as the door is.
 * A bare Node HTTP server that reads each request's body, publishes that request's parts (looked up by the
 * `x-bench-request` index, made before it listens from the same seed as the bench's requests: no routing, no token, no
 * log) with the Pub/Sub client and the receiver's batching settings, and answers 200 once Pub/Sub acknowledged both.
 * Run by bench/receiver.ts (`node --require tsx/cjs bench/_bare-door.ts`, PUBSUB_EMULATOR_HOST and BENCH_REQUESTS set);
 * prints `{"port":N}` once it listens.
 */
import http from 'node:http';
import { PubSub } from '@google-cloud/pubsub';
import { RECEIVER_BATCHING } from '../runtime/adapters/ingest-publisher';
import { resourceNames } from '../shared/names';
import { receiverWorkspace, requestBodies, requestParts } from './_receiver-feed';

const { environment } = receiverWorkspace();
const parts = requestParts(requestBodies(Number(process.env.BENCH_REQUESTS)));
const pubsub = new PubSub({ projectId: environment.project, apiEndpoint: process.env.PUBSUB_EMULATOR_HOST });
const topics = new Map(
  environment.connectors.map((c) => [
    c.name,
    pubsub.topic(resourceNames(c.name).ingestTopic, { batching: RECEIVER_BATCHING }),
  ]),
);

const server = http.createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    Buffer.concat(chunks); // read whole, as any door must before it can publish
    const request = parts[Number(req.headers['x-bench-request'])];
    if (!request) {
      res.writeHead(400).end('x-bench-request names none of the bench requests');
      return;
    }
    Promise.all(
      request.map((p) => topics.get(p.connector)!.publishMessage({ data: p.body, attributes: { source: 'bench' } })),
    ).then(
      () => res.writeHead(200).end(),
      (err: Error) => res.writeHead(503).end(err.message),
    );
  });
});
server.keepAliveTimeout = 620_000;
server.listen(0, '127.0.0.1', () => {
  console.log(JSON.stringify({ port: (server.address() as { port: number }).port }));
});
process.on('SIGTERM', () => process.exit(0));
