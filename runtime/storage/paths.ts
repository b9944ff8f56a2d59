/**
 * Braze's storage-export object names, with no I/O:
 * `<prefix>/dataexport.<cluster>.<connection-type>.integration.<integration-id>/event_type=<type>/date=<YYYY-MM-DD-HH>/<schema id>/<zone>/<file>.avro`.
 *
 * The event type is read from the `event_type=` path part when there is one, else from the writer schema's full name
 * (namespace `….inner.<type minus its last part>`, record name = the last part). The hour is read from `date=`. What a
 * connector imports: `.avro` objects under its prefix whose type it selects (decided from the path alone, before any
 * byte is read, whenever the path names the type).
 */
import { canonicalType, isCurrentsTypeName, refusalOf } from '../../shared/catalog';

/**
 * In a connector's set of selected types: the connector exports types the catalogue does not know
 * (`exportUnknownTypes`), so their objects are imported too. Not a type name (no dots).
 */
export const UNKNOWN_TYPES_SELECTED = '*unknown-types*';

export interface ObjectPathInfo {
  /** `event_type=` as written, when the path has it. */
  readonly eventType?: string;
  /** Start of the `date=` hour (UTC), when the path has a valid one. */
  readonly hour?: Date;
}

const DATE_PART = /^(\d{4})-(\d{2})-(\d{2})-(\d{2})$/;

/** Parses `YYYY-MM-DD-HH` (Braze's `date=`) or `YYYY-MM-DDTHH` (the CLI's `--from`/`--to`) as a UTC hour. */
export function parseHour(text: string): Date | undefined {
  const m = DATE_PART.exec(text.replace('T', '-'));
  if (!m) return undefined;
  const [y, mo, d, h] = [Number(m[1]), Number(m[2]), Number(m[3]), Number(m[4])];
  const date = new Date(Date.UTC(y, mo - 1, d, h));
  // Reject 2026-02-30 and hour 25, which Date would roll over.
  if (date.getUTCMonth() !== mo - 1 || date.getUTCDate() !== d || date.getUTCHours() !== h) return undefined;
  return date;
}

/** Formats a UTC hour the way Braze writes `date=`. */
export function formatHour(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getUTCFullYear()}-${p(d.getUTCMonth() + 1)}-${p(d.getUTCDate())}-${p(d.getUTCHours())}`;
}

export function parseObjectPath(name: string): ObjectPathInfo {
  let eventType: string | undefined;
  let hour: Date | undefined;
  for (const part of name.split('/')) {
    if (part.startsWith('event_type=')) eventType = part.slice('event_type='.length) || undefined;
    else if (part.startsWith('date=')) hour = parseHour(part.slice('date='.length));
  }
  return { ...(eventType ? { eventType } : {}), ...(hour ? { hour } : {}) };
}

/**
 * The event type named by a writer schema's full name: what follows `.inner.` (Braze's namespace pattern), else the part
 * from `users.` or `agentconsole.` on; undefined when the name says nothing recognisable.
 */
export function typeFromSchemaName(fullName: string | undefined): string | undefined {
  if (!fullName) return undefined;
  const inner = fullName.indexOf('.inner.');
  if (inner >= 0) return fullName.slice(inner + '.inner.'.length) || undefined;
  const m = /(?:^|\.)((?:users|agentconsole)\..+)$/.exec(fullName);
  return m?.[1];
}

/** Braze's object name for one file (the local stand-ins and tests write files under this layout). */
export function brazeObjectName(opts: {
  prefix: string;
  eventType: string;
  hour: Date;
  file: string;
  integration?: string;
  schemaId?: string;
  zone?: string;
}): string {
  const root = `dataexport.prod-01.GCS.integration.${opts.integration ?? '0123456789abcdef'}`;
  const prefix = opts.prefix.replace(/\/+$/, '');
  return [
    ...(prefix ? [prefix] : []),
    root,
    `event_type=${opts.eventType}`,
    `date=${formatHour(opts.hour)}`,
    opts.schemaId ?? '1',
    opts.zone ?? 'us-east-1',
    opts.file.endsWith('.avro') ? opts.file : `${opts.file}.avro`,
  ].join('/');
}

/** How one object relates to a connector's selection. */
export type Relevance =
  | { readonly import: true; readonly eventType?: string }
  | { readonly import: false; readonly reason: 'not_avro' | 'not_selected' | 'not_exportable' | 'outside_period' };

/**
 * Whether an object is to be read for a connector: an `.avro` object whose path type (if any) is selected and whose
 * `date=` hour (if a period is given) lies in [from, to). A type the path does not name is decided after the header.
 */
export function relevance(name: string, selected: ReadonlySet<string>, period?: { from: Date; to: Date }): Relevance {
  if (!name.endsWith('.avro')) return { import: false, reason: 'not_avro' };
  const info = parseObjectPath(name);
  if (period) {
    if (!info.hour || info.hour < period.from || info.hour >= period.to)
      return { import: false, reason: 'outside_period' };
  }
  if (info.eventType === undefined) return { import: true };
  return (
    typeDecision(info.eventType, selected) ?? {
      import: true,
      eventType: canonicalType(info.eventType) ?? info.eventType,
    }
  );
}

/** undefined when the type is selected (or unknown, and unknown types are); else why it is skipped. */
export function typeDecision(
  eventType: string,
  selected: ReadonlySet<string>,
): { import: false; reason: 'not_selected' | 'not_exportable' } | undefined {
  const canonical = canonicalType(eventType);
  if (!canonical) {
    const generic =
      selected.has(UNKNOWN_TYPES_SELECTED) && isCurrentsTypeName(eventType) && refusalOf(eventType)?.kind === 'unknown';
    return generic ? undefined : { import: false, reason: 'not_exportable' };
  }
  if (!selected.has(canonical)) return { import: false, reason: 'not_selected' };
  return undefined;
}
