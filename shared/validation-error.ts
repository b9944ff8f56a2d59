/** A problem in the connector definitions, where it is (environment, connector, field), and how it is said. */
import { fieldLabel, type Finding } from './schema-messages';

export interface ValidationError {
  readonly environment?: string;
  /** The connector's name, or `#N` (its position) when it has no name. */
  readonly connector?: string;
  /** The field the problem is about, as `segment.region` or `events[2]`. */
  readonly field?: string;
  /** A whole sentence naming the field: what is wrong, the allowed values or the closest match, and what to do. */
  readonly message: string;
}

/** A connector or environment as messages name it: `'email-eu'`, or `#2` (its position) when it has no name. */
export const quoted = (label: string): string => (label.startsWith('#') ? label : `'${label}'`);

/** `connector 'a' of environment 'dev': maxInstances must be a whole number from 1 to 1000 (you wrote 0); …` */
export function formatValidationError(e: ValidationError): string {
  const env = e.environment === undefined ? '' : `environment ${quoted(e.environment)}`;
  const where = e.connector === undefined ? env : `connector ${quoted(e.connector)}${env ? ` of ${env}` : ''}`;
  return where ? `${where}: ${e.message}` : e.message;
}

export class ConnectorValidationError extends Error {
  constructor(readonly errors: readonly ValidationError[]) {
    super(
      `${errors.length} problem${errors.length === 1 ? '' : 's'} in the connector definitions:\n` +
        errors.map((e) => `  - ${formatValidationError(e)}`).join('\n'),
    );
    this.name = 'ConnectorValidationError';
  }
}

/** A finding of the schema or a rule, placed in its environment and connector. */
export const toError = (f: Finding, where: { environment?: string; connector?: string }): ValidationError => ({
  ...where,
  ...(f.path.length ? { field: fieldLabel(f.path) } : {}),
  message: f.message,
});
