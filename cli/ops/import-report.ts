/** What `currents import` prints, locally and with `--remote`: its progress line and its reconciled summary. */
import type { ImportPlan, ImportSummary } from '../commands/import';

export function progressLine(
  s: { files: number; events: number; bytes: number; inFlight?: number },
  total: ImportPlan,
  started: number,
): string {
  const secs = Math.max((Date.now() - started) / 1000, 0.001);
  const rate = s.events / secs;
  const fraction = total.bytes > 0 ? s.bytes / total.bytes : s.files / Math.max(total.files.length, 1);
  const eta = fraction > 0 && fraction < 1 ? `${Math.round((secs / fraction) * (1 - fraction))} s` : '—';
  const remote = s.inFlight !== undefined ? `  (${s.inFlight} importing remotely)` : '';
  return `files ${s.files}/${total.files.length}  events ${s.events}  ${Math.round(rate)} events/s  ETA ${eta}${remote}`;
}

/** The reconciled summary, as people read it (the local and the remote import). */
export function printSummary(
  summary: ImportSummary,
  log: (line: string) => void,
  busy: { count: string; line: string },
): void {
  log(
    `imported ${summary.done} file(s), ${summary.alreadyDone} already imported, ${summary.skippedFiles} skipped, ` +
      `${summary.failed.length} failed, ${summary.busy.length} ${busy.count}; ` +
      `${summary.records} records read = ${summary.published} published now + ${summary.resumed} published by an earlier run ` +
      `(${summary.reconciled ? 'reconciled' : 'NOT reconciled'})`,
  );
  for (const f of summary.failed)
    log(`  failed: ${f.object}: ${f.detail} at byte offset ${f.offset} (after ${f.recordsBefore} records)`);
  for (const b of summary.busy) log(`  ${busy.line}: ${b}`);
  if (summary.failed.length)
    log('Damaged files are kept as failed: once Braze rewrites them, run the same command again.');
}

/** The progress line on a terminal, a line per file otherwise, and the summary at the end (or JSON with `--json`). */
export function importReporter(plan: ImportPlan, opts: { json: boolean; log: (line: string) => void }) {
  const started = Date.now();
  const tty = process.stderr.isTTY && !opts.json;
  return {
    onProgress: (s: { files: number; events: number; bytes: number; inFlight?: number }) => {
      if (tty) process.stderr.write(`\r${progressLine(s, plan, started)}   `);
    },
    onFile: (r: {
      object: string;
      status: string;
      published: number;
      failure?: { detail: string; offset: number };
    }) => {
      if (!tty && !opts.json) opts.log(`${r.status.padEnd(12)} ${r.object} (${r.published} events)`);
      if (r.failure) process.stderr.write(`\n${r.object}: ${r.failure.detail} at byte offset ${r.failure.offset}\n`);
    },
    end: (summary: ImportSummary, busy: { count: string; line: string }) => {
      if (tty) process.stderr.write('\n');
      if (opts.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
      else printSummary(summary, opts.log, busy);
    },
  };
}
