/**
 * The project's command lines (`currents`, `npm start`, `npm run soak`) print their own words only: a warning the
 * Google client libraries emit (`MetadataLookupWarning: received unexpected error = All promises were rejected`, when
 * no metadata server answers, as on any machine outside Google Cloud) is dropped, whether or not the command runs on
 * the emulators. The rule: a warning is dropped when its type is one of those libraries' own, or when it is emitted
 * from inside one of them (a deprecation they trigger); every other warning prints as Node prints it, and errors are
 * untouched. Installed once, by each entry point, before any command runs; deployed code never installs it.
 */

/** Warning types the Google libraries define. */
const LIBRARY_WARNING_TYPES = new Set(['MetadataLookupWarning']);

/** A stack frame inside a Google client library or its transport. */
const LIBRARY_FRAME =
  /node_modules[\\/](?:gcp-metadata|gaxios|google-auth-library|google-gax|google-logging-utils|@google-cloud[\\/](?!functions-framework)|@grpc[\\/])/;

type EmitWarning = typeof process.emitWarning;

function warningType(warning: string | Error, rest: unknown[]): string | undefined {
  if (typeof warning !== 'string') return warning.name;
  const [second] = rest;
  if (typeof second === 'string') return second;
  return (second as { type?: string } | undefined)?.type;
}

/** True when the caller of `emitWarning` is inside a Google library. */
function fromLibrary(): boolean {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 40;
  const stack = new Error().stack ?? '';
  Error.stackTraceLimit = limit;
  return LIBRARY_FRAME.test(stack);
}

let installed = false;

/** Drops the Google libraries' warnings from this process's output (idempotent). */
export function dropLibraryWarnings(proc: NodeJS.Process = process): void {
  if (installed) return;
  installed = true;
  const original: EmitWarning = proc.emitWarning.bind(proc);
  proc.emitWarning = function emitWarning(warning: string | Error, ...rest: unknown[]) {
    const type = warningType(warning, rest);
    if ((type && LIBRARY_WARNING_TYPES.has(type)) || fromLibrary()) return;
    (original as (...a: unknown[]) => void)(warning, ...rest);
  } as EmitWarning;
}
