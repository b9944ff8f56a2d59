/**
 * The environment schema: one CDKTF stack per environment (its project, region, Terraform state, how CI deploys it, its
 * Firestore delete protection and its connectors, which shared/connector.ts checks one by one). Pure; no I/O.
 */
import { z } from 'zod';
import { BackendSchema, DeploySchema, DEPLOYMENT_TEXTS, REGION_PATTERN } from './deployment';
import type { FieldTexts } from './schema-messages';

export const EnvironmentSchema = z.strictObject({
  name: z.string().regex(/^[a-z][a-z0-9-]{0,29}$/),
  project: z.string().regex(/^[a-z][a-z0-9-]{4,28}[a-z0-9]$/),
  region: z.string().regex(REGION_PATTERN),
  backend: BackendSchema.optional(),
  /** How CI deploys this environment (shared/deployment.ts); CI deploys exactly the environments that have it. */
  deploy: DeploySchema.optional(),
  /**
   * Delete protection of the connectors' Firestore databases (state and parked events): on unless the environment turns
   * it off, whatever its name. When on, `terraform destroy` abandons the databases instead of deleting them.
   */
  deleteProtection: z.boolean().default(true),
  connectors: z.array(z.unknown()),
});

/** What each environment field must be, in the product's words (as CONNECTOR_TEXTS for connectors). */
export const ENVIRONMENT_TEXTS: FieldTexts = {
  '': { must: 'an environment definition: an object { name, project, region, connectors, … }' },
  name: {
    must: "lowercase letters, digits and hyphens, starting with a letter, at most 30 characters, such as 'dev'",
  },
  project: {
    must: 'a Google Cloud project id: 6 to 30 lowercase letters, digits and hyphens, starting with a letter and not ending with a hyphen',
    hint: 'the project this environment deploys to',
  },
  region: { must: 'a Google Cloud region such as europe-west1 or us-central1' },
  ...DEPLOYMENT_TEXTS,
  deleteProtection: {
    must: 'true or false',
    hint: "whether the connectors' Firestore databases survive `terraform destroy`",
  },
  connectors: { must: 'a list of connector definitions' },
};
