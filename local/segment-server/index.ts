/**
 * The project's local Segment server (Tracking API + OAuth token server + the Public API's get-source route + inspection + fault injection), used by tests,
 * the local run and the benchmarks. Start it in process with {@link startSegmentServer}, or alone with
 * `npx currents segment-server --port P --region us|eu`.
 */
export { startSegmentServer, type LocalSegmentServer } from './server';
export type { FaultRule, OAuthAppRegistration } from './types';
