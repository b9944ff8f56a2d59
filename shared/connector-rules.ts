/**
 * One connector's own rules beyond its fields' forms (selected types that exist and may be exported, renames and field
 * lists that name real types and fields, name lengths within GCP's limits), and the warnings about a valid connector.
 * They read a definition as written (RuleView), whatever else is wrong with it, so that a broken field hides none.
 */
import {
  CATALOG,
  canonicalType,
  isSelector,
  resolveSelection,
  SELECTORS,
  suggestTypes,
  typesOfSelector,
} from './catalog';
import { type Connector, KNOWN_FIELD_NAMES } from './connector-schema';
import { MAX_CONNECTOR_NAME_LENGTH, nameLimitViolations, TIGHTEST_NAME_LIMIT } from './names';
import type { Finding } from './schema-messages';
import { didYouMean, suggest } from './suggest';
import type { ValidationError } from './validation-error';

/** The first `max` names, then how many more. */
export function listed(names: readonly string[], max: number): string {
  return names.length > max ? `${names.slice(0, max).join(', ')} and ${names.length - max} more` : names.join(', ');
}

/** One event type or group name of `events`, said when unknown, with the closest types and groups. */
function unknownSelection(name: string, suggestions: readonly string[]): string {
  const closest = didYouMean(suggestions, (s) =>
    isSelector(s) ? ` (the ${typesOfSelector(s).length} ${s} types)` : '',
  );
  return (
    `events: '${name}' is neither an exportable event type nor a group; ` +
    (closest ? `${closest} ` : '') +
    `Fix or remove it (groups: ${SELECTORS.join(', ')}; docs/events.md lists the ${CATALOG.length} types)`
  );
}

export const objectOr = (v: unknown): Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
const stringsOf = (v: unknown): string[] =>
  Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];

/**
 * What the connector rules read of a definition as written, whatever else is wrong with it (the strings of a list that
 * also holds a number, the keys of a map with an empty value), so that a broken field hides none of the rules.
 */
export interface RuleView {
  readonly name?: string;
  /** The `events` as written (undefined when it is not a list). */
  readonly events?: string[];
  readonly renamed: string[];
  readonly redact: string[];
  readonly hash: string[];
  readonly credentialKind?: unknown;
  readonly sourceId?: unknown;
}

export function ruleView(raw: Record<string, unknown>): RuleView {
  const fields = objectOr(raw.fields);
  const segment = objectOr(raw.segment);
  return {
    ...(typeof raw.name === 'string' ? { name: raw.name } : {}),
    ...(Array.isArray(raw.events) ? { events: stringsOf(raw.events) } : {}),
    renamed: Object.keys(objectOr(raw.eventNames)),
    redact: stringsOf(fields.redact),
    hash: stringsOf(fields.hash),
    credentialKind: objectOr(segment.credential).kind,
    sourceId: segment.sourceId,
  };
}

/** One connector's own rules beyond its fields' forms (see RuleView). */
export function connectorRules(v: RuleView): Finding[] {
  const out: Finding[] = [];
  if (v.name !== undefined && nameLimitViolations(v.name).length) {
    const limit = TIGHTEST_NAME_LIMIT;
    out.push({
      path: ['name'],
      message:
        `name is ${v.name.length} characters long; a connector name may have at most ${MAX_CONNECTOR_NAME_LENGTH}, ` +
        `so that every resource named after it fits GCP's limits (the ${limit.what} ${limit.template} may have at most ${limit.max}): shorten it`,
    });
  }
  const selection = v.events ? resolveSelection(v.events) : undefined;
  for (const u of selection?.unknown ?? []) {
    out.push({ path: ['events', v.events!.indexOf(u.name)], message: unknownSelection(u.name, u.suggestions) });
  }
  for (const r of selection?.refused ?? []) {
    out.push({
      path: ['events', v.events!.indexOf(r.name)],
      message: `events: '${r.name}' is never exported: ${r.reason}; remove it`,
    });
  }
  const selected = new Set(selection?.types);
  for (const key of v.renamed) {
    const t = canonicalType(key);
    if (!t) {
      const closest = didYouMean(suggestTypes(key));
      out.push({
        path: ['eventNames', key],
        message: `eventNames renames '${key}', which is not an exportable event type; ${closest ? `${closest} Fix` : `docs/events.md lists the ${CATALOG.length} types: fix`} the type or remove the rename`,
      });
    } else if (selection && !selected.has(t)) {
      out.push({
        path: ['eventNames', key],
        message: `eventNames renames '${key}', which this connector does not select; add it to events or remove the rename`,
      });
    }
  }
  for (const kind of ['redact', 'hash'] as const) {
    v[kind].forEach((f, i) => {
      const path = ['fields', kind, i];
      if (!KNOWN_FIELD_NAMES.has(f)) {
        const closest = didYouMean(suggest(f, KNOWN_FIELD_NAMES, 1));
        out.push({
          path,
          message: `fields.${kind}: '${f}' is not a Currents field of any exportable type; ${closest ? `${closest} Fix` : "docs/events.md lists each type's fields: fix"} or remove it`,
        });
      } else if (f === 'id' || f === 'time' || f === 'time_ms') {
        out.push({
          path,
          message: `fields.${kind}: '${f}' cannot be ${kind === 'redact' ? 'redacted' : 'hashed'}: it becomes the Segment messageId or timestamp, which deduplication and ordering need; remove it`,
        });
      } else if (kind === 'redact' && (f === 'user_id' || f === 'external_user_id')) {
        out.push({
          path,
          message: `fields.redact: '${f}' cannot be redacted: it becomes the Segment user id, and redacting it would merge every user into one; list it under fields.hash instead`,
        });
      }
    });
  }
  const both = v.redact.filter((f) => v.hash.includes(f));
  if (both.length) {
    out.push({
      path: ['fields'],
      message: `fields: ${both.map((f) => `'${f}'`).join(', ')} listed in both redact and hash; keep it in one of them`,
    });
  }
  if (v.sourceId !== undefined && v.credentialKind === 'oauth') {
    out.push({
      path: ['segment', 'sourceId'],
      message:
        "segment.sourceId is for write-key connectors (the source check); an OAuth credential's failures are seen at Segment's token server: remove it",
    });
  }
  return out;
}

/** The canonical event types a connector selects. */
export function selectedTypes(c: { readonly events: readonly string[] }): string[] {
  return resolveSelection(c.events).types;
}

/** The warning for a write-key connector without `segment.sourceId` (validate and plan-summary print it). */
export const NO_SOURCE_CHECK_WARNING =
  "write key without a source check (segment.sourceId): a revoked write key would be invisible: Segment answers 200 and discards the events; set segment.sourceId and the environment's Public API token";

/** The warning for a connector that opts in to a type not exported by default (validate and plan-summary print it). */
export const optInWarning = (type: string, reason: string): string =>
  `events: ${type} is exported because this connector names it, though it is not exported by default: ${reason}. Keep it only if these events are not in Segment already`;

/**
 * Warnings (not errors) about a valid connector: a write-key connector that nothing can see failing, and each opt-in
 * type it exports.
 */
export function connectorWarnings(c: Connector): Omit<ValidationError, 'environment'>[] {
  const out: Omit<ValidationError, 'environment'>[] = [];
  if (c.segment.credential.kind === 'writeKey' && c.segment.sourceId === undefined) {
    out.push({ connector: c.name, field: 'segment.sourceId', message: NO_SOURCE_CHECK_WARNING });
  }
  for (const o of resolveSelection(c.events).optedIn) {
    out.push({ connector: c.name, field: 'events', message: optInWarning(o.type, o.reason) });
  }
  return out;
}
