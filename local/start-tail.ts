/**
 * The watch of `npm start -- --keep-running`: after the summary, every outcome of the events published from then on.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { REGIONS } from '../shared/regions';
import { describeOutcome, newDuplicates, outcomeJson, watchOutcomes, type LogTap } from './outcomes';
import type { LocalStack } from './stack';

/**
 * Prints, until the process is stopped (or `until` is aborted), every outcome of the events published from now on:
 * each event the Segment servers accept (as before: `[region] accepted …`, or with `json` the line
 * `{"region","messageId","call"}`), and, when the run's `logs` are given, every other outcome (skipped, dead-lettered,
 * parked, dropped, retrying, refused by the receiver, duplicate: local/outcomes.ts), one line each (with `json`, a JSON
 * object with a `kind`).
 */
export async function tail(
  stack: LocalStack,
  out: (l: string) => void,
  json: boolean,
  logs?: LogTap,
  until?: AbortSignal,
): Promise<void> {
  const seen = { us: stack.servers.us.accepted().length, eu: stack.servers.eu.accepted().length };
  const receipts = { us: new Map<string, number>(), eu: new Map<string, number>() };
  const say = (o: Parameters<typeof describeOutcome>[0]) => out(json ? outcomeJson(o) : describeOutcome(o));
  for (const region of REGIONS) newDuplicates(region, stack.servers[region].accepted(), receipts[region]);
  const watch = logs && (await watchOutcomes(stack, logs, say));
  while (!until?.aborted) {
    await sleep(json ? 100 : 500);
    for (const region of REGIONS) {
      const all = stack.servers[region].accepted();
      for (const e of all.slice(seen[region])) {
        const call = e.call as { event?: string; userId?: string; anonymousId?: string } | undefined;
        out(
          json
            ? JSON.stringify({ region, messageId: e.messageId, call: e.call })
            : `[${region}] accepted ${call?.event ?? '?'} for ${call?.userId ?? call?.anonymousId ?? '?'} (messageId ${e.messageId})`,
        );
      }
      seen[region] = all.length;
      for (const d of newDuplicates(region, all, receipts[region])) say(d);
    }
  }
  await watch?.stop();
}
