/**
 * The receiver bench's requests and its workspace (shared by the bench and its bare door, bench/_bare-door.ts, which
 * makes the same requests from the same seed so that it can look each one's parts up instead of routing it).
 */
import { eventsEnvelope, sampleFeed } from '../common/samples';
import { routeBody, type RoutedPart } from '../runtime/receiver/route';
import { workspaceDoors } from '../shared/door';
import { benchWorkspace } from './_environment';

export const EVENTS_PER_REQUEST = 100;

/** The bench's workspace: two connectors splitting every group between them, one door. */
export function receiverWorkspace() {
  const environment = benchWorkspace('receiver');
  const [door] = workspaceDoors(environment.connectors);
  return { environment, door: door! };
}

/** `requests` envelopes of EVENTS_PER_REQUEST sample events of every type, as Buffers. */
export function requestBodies(requests: number): Buffer[] {
  const feed = sampleFeed({ count: requests * EVENTS_PER_REQUEST, seed: 7 });
  return Array.from({ length: requests }, (_, i) =>
    Buffer.from(eventsEnvelope(feed.slice(i * EVENTS_PER_REQUEST, (i + 1) * EVENTS_PER_REQUEST))),
  );
}

/** What the door must publish for each request: its parts (one message per connector), routed before any clock. */
export function requestParts(bodies: readonly Buffer[]): RoutedPart[][] {
  const { door } = receiverWorkspace();
  return bodies.map((b) => [...routeBody(b, door).parts]);
}
