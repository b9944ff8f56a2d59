/**
 * How a local run (`npm start`, the soak) stops on a signal: SIGINT (Ctrl-C), SIGTERM (`kill`, a supervisor) and
 * SIGHUP (the terminal closed) all stop everything the run started, the same way.
 *
 * The first signal runs `stop` once; the signals that follow while it runs are ignored, because one stop request often
 * arrives several times (a signal sent to the run's process group reaches the process itself, and tsx, behind
 * `npm start`, relays it again; npm forwards it too). The handlers stay installed throughout: were none left, Node (or
 * tsx's preloaded handler) would end the process at the second signal, in the middle of stopping. `stop` gets
 * `graceMs`; the process then exits with 128 + the signal's number, and the exit hooks of what is still running (the
 * emulators' process groups, the functions' processes) kill it. Should even that be skipped (SIGKILL), the reaper's
 * watcher (local/reaper.ts) does it.
 */
import { constants } from 'node:os';

export const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
export type StopSignal = (typeof STOP_SIGNALS)[number];

export interface StopOnSignalsOptions {
  /** Told once, when the first signal arrives (e.g. "Stopping everything…"). */
  readonly say?: (line: string) => void;
  /** How long `stop` may take before the process exits anyway (default 20 s). */
  readonly graceMs?: number;
  /** Ends the process (tests replace it); default process.exit. */
  readonly exit?: (code: number) => void;
}

/** The exit code of a process that ended on `signal`: 128 + its number (130 for SIGINT, 143 for SIGTERM, 129 for SIGHUP). */
export function signalExitCode(signal: StopSignal): number {
  return 128 + constants.signals[signal];
}

/**
 * Installs the handlers; returns a function that removes them (for a run that ends by itself and leaves nothing
 * running).
 */
export function stopOnSignals(stop: (signal: StopSignal) => Promise<unknown>, options: StopOnSignalsOptions = {}) {
  const exit = options.exit ?? ((code: number) => process.exit(code));
  let stopping = false;
  const handlers = STOP_SIGNALS.map((signal) => {
    const handler = () => {
      if (stopping) return;
      stopping = true;
      options.say?.(`\n${signal}: stopping everything…`);
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, options.graceMs ?? 20_000);
      });
      void Promise.race([stop(signal).catch(() => undefined), late]).finally(() => {
        clearTimeout(timer);
        exit(signalExitCode(signal));
      });
    };
    process.on(signal, handler);
    return [signal, handler] as const;
  });
  return () => {
    for (const [signal, handler] of handlers) process.removeListener(signal, handler);
  };
}
