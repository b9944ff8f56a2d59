/**
 * Local runs talk only to the emulators and the local Segment server, where no Google metadata server exists. Without
 * this, the Google clients probe for one (to find a project id and credentials) and print
 * `MetadataLookupWarning: received unexpected error …` to a newcomer. `METADATA_SERVER_DETECTION=none` (read by
 * gcp-metadata on each lookup) turns the probe itself off: no warning is filtered out, and a real error (an emulator
 * that does not answer, a refused request) still surfaces as before. Deployed code never calls this.
 */
export function localGoogleClients(env: NodeJS.ProcessEnv = process.env): void {
  env.METADATA_SERVER_DETECTION ??= 'none';
}
