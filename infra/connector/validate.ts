/**
 * The ONE place the construct's props are checked, by a zod schema (the project's validator): every problem is
 * reported at once, each naming the field, the value and what it must be. The connector itself is re-checked with the
 * shared schema (shared/connector.ts). Parsing also applies the defaults (shared/defaults.ts), so the `build*` helpers
 * read resolved props.
 */
import { z } from 'zod';
import { formatValidationError, parseConnector } from '../../shared/connector';
import { CONNECTOR_DEFAULTS, RECEIVER_DEFAULTS } from '../../shared/defaults';
import { functionTimeoutProblem, MIN_RECEIVER_TIMEOUT_SECONDS } from '../../shared/policy';
import { ConnectorPropsError, type CurrentsConnectorProps, type ResolvedConnectorProps } from './props';

/** How a message quotes the value it refuses: strings in quotes, numbers bare, objects as JSON. */
const shown = (value: unknown) =>
  typeof value === 'string' ? `'${value}'` : typeof value === 'object' ? JSON.stringify(value) : String(value);
/** An error callback saying `<field> <value> <rule>`. */
const says = (field: string, rule: string) => ({
  error: (issue: { input?: unknown }) => `${field} ${shown(issue.input)} ${rule}`,
});

const wholeNumber = (field: string, min: number, max: number, rule: string) =>
  z.number(says(field, rule)).refine((n) => Number.isInteger(n) && n >= min && n <= max, says(field, rule));
const text = (field: string, ok: (s: string) => boolean, rule: string) =>
  z.string(says(field, rule)).refine(ok, says(field, rule));
const matching = (field: string, pattern: RegExp, rule: string) => text(field, (s) => pattern.test(s), rule);

const MEMORY = /^\d+(Mi|Gi|M|G)$/;
const GOOGLE_SECONDS = /^(\d+(?:\.\d{1,9})?)s$/;
const CRON = /^\S+( \S+){4}$/;
const CPUS = /^\d+(\.\d+)?$/;
const seconds = (d: string) => Number(GOOGLE_SECONDS.exec(d)![1]);

const MIN_INSTANCES_RULE = 'must be a whole number between 0 and receiver.maxInstances';
const RECEIVER_SCHEMA = z
  .object({
    concurrency: wholeNumber('receiver.concurrency', 1, 1000, 'must be between 1 and 1000').default(
      RECEIVER_DEFAULTS.concurrency,
    ),
    cpu: text(
      'receiver.cpu',
      (cpu) => CPUS.test(cpu) && Number(cpu) > 0,
      "must be a number of CPUs such as '1' or '2'",
    ).default(RECEIVER_DEFAULTS.cpu),
    memory: matching('receiver.memory', MEMORY, 'must look like 512Mi or 1Gi').default(RECEIVER_DEFAULTS.memory),
    maxInstances: wholeNumber('receiver.maxInstances', 1, Infinity, 'must be a whole number ≥ 1').default(
      RECEIVER_DEFAULTS.maxInstances,
    ),
    minInstances: wholeNumber('receiver.minInstances', 0, Infinity, MIN_INSTANCES_RULE).default(
      RECEIVER_DEFAULTS.minInstances,
    ),
    timeoutSeconds: wholeNumber(
      'receiver.timeoutSeconds',
      MIN_RECEIVER_TIMEOUT_SECONDS,
      3600,
      `must be a whole number between ${MIN_RECEIVER_TIMEOUT_SECONDS} and 3600 ` +
        '(the receiver keeps 5 s after a publish timed out to answer 503)',
    ).default(RECEIVER_DEFAULTS.timeoutSeconds),
    refusalsAlertThreshold: wholeNumber(
      'receiver.refusalsAlertThreshold',
      1,
      Infinity,
      'must be a whole number ≥ 1',
    ).default(RECEIVER_DEFAULTS.refusalsAlertThreshold),
  })
  .superRefine((r, ctx) => {
    // Rules across fields, checked once each field's own rule holds.
    if (CPUS.test(r.cpu) && Number(r.cpu) < 1 && r.concurrency > 1) {
      ctx.addIssue({
        code: 'custom',
        message: `receiver.cpu '${r.cpu}' must be at least '1' when receiver.concurrency is above 1 (Cloud Run's rule)`,
      });
    }
    if (r.minInstances > r.maxInstances) {
      ctx.addIssue({ code: 'custom', message: `receiver.minInstances ${r.minInstances} ${MIN_INSTANCES_RULE}` });
    }
  });

const BACKOFF_RULE = "must be durations in seconds such as '10s' and '600s'";
const PROPS_SCHEMA = z
  .object({
    connector: z.custom<Pick<CurrentsConnectorProps['connector'], 'storage'>>(),
    runtime: text(
      'runtime',
      (r) => Number(/^nodejs(\d+)$/.exec(r)?.[1] ?? 0) >= 22,
      'is not supported: use nodejs22 or later',
    ).default(CONNECTOR_DEFAULTS.runtime),
    timeoutSeconds: z
      .number(says('timeoutSeconds', 'must be a whole number'))
      .superRefine((t, ctx) => {
        const problem = functionTimeoutProblem(t);
        if (problem) ctx.addIssue({ code: 'custom', message: problem });
      })
      .default(CONNECTOR_DEFAULTS.timeoutSeconds),
    memory: matching('memory', MEMORY, 'must look like 512Mi or 1Gi').default(CONNECTOR_DEFAULTS.memory),
    retryBackoff: z
      .object({ minimum: z.string(), maximum: z.string() }, says('retryBackoff', BACKOFF_RULE))
      .refine(
        (b) => GOOGLE_SECONDS.test(b.minimum) && GOOGLE_SECONDS.test(b.maximum),
        says('retryBackoff', BACKOFF_RULE),
      )
      .refine(
        (b) =>
          !GOOGLE_SECONDS.test(b.minimum) ||
          !GOOGLE_SECONDS.test(b.maximum) ||
          (seconds(b.minimum) <= seconds(b.maximum) && seconds(b.maximum) <= 600),
        says('retryBackoff', 'must satisfy 0s ≤ minimum ≤ maximum ≤ 600s'),
      )
      .default(CONNECTOR_DEFAULTS.retryBackoff),
    probeSchedule: text(
      'probeSchedule',
      (schedule) => CRON.test(schedule.trim()),
      "must be a five-field cron expression such as '*/3 * * * *'",
    ).default(CONNECTOR_DEFAULTS.probeSchedule),
    deleteProtection: z
      .boolean(says('deleteProtection', 'must be true or false'))
      .default(CONNECTOR_DEFAULTS.deleteProtection),
    firestoreLocation: z
      .string()
      .refine((l) => l.trim() !== '', {
        error: 'firestoreLocation must not be empty (omit it to use the environment region)',
      })
      .optional(),
    // A token (`${...}`) stands for an email known at apply time.
    pubsubServiceAgentEmail: text(
      'pubsubServiceAgentEmail',
      (email) => /^[^@\s]+@[^@\s]+$/.test(email) || email.includes('${'),
      'is not a service account email',
    ),
    receiver: RECEIVER_SCHEMA.prefault({}),
    importerSource: z.object({ bucket: z.string(), object: z.string() }).optional(),
  })
  .superRefine((p, ctx) => {
    if (p.connector.storage && !p.importerSource) {
      ctx.addIssue({
        code: 'custom',
        message: "importerSource is required: the connector has 'storage' (the storage importer's source archive)",
      });
    }
  });

/** Every problem of the props (the connector's, by the shared schema, first); empty when they are valid. */
export function validateConnectorProps(props: CurrentsConnectorProps): string[] {
  return check(props).problems;
}

/** The props with their defaults applied; throws a ConnectorPropsError listing every problem. */
export function resolveConnectorProps(props: CurrentsConnectorProps): ResolvedConnectorProps {
  const { problems, resolved } = check(props);
  if (!resolved) throw new ConnectorPropsError(props.connector.name, problems);
  return resolved;
}

function check(props: CurrentsConnectorProps): { problems: string[]; resolved?: ResolvedConnectorProps } {
  const { errors } = parseConnector(props.connector, { environment: props.environment.name });
  const parsed = PROPS_SCHEMA.safeParse(props);
  const problems = [...errors.map(formatValidationError), ...(parsed.error?.issues.map((i) => i.message) ?? [])];
  if (problems.length || !parsed.success) return { problems };
  return { problems, resolved: { ...props, ...parsed.data, connector: props.connector } };
}
