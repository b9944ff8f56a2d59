/**
 * The ready object: the first JSON line of `npm start -- --keep-running --json`, where everything is, for scripts.
 * Its shape is an interface (docs/local-runs.md): fields may be added, never renamed or dropped.
 */
import type { SegmentRegion } from '../shared/regions';
import type { LocalStack } from './stack';

export type ReadyObject = {
  environment: string;
  projectId: string;
  pubsubHost: string;
  firestoreHost: string;
  segment: { us: string; eu: string };
  /** Each connector's receiverUrl / receiverToken: the door of its workspace (absent when the run has no doors). */
  connectors: {
    name: string;
    region: SegmentRegion;
    ingestTopic: string;
    receiverUrl: string | undefined;
    receiverToken: string | undefined;
  }[];
  workspaces: { workspace: string; receiverUrl: string; receiverToken: string; connectors: string[] }[];
};

export function readyObject(stack: LocalStack): ReadyObject {
  return {
    environment: stack.environment.name,
    projectId: stack.projectId,
    pubsubHost: stack.emulators.pubsub.host,
    firestoreHost: stack.emulators.firestore.host,
    segment: { us: stack.servers.us.url, eu: stack.servers.eu.url },
    connectors: stack.connectors.map((l) => ({
      name: l.connector.name,
      region: l.connector.segment.region,
      ingestTopic: l.names.ingestTopic,
      receiverUrl: l.receiver?.url,
      receiverToken: l.receiver?.token,
    })),
    workspaces: stack.doors.map((d) => ({
      workspace: d.workspace,
      receiverUrl: d.url,
      receiverToken: d.token,
      connectors: d.door.connectors.map((c) => c.name),
    })),
  };
}
