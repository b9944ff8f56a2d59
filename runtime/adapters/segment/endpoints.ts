import type { SegmentRegion } from '../../../shared/connector';

/** Segment's per-region endpoints (delivery.md, "Regions"). Never guessed: the connector's region picks them. */
export const SEGMENT_ENDPOINTS: Readonly<
  Record<SegmentRegion, { readonly api: string; readonly tokenServer: string }>
> = {
  us: { api: 'https://api.segment.io', tokenServer: 'https://oauth2.segment.io' },
  eu: { api: 'https://events.eu1.segmentapis.com', tokenServer: 'https://oauth2.eu1.segmentapis.com' },
};

export const BATCH_PATH = '/v1/batch';
export const TOKEN_PATH = '/token';
export const OAUTH_SCOPE = 'tracking_api:write';
export const CLIENT_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
