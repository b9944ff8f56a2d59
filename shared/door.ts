/**
 * The door of a Braze workspace: Braze configures one Custom Currents Export per workspace (app group), so the receiver
 * belongs to the workspace, not to the connector. Everything about a door is derived here from the connector
 * definitions (the ONE schema, shared/connector.ts): which workspaces an environment has, the cloud resource names of
 * each door, its routes (event type → the connector of that workspace that selects it, unique by the overlap rule) and
 * the boxes to tick in Braze's form. The infrastructure, the receiver, the local run and the commands all read it, so
 * they cannot disagree. Pure: no I/O.
 */
import { CATALOG, CATALOG_BY_TYPE, canonicalType, resolveSelection } from './catalog';
import type { Connector } from './connector';
import { connectorLocation } from './deployment';
import { RESOURCE_PREFIX, resourceNames, SERVICE_ACCOUNT_PREFIX } from './names';

/** The resources of one workspace's door. */
export interface DoorNames {
  /** The public 2nd-gen function Braze's Current POSTs to. */
  readonly function: string;
  /** The secret whose enabled versions are the bearer tokens this workspace's Current may send. */
  readonly tokenSecret: string;
  /** Service account id of the door (publisher on its connectors' ingest topics, accessor on its token secret). */
  readonly serviceAccount: string;
  /** The log-based metric counting the door's answers by HTTP status. */
  readonly requestsMetric: string;
}

/** The longest door id: `cs-door-<id>` must fit a service account id (30 characters). */
export const MAX_DOOR_ID_LENGTH = 22;
const CLEAN_ID = /^[a-z]([a-z0-9]|-(?!-))*[a-z0-9]$/;

/** FNV-1a (32 bits) in base 36: a short, stable tag that tells two workspace ids apart. */
function shortHash(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(36).padStart(7, '0').slice(-6);
}

/**
 * The id a workspace's door resources are named after: the workspace id itself when it is already a short resource
 * name (lowercase letters, digits, single hyphens, at most 16 characters), otherwise a readable start of it and a
 * hash of the whole id, so that two workspaces never share a door (a Braze app group API id is a 36-character UUID).
 */
export function doorId(workspace: string): string {
  if (CLEAN_ID.test(workspace) && workspace.length <= MAX_DOOR_ID_LENGTH) return workspace;
  let start = workspace
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+/, '');
  if (!/^[a-z]/.test(start)) start = `w${start}`;
  start = start.slice(0, MAX_DOOR_ID_LENGTH - 7).replace(/-+$/, '');
  return `${start}-${shortHash(workspace)}`;
}

export function doorNames(workspace: string): DoorNames {
  const id = doorId(workspace);
  const base = `${RESOURCE_PREFIX}-door-${id}`;
  return {
    function: base,
    tokenSecret: `${base}-token`,
    serviceAccount: `${SERVICE_ACCOUNT_PREFIX}-door-${id}`,
    requestsMetric: `${base}-requests`,
  };
}

/** The HTTPS URL of a workspace's door (a 2nd-gen function's predictable `cloudfunctions.net` URL) in `location`. */
export function doorUrl(
  env: { readonly project: string; readonly region: string },
  workspace: string,
  location: string = env.region,
): string {
  return `https://${location}-${env.project}.cloudfunctions.net/${doorNames(workspace).function}`;
}

/**
 * Where a workspace's door runs: where its connectors run (their `location`, else the environment's region). The
 * connectors of one workspace must agree on it (doorLocationClashes), so the door sits beside the topics it publishes
 * to and an EU connector's events never leave the EU through its door.
 */
export function doorLocation(
  door: { readonly connectors: readonly { location?: string }[] },
  env: { readonly region: string },
): string {
  return connectorLocation(door.connectors[0] ?? {}, env);
}

/** Connectors of one workspace that run in different locations (their door can run in only one), as errors. */
export function doorLocationClashes(
  connectors: readonly Pick<Connector, 'name' | 'workspace' | 'location'>[],
  env: { readonly region?: string },
): { connector: string; field: 'location'; message: string }[] {
  if (env.region === undefined) return [];
  const region = env.region;
  const first = new Map<string, { name: string; where: string }>();
  const out: { connector: string; field: 'location'; message: string }[] = [];
  for (const c of connectors) {
    const where = connectorLocation(c, { region });
    const seen = first.get(c.workspace);
    if (!seen) first.set(c.workspace, { name: c.name, where });
    else if (seen.where !== where) {
      out.push({
        connector: c.name,
        field: 'location',
        message:
          `location ${where} differs from ${seen.where} of connector '${seen.name}' of the same Braze workspace '${c.workspace}': ` +
          "the workspace has one door (one receiver), which runs where its connectors run: give the workspace's connectors one location",
      });
    }
  }
  return out;
}

/** Name of the stack output holding a workspace door's URL. */
export const doorUrlOutput = (workspace: string): string => `door-${doorId(workspace)}-url`;
/** Name of the stack output holding a workspace door's token secret (its name, never a token). */
export const doorTokenSecretOutput = (workspace: string): string => `door-${doorId(workspace)}-token-secret`;

/** One box of Braze's Current form: its label and the Currents event type it exports. */
export interface BrazeBox {
  readonly label: string;
  readonly type: string;
}

/**
 * The box of Braze's form for an exportable type, by the event name Braze's Segment export gives it (the catalogue's
 * Segment event name; the two Canvas exits, which share one, told apart by their exit reason).
 */
export function brazeBox(type: string): BrazeBox {
  const entry = CATALOG_BY_TYPE.get(type);
  if (!entry) return { label: type, type };
  const reason = entry.fixedProperties?.exit_reason;
  return { label: reason ? `${entry.segmentEvent} (${reason.replace(/_/g, ' ')})` : entry.segmentEvent, type };
}

/** A workspace's door: the connectors it feeds and where each event type goes. */
export interface WorkspaceDoor {
  readonly workspace: string;
  readonly id: string;
  readonly names: DoorNames;
  /** The workspace's connectors, by name order. */
  readonly connectors: readonly Connector[];
  /** Canonical event type → the name of the connector that selects it. */
  readonly routes: ReadonlyMap<string, string>;
  /**
   * The connector that gets what cannot be routed (a body that is not Braze's envelope, an event without a string
   * `event_type`), so that its function dead-letters it with a reason: the first of the workspace's connectors.
   */
  readonly fallback: string;
  /** The boxes to tick in Braze's form: the union of the connectors' selections, in catalogue order. */
  readonly boxes: readonly BrazeBox[];
  /** Exportable types no connector of the workspace selects: boxes to leave unticked (the door would drop them). */
  readonly unselected: readonly string[];
}

/** The door of one workspace, from its connectors (all of that workspace, whose selections do not overlap). */
export function workspaceDoor(workspace: string, connectors: readonly Connector[]): WorkspaceDoor {
  if (!connectors.length) throw new Error(`workspace '${workspace}' has no connector`);
  const sorted = [...connectors].sort((a, b) => a.name.localeCompare(b.name));
  const routes = new Map<string, string>();
  for (const c of sorted) {
    if (c.workspace !== workspace) {
      throw new Error(`connector '${c.name}' belongs to workspace '${c.workspace}', not '${workspace}'`);
    }
    for (const t of resolveSelection(c.events).types) {
      const other = routes.get(t);
      if (other !== undefined) {
        throw new Error(`connectors '${other}' and '${c.name}' of workspace '${workspace}' both select ${t}`);
      }
      routes.set(t, c.name);
    }
  }
  const types = CATALOG.map((e) => e.type);
  return {
    workspace,
    id: doorId(workspace),
    names: doorNames(workspace),
    connectors: sorted,
    routes,
    fallback: sorted[0]!.name,
    boxes: types.filter((t) => routes.has(t)).map(brazeBox),
    unselected: types.filter((t) => !routes.has(t)),
  };
}

/** Every workspace the connectors name, with its door, in order of first appearance. */
export function workspaceDoors(connectors: readonly Connector[]): WorkspaceDoor[] {
  const byWorkspace = new Map<string, Connector[]>();
  for (const c of connectors) byWorkspace.set(c.workspace, [...(byWorkspace.get(c.workspace) ?? []), c]);
  return [...byWorkspace].map(([workspace, list]) => workspaceDoor(workspace, list));
}

/** Where one event goes at the door: a connector, or nowhere (counted as not selected, by type). */
export type Route = { readonly connector: string } | { readonly notSelected: string };

/** The route of an event of type `type` (as Braze wrote it; legacy spellings are read as their canonical type). */
export function routeOf(door: Pick<WorkspaceDoor, 'routes'>, type: string): Route {
  const connector = door.routes.get(canonicalType(type) ?? type);
  return connector === undefined ? { notSelected: type } : { connector };
}

/**
 * Connectors whose cloud resources would have the same names as a door's (a connector named `door-<id>`), said as
 * validation errors of the connector's `name`.
 */
export function doorNameClashes(
  connectors: readonly Pick<Connector, 'name' | 'workspace'>[],
): { connector: string; field: 'name'; message: string }[] {
  const doors = [...new Set(connectors.map((c) => c.workspace))].map((w) => ({ w, names: doorNames(w) }));
  const out: { connector: string; field: 'name'; message: string }[] = [];
  for (const c of connectors) {
    const own = new Set(Object.values(resourceNames(c.name)));
    for (const d of doors) {
      const clash = Object.values(d.names).find((n) => own.has(n));
      if (!clash) continue;
      out.push({
        connector: c.name,
        field: 'name',
        message: `name '${c.name}' gives its cloud resources the name '${clash}' of the door of Braze workspace '${d.w}': rename the connector`,
      });
    }
  }
  return out;
}

/**
 * The boxes to tick in Braze's form for a door, one line per connector of the workspace ("for `journeys` (10): Campaign
 * Aborted, …"), in catalogue order: what `plan-summary`, `status` and `receiver-token new` show.
 */
export function boxLines(
  door: Pick<WorkspaceDoor, 'boxes' | 'routes' | 'connectors'>,
  quote = (s: string) => s,
): string[] {
  return door.connectors.map((c) => {
    const boxes = door.boxes.filter((b) => door.routes.get(b.type) === c.name);
    return `for ${quote(c.name)} (${boxes.length}): ${boxes.map((b) => b.label).join(', ')}`;
  });
}

/**
 * The warning about the types no connector of the workspace selects: a Current that carries them costs their transport
 * for nothing (the door counts and drops them, as `not_selected`).
 */
export function unselectedWarning(door: Pick<WorkspaceDoor, 'workspace' | 'unselected'>): string | undefined {
  if (!door.unselected.length) return undefined;
  return (
    `leave the other ${door.unselected.length} exportable event type(s) unticked in the Current of '${door.workspace}': ` +
    'no connector of the workspace selects them, so its door counts them (`not_selected`, by type) and publishes nothing'
  );
}
