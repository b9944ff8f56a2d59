/**
 * What a local run saw at each workspace's door, from its `receiver_request` log lines, and the door's part of the
 * reconciliation: every event Braze sent was taken (answered 200), each connector was routed exactly the events of the
 * types it selects, and the types no connector of the workspace selects were counted at the door, not published.
 * Only 200 answers count: a request answered 503 is re-sent whole, and its re-sent copy is the one that counts.
 */
import { addCounts, sum } from '../runtime/core/counts';
import { table } from '../common/table';
import type { FeedEvent } from './feed';

export interface DoorView {
  requests: number;
  byStatus: Record<string, number>;
  /** Events of requests answered 200. */
  events: number;
  /** Events published, by connector (requests answered 200). */
  routed: Record<string, number>;
  /** Events of types no connector of the workspace selects, by type (requests answered 200). */
  notSelected: Record<string, number>;
}

export const newDoorView = (): DoorView => ({ requests: 0, byStatus: {}, events: 0, routed: {}, notSelected: {} });

const addAll = (into: Record<string, number>, from: unknown) =>
  addCounts(into, from as Record<string, number> | undefined);

/** Adds one `receiver_request` log entry to the door's view. */
export function noteDoorRequest(view: DoorView, entry: Record<string, unknown>): void {
  if (entry.event !== 'receiver_request' || typeof entry.status !== 'number') return;
  view.requests++;
  view.byStatus[entry.status] = (view.byStatus[entry.status] ?? 0) + 1;
  if (entry.status !== 200) return;
  if (typeof entry.events === 'number') view.events += entry.events;
  addAll(view.routed, entry.routed);
  addAll(view.notSelected, entry.notSelected);
}

export interface DoorSummary {
  readonly workspace: string;
  readonly connectors: readonly string[];
  /** Events Braze sent to the door. */
  readonly sent: number;
  readonly view: DoorView;
  /** Events of types no connector selects, as the feed meant them (counted at the door). */
  readonly expectedNotSelected: number;
  readonly reconciled: boolean;
  readonly problems: string[];
}

/** The door's reconciliation against the workspace's feed (its events, each with the connector meant to handle it). */
export function summarizeDoor(
  workspace: string,
  connectors: readonly string[],
  feed: readonly Pick<FeedEvent, 'connector' | 'intent'>[],
  view: DoorView,
): DoorSummary {
  const problems: string[] = [];
  if (view.events !== feed.length) problems.push(`the door took ${view.events} of ${feed.length} event(s) sent`);
  for (const c of connectors) {
    const expected = feed.filter((e) => e.connector === c).length;
    const routed = view.routed[c] ?? 0;
    if (routed !== expected) problems.push(`routed ${routed} event(s) to ${c}, expected ${expected}`);
  }
  for (const c of Object.keys(view.routed)) {
    if (!connectors.includes(c)) problems.push(`routed ${view.routed[c]} event(s) to ${c}, not of this workspace`);
  }
  const expectedNotSelected = feed.filter((e) => e.intent === 'door:not_selected').length;
  if (sum(view.notSelected) !== expectedNotSelected) {
    problems.push(`counted ${sum(view.notSelected)} event(s) not selected, expected ${expectedNotSelected}`);
  }
  return {
    workspace,
    connectors,
    sent: feed.length,
    view,
    expectedNotSelected,
    reconciled: problems.length === 0,
    problems,
  };
}

const listed = (r: Record<string, number>) =>
  Object.entries(r)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}: ${v}`)
    .join(', ') || '-';

/** The doors' table, and a warning for each door that was sent types no connector selects (boxes to untick). */
export function printDoors(doors: readonly DoorSummary[], out: (l: string) => void): void {
  out(
    table(
      ['workspace door', 'requests', 'answers', 'events taken', 'routed', 'not selected (counted)', 'reconciled'],
      doors.map((d) => [
        d.workspace,
        d.view.requests,
        listed(d.view.byStatus),
        `${d.view.events}/${d.sent}`,
        listed(d.view.routed),
        sum(d.view.notSelected),
        d.reconciled ? 'yes' : `NO: ${d.problems.join('; ')}`,
      ]),
    ),
  );
  for (const d of doors) {
    const types = Object.keys(d.view.notSelected).sort();
    if (!types.length) continue;
    out(
      `Braze workspace '${d.workspace}' sent ${sum(d.view.notSelected)} event(s) of ${types.length} type(s) no connector ` +
        `selects, counted at its door and not published (a deployed Current should not carry them: untick them in Braze): ` +
        `${types.slice(0, 6).join(', ')}${types.length > 6 ? ` and ${types.length - 6} more` : ''}`,
    );
  }
}
