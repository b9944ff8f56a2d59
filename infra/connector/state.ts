/**
 * A connector's state: its own Firestore database (credential state and parked events, TTL on the parked events'
 * expiry field), the secret its Segment credential lives in, and, for `fields.hashAlgorithm: 'hmac-sha256'`, the secret
 * its hash key lives in (Terraform never creates a version of either).
 */
import { FirestoreDatabase } from '@cdktf/provider-google/lib/firestore-database';
import { FirestoreField } from '@cdktf/provider-google/lib/firestore-field';
import { SecretManagerSecret } from '@cdktf/provider-google/lib/secret-manager-secret';
import { FIRESTORE_LAYOUT } from '../../shared/names';
import type { ConnectorContext } from './props';

export interface ConnectorState {
  readonly database: FirestoreDatabase;
  readonly secret: SecretManagerSecret;
  /** The hash key of `fields.hashAlgorithm: 'hmac-sha256'` (that connector only). */
  readonly hashKeySecret?: SecretManagerSecret;
}

export function buildState(ctx: ConnectorContext): ConnectorState {
  const { scope, project, names, props, connector, labels } = ctx;
  const deleteProtection = props.deleteProtection;
  const database = new FirestoreDatabase(scope, 'database', {
    project,
    name: names.firestoreDatabase,
    locationId: props.firestoreLocation ?? ctx.location,
    type: 'FIRESTORE_NATIVE',
    deleteProtectionState: deleteProtection ? 'DELETE_PROTECTION_ENABLED' : 'DELETE_PROTECTION_DISABLED',
    deletionPolicy: deleteProtection ? 'ABANDON' : 'DELETE',
    ...ctx.dep('firestore'),
  });
  new FirestoreField(scope, 'parked-ttl', {
    project,
    database: database.name,
    collection: FIRESTORE_LAYOUT.parkedCollection,
    field: FIRESTORE_LAYOUT.parkedExpiryField,
    ttlConfig: {},
    // No single-field indexes on the expiry field: it is only ever read by the TTL policy (the provider's TTL example
    // pairs the two; an empty index_config turns the automatic ascending/descending/array indexes off).
    indexConfig: {},
  });
  const secret = new SecretManagerSecret(scope, 'credential-secret', {
    project,
    secretId: names.secret,
    labels: { ...labels, credential: connector.segment.credential.kind.toLowerCase() },
    replication: { auto: {} },
    ...ctx.dep('secretmanager'),
  });
  const hashKeySecret =
    connector.fields.hashAlgorithm === 'hmac-sha256'
      ? new SecretManagerSecret(scope, 'hash-key-secret', {
          project,
          secretId: names.hashKeySecret,
          labels: { ...labels, purpose: 'hash-key' },
          replication: { auto: {} },
          ...ctx.dep('secretmanager'),
        })
      : undefined;
  return { database, secret, ...(hashKeySecret ? { hashKeySecret } : {}) };
}

/** IAM condition restricting a project-level Firestore grant to one named database (and its documents). */
export function firestoreDatabaseCondition(project: string, database: string) {
  const db = `projects/${project}/databases/${database}`;
  return {
    title: `only-${database}`.slice(0, 100),
    description: `Firestore access limited to the database ${database}`,
    // Equality plus a prefix ending in '/': a bare startsWith(db) would also match databases named db + anything.
    expression: `resource.name == "${db}" || resource.name.startsWith("${db}/")`,
  };
}
