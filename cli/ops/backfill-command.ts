/**
 * The remote side of `currents import` (`--remote`): the run's progress line, Ctrl-C (stop handing files off, say how
 * to resume) and its summary, over runRemoteImport (cli/ops/backfill-remote.ts).
 */
import type { ImportPlan } from '../commands/import';
import { importReporter } from './import-report';
import { cloudRemotePorts, runRemoteImport, type RemotePorts } from './backfill-remote';
import type { OpsTarget } from './context';

export async function remoteImport(
  t: Pick<OpsTarget, 'project' | 'connector'>,
  plan: ImportPlan,
  opts: {
    reimport: boolean;
    json: boolean;
    log: (line: string) => void;
    /** Replaces the Firestore / Pub/Sub ports (tests). */
    ports?: RemotePorts;
    pollMs?: number;
  },
): Promise<number> {
  const { log } = opts;
  const ports = opts.ports ?? (await cloudRemotePorts({ project: t.project, connector: t.connector.name }));
  let stop = false;
  const onSigint = () => {
    if (stop) process.exit(130);
    stop = true;
    process.stderr.write('\nstopping: no more files are handed off (Ctrl-C again to leave at once)\n');
  };
  process.on('SIGINT', onSigint);
  const report = importReporter(plan, { json: opts.json, log });
  try {
    const summary = await runRemoteImport(plan, ports, {
      reimport: opts.reimport,
      window: 2 * t.connector.backfill.importers,
      pollMs: opts.pollMs,
      stopped: () => stop,
      onRun: (r) =>
        log(
          r.resumed
            ? `resuming backfill ${r.id.slice(0, 12)} started ${new Date(r.startedAt).toISOString()}`
            : `backfill ${r.id.slice(0, 12)}: the files go to the backfill importer (${t.connector.backfill.importers} instance(s))`,
        ),
      onProgress: report.onProgress,
      onFile: report.onFile,
    });
    report.end(summary, {
      count: 'still importing remotely',
      line: 'importing remotely (it finishes there; run the same command again to watch it)',
    });
    if (summary.interrupted) {
      process.stderr.write('interrupted: run the same command again to resume where it stopped\n');
      return 130;
    }
    return summary.failed.length || !summary.reconciled ? 1 : 0;
  } finally {
    process.removeListener('SIGINT', onSigint);
    await ports.close();
  }
}
