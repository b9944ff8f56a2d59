/**
 * The schema library's findings about a definition, in the product's words. Each field of a schema has a text (what it
 * must be, why or what to do, its allowed values); every finding is said from that text and the value the author wrote,
 * whatever the library's issue code:
 *  - a required field that is missing: "`contactEmail` is required: it must be …", or, when an unknown field beside it
 *    is a misspelling of it, "contactEmail is required; did you mean `contactEmail` (you wrote `contactemail`)?";
 *  - a field that is not one of the fields: "unknown field `x`; did you mean `y`?" (or the list of fields);
 *  - any other finding (wrong type, too small or big, bad format, not an allowed value, a refinement): "`field` must be
 *    <its rule> (you wrote <value>)", with the closest allowed value when the field has a list of them.
 * A field gets one message however many rules its value breaks. Pure; no I/O.
 */
import type { z } from 'zod';
import { didYouMean, suggest } from './suggest';

export type Path = readonly (string | number)[];

/** What a field must be, in the product's words. */
export interface FieldText {
  /** Completes "<field> must be …", e.g. "a whole number from 1 to 1000". */
  readonly must: string;
  /** Why, or what to do, said after the rule. */
  readonly hint?: string;
  /** The allowed values, for the closest match to a wrong one. */
  readonly values?: readonly string[];
  /** Never repeat the value written (fields next to credentials). */
  readonly quiet?: boolean;
}

/**
 * The texts of a schema's fields by path: `segment.region`, `events[]` for the items of a list, `eventNames.*` for the
 * values of a map, '' for the object itself. The keys of a path's direct children are the fields an object may have.
 */
export type FieldTexts = Readonly<Record<string, FieldText>>;

export interface Finding {
  readonly path: Path;
  readonly message: string;
}

type Issue = z.core.$ZodIssue;

/** How a path is written in a message: `segment.region`, `events[2]`, `eventNames.users.messages.sms.Send`. */
export function fieldLabel(path: Path): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');
}

/** The key of `path` in `texts` (list indices become `[]`, map keys `*`). */
export function textKey(path: Path, texts: FieldTexts): string {
  let key = '';
  for (const p of path) {
    if (typeof p === 'number') key += '[]';
    else {
      const exact = key ? `${key}.${p}` : p;
      key = exact in texts || !(`${key}.*` in texts) ? exact : `${key}.*`;
    }
  }
  return key;
}

function valueAt(input: unknown, path: Path): unknown {
  let v = input;
  for (const p of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string | number, unknown>)[p];
  }
  return v;
}

/** The value written, as a message shows it (strings quoted and cut short; lists and objects named, not printed). */
export function shown(value: unknown): string {
  if (typeof value === 'string') return `'${value.length > 60 ? `${value.slice(0, 57)}…` : value}'`;
  if (Array.isArray(value)) return value.length ? `a list of ${value.length}` : 'an empty list';
  if (value === null) return 'null';
  if (typeof value === 'object') return 'an object';
  return String(value);
}

/** The fields an object at `parent` may have, from the texts. */
function fieldsOf(parentKey: string, texts: FieldTexts): string[] {
  const prefix = parentKey ? `${parentKey}.` : '';
  return Object.keys(texts)
    .filter((k) => k.startsWith(prefix) && k !== parentKey)
    .map((k) => k.slice(prefix.length))
    .filter((k) => k && !/[.[*]/.test(k));
}

const SECRETISH = /key|secret|token|password/i;

/** The values an issue says are allowed (an enum's, or a discriminated union's options). */
function allowedValues(issue: Issue): string[] {
  if (issue.code === 'invalid_value') return issue.values.map(String);
  if (issue.code === 'invalid_union' && 'options' in issue) return (issue.options as unknown[]).map(String);
  return [];
}

/** The product's messages for a set of issues about `input` (paths relative to it). */
export function describeIssues(issues: readonly Issue[], input: unknown, texts: FieldTexts): Finding[] {
  const findings: Finding[] = [];
  const textOf = (path: Path): FieldText => texts[textKey(path, texts)] ?? { must: 'a valid value' };
  const unknown: { parent: Path; key: string }[] = [];
  const byField = new Map<string, { path: Path; issues: Issue[] }>();
  for (const issue of issues) {
    const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) unknown.push({ parent: path, key });
      continue;
    }
    const label = fieldLabel(path);
    const entry = byField.get(label) ?? { path, issues: [] };
    entry.issues.push(issue);
    byField.set(label, entry);
  }

  const explained = new Set<(typeof unknown)[number]>();
  for (const [label, { path, issues: its }] of byField) {
    const value = valueAt(input, path);
    const text = textOf(path);
    const hint = text.hint ? `; ${text.hint}` : '';
    if (value === undefined && path.length) {
      const name = path[path.length - 1];
      const parent = fieldLabel(path.slice(0, -1));
      const misspelt = unknown.find(
        (u) =>
          !explained.has(u) &&
          fieldLabel(u.parent) === parent &&
          suggest(u.key, [String(name)]).length &&
          (!SECRETISH.test(u.key) || u.key.toLowerCase() === String(name).toLowerCase()),
      );
      if (misspelt) {
        explained.add(misspelt);
        findings.push({
          path,
          message: `${label} is required; did you mean \`${String(name)}\` (you wrote \`${misspelt.key}\`)? Rename it`,
        });
      } else findings.push({ path, message: `${label} is required: it must be ${text.must}${hint}` });
      continue;
    }
    const listed = its.flatMap(allowedValues);
    const allowed = listed.length ? listed : (text.values ?? []);
    const closest = typeof value === 'string' && allowed.length ? didYouMean(suggest(value, allowed, 1)) : '';
    const wrote = text.quiet && !closest ? '' : ` (you wrote ${shown(value)})`;
    const then = closest ? `. ${closest[0]!.toUpperCase()}${closest.slice(1)}` : '';
    findings.push({ path, message: `${label} must be ${text.must}${wrote}${hint}${then}` });
  }

  for (const u of unknown) {
    if (explained.has(u)) continue;
    const path = [...u.parent, u.key];
    const label = fieldLabel(path);
    const known = fieldsOf(textKey(u.parent, texts), texts);
    const [closest] = suggest(u.key, known, 1);
    // A field named like a secret is a credential value unless it is a known field but for case (`keyid`): renaming it
    // as suggested would only move the value elsewhere in code.
    if (SECRETISH.test(u.key) && closest?.toLowerCase() !== u.key.toLowerCase()) {
      findings.push({
        path,
        message: `unknown field \`${label}\`: credential values never go in code (they live in the connector's Secret Manager secret); remove it`,
      });
    } else if (closest === undefined) {
      findings.push({
        path,
        message: `unknown field \`${label}\`: remove it (the fields here are ${known.join(', ')})`,
      });
    } else if (valueAt(input, [...u.parent, closest]) !== undefined) {
      findings.push({ path, message: `unknown field \`${label}\`: remove it (\`${closest}\` is set beside it)` });
    } else {
      findings.push({ path, message: `unknown field \`${label}\`; ${didYouMean([closest])} Rename it` });
    }
  }
  return findings;
}

/**
 * Parses each field of an object schema on its own, so that a field that fails hides no other: returns the fields that
 * parsed (defaults applied) and a finding for every problem of every field, unknown fields included.
 */
export function parseFields<S extends z.ZodObject>(
  schema: S,
  input: unknown,
  texts: FieldTexts,
): { data: Partial<z.output<S>>; findings: Finding[] } {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    const must = texts['']?.must ?? 'an object';
    return { data: {}, findings: [{ path: [], message: `must be ${must} (you wrote ${shown(input)})` }] };
  }
  const object = input as Record<string, unknown>;
  const shape = schema.shape as Record<string, z.ZodType>;
  const data: Record<string, unknown> = {};
  const issues: Issue[] = [];
  for (const [key, field] of Object.entries(shape)) {
    const r = field.safeParse(object[key]);
    if (!r.success) issues.push(...r.error.issues.map((i) => ({ ...i, path: [key, ...i.path] }) as Issue));
    else if (r.data !== undefined) data[key] = r.data;
  }
  const extra = Object.keys(object).filter((k) => !(k in shape));
  if (extra.length) issues.push({ code: 'unrecognized_keys', keys: extra, path: [], message: '', input: object });
  return {
    data: data as Partial<z.output<S>>,
    findings: describeIssues(issues, object, texts),
  };
}
