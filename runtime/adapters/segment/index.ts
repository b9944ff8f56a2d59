/** The Segment Tracking API adapter: region routing, batching, credentials (write key or OAuth) and retries. */
export { createSegmentClient, type SegmentClient, type SegmentClientOptions } from './client';
export { createSourceCheck } from './public-api';
