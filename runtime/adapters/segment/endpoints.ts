import type { SegmentRegion } from '../../../shared/connector';

/**
 * Segment's per-region endpoints: the Tracking API and the OAuth token server of `us` and of `eu` (a write key or an OAuth
 * app works only on its own region's hosts). Never guessed: the connector's region picks them.
 */
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

/**
 * Where a connector of `region` sends: `{api}/v1/batch`, token requests to `{tokenServer}/token`, and the JWT audience
 * (always the region's real token server). Overrides are for tests and local runs only.
 */
export function resolveEndpoints(
  region: SegmentRegion,
  overrides: { baseUrl?: string; tokenUrl?: string } = {},
): { batchUrl: URL; tokenUrl: URL; audience: string } {
  const endpoints = SEGMENT_ENDPOINTS[region];
  if (!endpoints) throw new Error(`unknown Segment region '${String(region)}'`);
  return {
    batchUrl: new URL(BATCH_PATH, overrides.baseUrl ?? endpoints.api),
    tokenUrl: new URL(TOKEN_PATH, overrides.tokenUrl ?? endpoints.tokenServer),
    audience: endpoints.tokenServer,
  };
}
