/**
 * The connector and environment schema: ONE typed, validated definition read by the infrastructure (CDKTF stacks), the
 * runtime (the Cloud Function's configuration) and the operator commands.
 *
 * Field-level rules live in the zod schemas (shared/connector-schema.ts, shared/environment.ts), and what each field
 * must be, in the product's words, in CONNECTOR_TEXTS / ENVIRONMENT_TEXTS (every message is said from those, never the
 * schema library's). A connector's own rules are in shared/connector-rules.ts; the rules across connectors (unique
 * names, workspace overlaps, doors, one project's names) are here, in `validateEnvironments`. Each field is parsed on
 * its own and every rule runs over the fields it needs that parsed, so one run reports every problem of every
 * connector, each naming the environment, the connector, the field, the allowed values or the closest match, and what
 * to do.
 */
import type { z } from 'zod';
import { doorLocationClashes, doorNameClashes } from './door';
import { deploymentFindings, residencyFindings } from './deployment';
import { EnvironmentSchema, ENVIRONMENT_TEXTS } from './environment';
import { type Connector, type ConnectorDefinition, ConnectorSchema, CONNECTOR_TEXTS } from './connector-schema';
import { connectorRules, listed, objectOr, type RuleView, ruleView, selectedTypes } from './connector-rules';
import { type Finding, parseFields } from './schema-messages';
import { ConnectorValidationError, quoted, toError, type ValidationError } from './validation-error';

export * from './connector-schema';
export { connectorWarnings, NO_SOURCE_CHECK_WARNING, optInWarning, selectedTypes } from './connector-rules';
export { ConnectorValidationError, formatValidationError, type ValidationError } from './validation-error';
export { REGIONS, type SegmentRegion } from './regions';

export { EnvironmentSchema, ENVIRONMENT_TEXTS } from './environment';

export type EnvironmentDefinition = Omit<z.input<typeof EnvironmentSchema>, 'connectors'> & {
  connectors: ConnectorDefinition[];
};
export type Environment = Omit<z.output<typeof EnvironmentSchema>, 'connectors'> & { connectors: Connector[] };

/** Typing helper for definition files. */
export const defineEnvironment = (e: EnvironmentDefinition): EnvironmentDefinition => e;

/** One connector's fields and own rules: the fields that parsed, what the rules read, and every problem. */
function checkConnector(input: unknown): { parts: Partial<Connector>; view: RuleView; findings: Finding[] } {
  const { data, findings } = parseFields(ConnectorSchema, input, CONNECTOR_TEXTS);
  const view = ruleView(objectOr(input));
  if (findings.length && !findings[0]!.path.length) return { parts: {}, view, findings };
  return { parts: data, view, findings: [...findings, ...connectorRules(view)] };
}

/** Parses and checks one connector on its own (no cross-connector rules). */
export function parseConnector(
  input: unknown,
  where: { environment?: string } = {},
): { connector?: Connector; errors: ValidationError[] } {
  const label = (input as { name?: unknown } | null)?.name;
  const base = { environment: where.environment, connector: typeof label === 'string' ? label : undefined };
  const { parts, findings } = checkConnector(input);
  return findings.length
    ? { errors: findings.map((f) => toError(f, base)) }
    : { connector: parts as Connector, errors: [] };
}

/** A connector of an environment as checked on its own: its label, position, parsed fields and what it selects. */
interface Checked {
  readonly label: string;
  readonly index: number;
  readonly parts: Partial<Connector>;
  readonly events?: string[];
  readonly ok: boolean;
}

/** Two connectors of one environment with the same name. */
function duplicateNames(checked: readonly Checked[], environment: string): ValidationError[] {
  const errors: ValidationError[] = [];
  const seen = new Map<string, number>();
  for (const c of checked) {
    if (c.label.startsWith('#')) continue;
    const first = seen.get(c.label);
    if (first === undefined) seen.set(c.label, c.index);
    else {
      errors.push({
        environment,
        connector: c.label,
        field: 'name',
        message: `name '${c.label}' is used by connectors #${first} and #${c.index}; names must be unique within an environment: rename one`,
      });
    }
  }
  return errors;
}

/** Braze sends an event of a workspace to only one of the connectors of the same kind that select its type. */
function workspaceOverlaps(checked: readonly Checked[], environment: string): ValidationError[] {
  const errors: ValidationError[] = [];
  const exporting = checked.filter((c) => c.parts.workspace !== undefined && c.events !== undefined);
  exporting.forEach((ca, a) => {
    for (const cb of exporting.slice(a + 1)) {
      if (ca.parts.workspace !== cb.parts.workspace || ca.label === cb.label) continue;
      const tb = new Set(selectedTypes({ events: cb.events! }));
      const overlap = selectedTypes({ events: ca.events! }).filter((t) => tb.has(t));
      if (!overlap.length) continue;
      errors.push({
        environment,
        connector: cb.label,
        field: 'events',
        message:
          `events overlap connector ${quoted(ca.label)} of the same Braze workspace '${cb.parts.workspace}' on ${overlap.length} event type(s): ` +
          `${listed(overlap, 5)}. Braze sends each event of a workspace to only one of its Segment connectors, so one ` +
          'of the two would silently miss these events: remove them from one of the connectors',
      });
    }
  });
  return errors;
}

/** Connectors of two environments in one project with the same name (their resources would share names). */
function projectNameClashes(
  checked: readonly Checked[],
  environment: string,
  project: string,
  namesByProject: Map<string, Map<string, string>>,
): ValidationError[] {
  const errors: ValidationError[] = [];
  const byName = namesByProject.get(project) ?? new Map<string, string>();
  for (const c of checked) {
    if (c.parts.name === undefined) continue;
    const other = byName.get(c.parts.name);
    if (other !== undefined && other !== environment) {
      errors.push({
        environment,
        connector: c.label,
        field: 'name',
        message: `name '${c.parts.name}' is also a connector of environment '${other}' in the same project '${project}': their cloud resources would have the same names; rename one`,
      });
    }
    byName.set(c.parts.name, environment);
  }
  namesByProject.set(project, byName);
  return errors;
}

/** The rules of one environment's doors: one door name per workspace, one location per door. */
function doorClashes(
  checked: readonly Checked[],
  environment: string,
  env: Partial<z.output<typeof EnvironmentSchema>>,
): ValidationError[] {
  const named = checked.flatMap((c) =>
    c.parts.name !== undefined && c.parts.workspace !== undefined
      ? [{ name: c.parts.name, workspace: c.parts.workspace }]
      : [],
  );
  const placed = checked.flatMap((c) => (c.ok ? [c.parts as Connector] : []));
  return [...doorNameClashes(named), ...doorLocationClashes(placed, env)].map((e) => ({ environment, ...e }));
}

/**
 * Validates a set of environments and reports every problem of every connector at once: each field of each connector
 * is checked on its own, and the rules across connectors run over the connectors whose fields they need parsed (unique
 * names, no two connectors of one Braze workspace selecting the same types, no two environments in one project with a
 * connector of the same name), so a broken field hides nothing else.
 */
export function validateEnvironments(inputs: readonly unknown[]): {
  environments: Environment[];
  errors: ValidationError[];
} {
  const errors: ValidationError[] = [];
  const environments: Environment[] = [];
  const envNames = new Set<string>();
  const namesByProject = new Map<string, Map<string, string>>();
  inputs.forEach((input, envIndex) => {
    const name = (input as { name?: unknown } | null)?.name;
    const envLabel = typeof name === 'string' ? name : `#${envIndex}`;
    const env = parseFields(EnvironmentSchema, input, ENVIRONMENT_TEXTS);
    const envFindings = [...env.findings, ...deploymentFindings(env.data)];
    errors.push(...envFindings.map((f) => toError(f, { environment: envLabel })));
    if (envNames.has(envLabel)) {
      errors.push({
        environment: envLabel,
        field: 'name',
        message: `name '${envLabel}' is used by two environments; rename one`,
      });
    }
    envNames.add(envLabel);
    const checked: Checked[] = (env.data.connectors ?? []).map((raw, i) => {
      const n = (raw as { name?: unknown } | null)?.name;
      const label = typeof n === 'string' ? n : `#${i}`;
      const checkedAlone = checkConnector(raw);
      const { parts, view } = checkedAlone;
      const findings = [...checkedAlone.findings, ...residencyFindings(parts, env.data)];
      errors.push(...findings.map((f) => toError(f, { environment: envLabel, connector: label })));
      return { label, index: i, parts, events: view.events, ok: findings.length === 0 };
    });
    errors.push(
      ...duplicateNames(checked, envLabel),
      ...workspaceOverlaps(checked, envLabel),
      ...doorClashes(checked, envLabel, env.data),
    );
    if (env.data.project !== undefined) {
      errors.push(...projectNameClashes(checked, envLabel, env.data.project, namesByProject));
    }
    if (!envFindings.length) {
      const connectors = checked.filter((c) => c.ok).map((c) => c.parts as Connector);
      environments.push({ ...(env.data as z.output<typeof EnvironmentSchema>), connectors });
    }
  });
  return { environments, errors };
}

/** Validates and returns the environments, or throws a ConnectorValidationError listing every problem. */
export function loadEnvironments(inputs: readonly unknown[]): Environment[] {
  const { environments, errors } = validateEnvironments(inputs);
  if (errors.length) throw new ConnectorValidationError(errors);
  return environments;
}
