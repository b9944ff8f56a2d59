/** The Segment Tracking API adapter: region routing, batching, credentials (write key or OAuth) and retries. */
export { createSegmentClient, type DeliveryReport, type SegmentClient, type SegmentClientOptions } from './client';
export { SEGMENT_ENDPOINTS, BATCH_PATH, resolveEndpoints } from './endpoints';
export { CredentialRefusedError } from './oauth';
export {
  createSourceCheck,
  lookupSource,
  PUBLIC_API_HOSTS,
  type SourceCheckOptions,
  type TokenSource,
} from './public-api';
