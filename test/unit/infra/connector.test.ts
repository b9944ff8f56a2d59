/**
 * What one connector becomes: every resource with its key properties, asserted on the synthesized Terraform JSON of
 * the example environments (one synth for the whole file) and with cdktf's matchers on a construct synthesized alone.
 */
import { Testing } from 'cdktf';
import { setupJest } from 'cdktf/lib/testing/adapters/jest';
import { Cloudfunctions2Function } from '@cdktf/provider-google/lib/cloudfunctions2-function';
import { CloudSchedulerJob } from '@cdktf/provider-google/lib/cloud-scheduler-job';
import { FirestoreDatabase } from '@cdktf/provider-google/lib/firestore-database';
import { FirestoreField } from '@cdktf/provider-google/lib/firestore-field';
import { PubsubSubscription } from '@cdktf/provider-google/lib/pubsub-subscription';
import { SecretManagerSecretVersion } from '@cdktf/provider-google/lib/secret-manager-secret-version';
import { environments } from '../../fixtures/definitions';
import { CurrentsConnector } from '../../../infra/connector';
import { ConnectorPropsError, type CurrentsConnectorProps } from '../../../infra/connector/props';
import { firestoreDatabaseCondition } from '../../../infra/connector/state';
import { loadEnvironments } from '../../../shared/connector';
import { FIRESTORE_LAYOUT, resourceNames } from '../../../shared/names';
import { parseRuntimeConfig } from '../../../shared/runtime-config';
import { connectorResources, type Json, refOf, resources, synthEnvironments } from '../../support/infra/helpers';

setupJest();

const synth = synthEnvironments(environments);
const prod = synth.stacks.prod!.json;
const prodEnv = synth.environments.find((e) => e.name === 'prod')!;
const messaging = prodEnv.connectors.find((c) => c.name === 'messaging-us')!;
const names = resourceNames('messaging-us');
const byName = (type: string, name: string, key = 'name') =>
  resources(prod, type).find((r) => r[key] === name) ?? fail(`no ${type} named ${name}`);
function fail(message: string): never {
  throw new Error(message);
}
const fnRef = (attr: string) => refOf(prod, 'google_cloudfunctions2_function', (r) => r.name === names.function, attr);
const saRef = (accountId: string, attr: string) =>
  refOf(prod, 'google_service_account', (r) => r.account_id === accountId, attr);

describe('one connector (prod/messaging-us)', () => {
  it('declares the same resources for every connector (its door belongs to its workspace)', () => {
    const counts = prodEnv.connectors.map((c) => {
      const byType: Record<string, number> = {};
      for (const r of connectorResources(prod, c.name)) byType[r.type] = (byType[r.type] ?? 0) + 1;
      return byType;
    });
    expect(counts[0]).toEqual({
      google_pubsub_topic: 2,
      google_pubsub_subscription: 2,
      google_service_account: 3,
      google_cloudfunctions2_function: 1,
      google_firestore_database: 1,
      google_firestore_field: 1,
      google_secret_manager_secret: 1,
      google_cloud_scheduler_job: 1,
      google_monitoring_notification_channel: 1,
      google_logging_metric: 6 + 10, // alerted + the dashboard's own
      google_monitoring_alert_policy: 6,
      time_sleep: 1, // the alert policies wait until their new metrics can be queried
      google_secret_manager_secret_iam_member: 1,
      google_pubsub_topic_iam_member: 2, // the dead-letter topic's two publishers (the door's grant is the door's)
      google_project_iam_member: 1,
      google_cloud_run_v2_service_iam_member: 2,
      google_pubsub_subscription_iam_member: 1,
      google_service_account_iam_member: 1,
    });
    for (const c of counts) expect(c).toEqual(counts[0]);
  });

  it('has an ingest topic and a dead-letter topic with a retained, never-expiring pull subscription', () => {
    byName('google_pubsub_topic', names.ingestTopic);
    const dl = byName('google_pubsub_topic', names.deadLetterTopic);
    expect(dl.labels).toMatchObject({ connector: 'messaging-us', environment: 'prod' });
    const hold = byName('google_pubsub_subscription', names.deadLetterSubscription);
    expect(hold).toMatchObject({
      topic: refOf(prod, 'google_pubsub_topic', (r) => r.name === names.deadLetterTopic, 'id'),
      retain_acked_messages: true,
      message_retention_duration: '604800s',
      expiration_policy: { ttl: '' },
    });
    expect(hold.push_config).toBeUndefined();
  });

  it('pushes to the function with OIDC, retry backoff, the dead-letter policy and an ack deadline = the timeout + 20 s', () => {
    const push = byName('google_pubsub_subscription', names.pushSubscription);
    const fn = byName('google_cloudfunctions2_function', names.function);
    expect(push).toMatchObject({
      topic: refOf(prod, 'google_pubsub_topic', (r) => r.name === names.ingestTopic, 'id'),
      ack_deadline_seconds: ((fn.service_config as Json).timeout_seconds as number) + 20,
      retry_policy: { minimum_backoff: '10s', maximum_backoff: '600s' },
      dead_letter_policy: {
        dead_letter_topic: refOf(prod, 'google_pubsub_topic', (r) => r.name === names.deadLetterTopic, 'id'),
        max_delivery_attempts: messaging.deadLetterMaxAttempts,
      },
      push_config: {
        push_endpoint: fnRef('service_config[0].uri'),
        oidc_token: {
          service_account_email: saRef(names.pushServiceAccount, 'email'),
          audience: fnRef('service_config[0].uri'),
        },
      },
      expiration_policy: { ttl: '' },
    });
  });

  it('runs a 2nd-gen function: nodejs22+, internal ingress, own service account, maxInstances from the connector', () => {
    const fn = byName('google_cloudfunctions2_function', names.function);
    expect(fn).toMatchObject({
      location: 'us-central1',
      build_config: {
        runtime: 'nodejs22',
        entry_point: 'currents',
        source: {
          storage_source: {
            bucket: '${google_storage_bucket.function-source-bucket.name}',
            object: '${google_storage_bucket_object.function-source-object.name}',
          },
        },
      },
      service_config: {
        ingress_settings: 'ALLOW_INTERNAL_ONLY',
        service_account_email: saRef(names.runtimeServiceAccount, 'email'),
        max_instance_count: 20,
        timeout_seconds: 60,
      },
    });
    for (const f of resources(prod, 'google_cloudfunctions2_function')) {
      const receiver = (f.build_config as Json).entry_point === 'receiver';
      expect((f.service_config as Json).ingress_settings).toBe(receiver ? 'ALLOW_ALL' : 'ALLOW_INTERNAL_ONLY');
      expect(Number(/^nodejs(\d+)$/.exec((f.build_config as Json).runtime as string)![1])).toBeGreaterThanOrEqual(22);
    }
  });

  it('configures the function from the same definition: its environment parses back into the connector', () => {
    for (const env of synth.environments) {
      const json = synth.stacks[env.name]!.json;
      for (const [connector, name] of env.connectors.flatMap((c) => {
        const n = resourceNames(c.name);
        return [[c, n.function] as const];
      })) {
        const fn = resources(json, 'google_cloudfunctions2_function').find((f) => f.name === name)!;
        const vars = (fn.service_config as Json).environment_variables as Record<string, string>;
        const config = parseRuntimeConfig(vars);
        expect(config.connector).toEqual(connector);
        expect(config.environment).toBe(env.name);
        expect(config.project).toBe(env.project);
        expect(config.names.firestoreDatabase).toBe(resourceNames(connector.name).firestoreDatabase);
        expect(config.secretSource).toBe('secret-manager');
        // The local-only overrides (Segment URL, token URL, movable clock, delivery budget) never reach a deployment.
        expect(config).toMatchObject({ testClock: false });
        expect(config.segmentBaseUrl).toBeUndefined();
        expect(config.segmentTokenUrl).toBeUndefined();
        expect(config.deliveryBudgetMs).toBeUndefined();
        expect(Object.keys(vars).sort()).toEqual([
          'CURRENTS_CONNECTOR',
          'CURRENTS_ENVIRONMENT',
          'CURRENTS_TIMEOUT_SECONDS',
          'GOOGLE_CLOUD_PROJECT',
        ]);
      }
    }
  });

  it('has its own native-mode Firestore database, protected in production, with a TTL on parked events', () => {
    const db = byName('google_firestore_database', names.firestoreDatabase);
    expect(db).toMatchObject({
      type: 'FIRESTORE_NATIVE',
      location_id: 'us-central1',
      delete_protection_state: 'DELETE_PROTECTION_ENABLED',
      deletion_policy: 'ABANDON',
    });
    // dev turns it off explicitly (the fixture test/fixtures/definitions/dev.ts, `deleteProtection: false`).
    const devDb = resources(synth.stacks.dev!.json, 'google_firestore_database')[0]!;
    expect(devDb.delete_protection_state).toBe('DELETE_PROTECTION_DISABLED');
    const ttl = resources(prod, 'google_firestore_field').find(
      (f) => f.database === refOf(prod, 'google_firestore_database', (r) => r.name === names.firestoreDatabase, 'name'),
    )!;
    expect(ttl).toMatchObject({
      collection: FIRESTORE_LAYOUT.parkedCollection,
      field: FIRESTORE_LAYOUT.parkedExpiryField,
      ttl_config: {},
    });
  });

  it('has a credential secret with no version in Terraform', () => {
    expect(byName('google_secret_manager_secret', names.secret, 'secret_id')).toMatchObject({
      replication: { auto: {} },
    });
    for (const env of Object.values(synth.stacks)) {
      expect(env.json.resource.google_secret_manager_secret_version).toBeUndefined();
      expect(env.text).not.toHaveResource(SecretManagerSecretVersion);
    }
  });

  it('has a hash-key secret, readable by the runtime only, for a connector that hashes with hmac-sha256 only', () => {
    const keyed = (name: string, hashAlgorithm?: string) => ({
      ...messaging,
      name,
      workspace: `ws-${name}`,
      fields: { redact: [], hash: ['email_address'], ...(hashAlgorithm ? { hashAlgorithm } : {}) },
    });
    const { stacks } = synthEnvironments([
      {
        name: 'hk',
        project: 'hash-key-project',
        region: 'us-central1',
        connectors: [keyed('hm', 'hmac-sha256'), keyed('pl')],
      },
    ]);
    const json = stacks.hk!.json;
    const secrets = resources(json, 'google_secret_manager_secret').map((r) => r.secret_id);
    expect(secrets).toContain(resourceNames('hm').hashKeySecret);
    expect(secrets).not.toContain(resourceNames('pl').hashKeySecret);
    const accessors = connectorResources(json, 'hm').filter(
      (r) => r.type === 'google_secret_manager_secret_iam_member',
    );
    const onKey = accessors.filter((r) => String(r.body.secret_id).includes('hash-key-secret'));
    expect(onKey).toHaveLength(1);
    expect(onKey[0]!.body).toMatchObject({ role: 'roles/secretmanager.secretAccessor' });
    expect(onKey[0]!.body.member).toBe(
      refOf(
        json,
        'google_service_account',
        (r) => r.account_id === resourceNames('hm').runtimeServiceAccount,
        'member',
      ),
    );
    expect(json.resource.google_secret_manager_secret_version).toBeUndefined();
  });

  it('probes every few minutes with OIDC on the function’s /probe path', () => {
    const job = byName('google_cloud_scheduler_job', names.schedulerJob);
    expect(job).toMatchObject({
      region: 'us-central1',
      schedule: '*/3 * * * *',
      http_target: {
        uri: `${fnRef('service_config[0].uri')}/probe`,
        http_method: 'POST',
        oidc_token: {
          service_account_email: saRef(names.schedulerServiceAccount, 'email'),
          audience: fnRef('service_config[0].uri'),
        },
      },
    });
  });

  it('emails the contact, with log-based metrics on the runtime’s events and an alert on each', () => {
    // messaging-us and journeys-us share a contact address: each connector still has its own channel.
    const [channel, ...others] = connectorResources(prod, 'messaging-us').filter(
      (r) => r.type === 'google_monitoring_notification_channel',
    );
    expect(others).toHaveLength(0);
    expect(channel!.body).toMatchObject({ type: 'email', labels: { email_address: messaging.contactEmail } });
    // The alerted metrics (the dashboard's own are checked in dashboard.test.ts).
    const metrics = connectorResources(prod, 'messaging-us').filter(
      (r) => r.type === 'google_logging_metric' && !r.id.includes('_dashboard-metric-'),
    );
    const events = metrics.map((m) => /jsonPayload\.event="([a-z_]+)"/.exec(m.body.filter as string)![1]).sort();
    expect(events).toEqual([
      'credential_failure',
      'credential_unverified',
      'dead_lettered',
      'events_dropped',
      'state_unavailable',
      'unknown_event_type',
    ]);
    for (const m of metrics) {
      expect(m.body.filter).toContain(`resource.labels.service_name="${names.function}"`);
      expect(m.body.filter).toContain('jsonPayload.connector="messaging-us"');
      expect(m.body.filter).toContain('resource.type="cloud_run_revision"');
      expect(m.body.metric_descriptor).toMatchObject({ metric_kind: 'DELTA', value_type: 'INT64', unit: '1' });
      const alert = connectorResources(prod, 'messaging-us').find(
        (r) =>
          r.type === 'google_monitoring_alert_policy' &&
          JSON.stringify(r.body.conditions).includes(`\${google_logging_metric.${m.id}.name}`),
      );
      expect(alert).toBeDefined();
      expect(alert!.body.notification_channels).toEqual([
        `\${google_monitoring_notification_channel.${channel!.id}.name}`,
      ]);
    }
  });
});

describe('delete protection', () => {
  it('is on for every environment that does not turn it off, whatever its name', () => {
    const [dev, prod] = environments as unknown as Record<string, unknown>[];
    const renamed = ['staging', 'prod-eu', 'production', 'qa'].map((name, i) => ({
      ...(i % 2 ? prod : dev),
      deleteProtection: undefined,
      name,
      project: `replace-me-${name}`,
      backend: undefined,
      deploy: undefined,
    }));
    const out = synthEnvironments(renamed);
    for (const env of out.environments) {
      expect(env.deleteProtection).toBe(true);
      const dbs = resources(out.stacks[env.name]!.json, 'google_firestore_database');
      expect(dbs).toHaveLength(env.connectors.length);
      for (const db of dbs) {
        expect(db).toMatchObject({ delete_protection_state: 'DELETE_PROTECTION_ENABLED', deletion_policy: 'ABANDON' });
      }
    }
  });

  it('is off only when the environment says so', () => {
    const [, prod] = environments as unknown as Record<string, unknown>[];
    const out = synthEnvironments([{ ...prod, name: 'prod', deleteProtection: false }]);
    for (const db of resources(out.stacks.prod!.json, 'google_firestore_database')) {
      expect(db).toMatchObject({ delete_protection_state: 'DELETE_PROTECTION_DISABLED', deletion_policy: 'DELETE' });
    }
    expect(() => synthEnvironments([{ ...prod, deleteProtection: 'yes' }])).toThrow(/deleteProtection.*true or false/);
  });
});

describe('the construct on its own', () => {
  const connector = loadEnvironments(environments)[1]!.connectors[0]!;
  const base: CurrentsConnectorProps = {
    connector,
    environment: { name: 'test', project: 'test-project', region: 'europe-west1' },
    source: { bucket: 'b', object: 'o.zip' },
    pubsubServiceAgentEmail: 'service-123@gcp-sa-pubsub.iam.gserviceaccount.com',
  };
  const alone = Testing.synthScope((scope) => {
    new CurrentsConnector(scope, 'c', {
      ...base,
      timeoutSeconds: 300,
      probeSchedule: '*/5 * * * *',
      retryBackoff: { minimum: '5s', maximum: '120s' },
      deleteProtection: false,
      receiver: { concurrency: 40, maxInstances: 3, refusalsAlertThreshold: 50 },
    });
  });

  it('lets its secure defaults be overridden, keeping the ack deadline 20 s above the timeout', () => {
    expect(alone).toHaveResourceWithProperties(Cloudfunctions2Function, {
      service_config: expect.objectContaining({ timeout_seconds: 300, ingress_settings: 'ALLOW_INTERNAL_ONLY' }),
    });
    expect(alone).toHaveResourceWithProperties(PubsubSubscription, {
      name: resourceNames(connector.name).pushSubscription,
      ack_deadline_seconds: 320,
      retry_policy: { minimum_backoff: '5s', maximum_backoff: '120s' },
    });
    expect(alone).toHaveResourceWithProperties(CloudSchedulerJob, {
      schedule: '*/5 * * * *',
      attempt_deadline: '300s',
    });
    expect(alone).toHaveResourceWithProperties(FirestoreDatabase, {
      delete_protection_state: 'DELETE_PROTECTION_DISABLED',
      deletion_policy: 'DELETE',
      location_id: 'europe-west1',
    });
    expect(alone).toHaveResourceWithProperties(FirestoreField, { field: 'expireAt', collection: 'parked' });
  });

  it('reports every invalid receiver prop at once', () => {
    let error: ConnectorPropsError | undefined;
    try {
      Testing.synthScope((scope) => {
        new CurrentsConnector(scope, 'c', {
          ...base,
          receiver: { concurrency: 0, cpu: 'lots', maxInstances: 0, timeoutSeconds: 5, refusalsAlertThreshold: 0.5 },
        });
      });
    } catch (err) {
      error = err as ConnectorPropsError;
    }
    expect(error).toBeInstanceOf(ConnectorPropsError);
    expect(error!.problems).toEqual([
      'receiver.concurrency 0 must be between 1 and 1000',
      "receiver.cpu 'lots' must be a number of CPUs such as '1' or '2'",
      'receiver.maxInstances 0 must be a whole number ≥ 1',
      'receiver.timeoutSeconds 5 must be a whole number between 10 and 3600 (the receiver keeps 5 s after a publish timed out to answer 503)',
      'receiver.refusalsAlertThreshold 0.5 must be a whole number ≥ 1',
    ]);
    expect(() =>
      Testing.synthScope((scope) => {
        new CurrentsConnector(scope, 'c', { ...base, receiver: { cpu: '0.5' } });
      }),
    ).toThrow(/receiver\.cpu '0\.5' must be at least '1' when receiver\.concurrency is above 1/);
  });

  it("checks the rules across props after each prop's own, and names a prop of the wrong type", () => {
    const problems = (props: Partial<CurrentsConnectorProps>) => {
      try {
        Testing.synthScope((scope) => new CurrentsConnector(scope, 'c', { ...base, ...props }));
      } catch (err) {
        return (err as ConnectorPropsError).problems;
      }
      return [];
    };
    expect(problems({ receiver: { minInstances: 4, maxInstances: 3, memory: 'lots' } })).toEqual([
      "receiver.memory 'lots' must look like 512Mi or 1Gi",
      'receiver.minInstances 4 must be a whole number between 0 and receiver.maxInstances',
    ]);
    expect(problems({ memory: 512 as unknown as string, deleteProtection: 'no' as unknown as boolean })).toEqual([
      'memory 512 must look like 512Mi or 1Gi',
      "deleteProtection 'no' must be true or false",
    ]);
    expect(problems({ connector: { ...connector, storage: { bucket: 'exports', prefix: 'currents' } } })).toEqual([
      "importerSource is required: the connector has 'storage' (the storage importer's source archive)",
    ]);
    expect(problems({ pubsubServiceAgentEmail: '${data.project.number}@gcp-sa-pubsub' })).toEqual([]);
  });

  it('reports every invalid prop at once, naming the connector', () => {
    const attempt = () =>
      Testing.synthScope((scope) => {
        new CurrentsConnector(scope, 'c', {
          ...base,
          runtime: 'nodejs20',
          timeoutSeconds: 900,
          retryBackoff: { minimum: '700s', maximum: '10s' },
          probeSchedule: 'often',
        });
      });
    expect(attempt).toThrow(ConnectorPropsError);
    try {
      attempt();
    } catch (err) {
      const e = err as ConnectorPropsError;
      expect(e.message).toContain(`connector '${connector.name}'`);
      expect(e.problems).toHaveLength(4);
      expect(e.message).toMatch(/runtime 'nodejs20' is not supported: use nodejs22 or later/);
      expect(e.message).toMatch(/timeoutSeconds 900 must be a whole number between 25 and 580/);
      expect(e.message).toMatch(/minimum ≤ maximum ≤ 600s/);
      expect(e.message).toMatch(/probeSchedule 'often' must be a five-field cron expression/);
    }
  });

  it('re-checks the connector with the shared schema', () => {
    expect(() =>
      Testing.synthScope((scope) => {
        new CurrentsConnector(scope, 'c', { ...base, connector: { ...connector, contactEmail: 'nope' } });
      }),
    ).toThrow(
      /connector 'email-eu' of environment '[^']+': contactEmail must be an email address .*\(you wrote 'nope'\)/,
    );
  });

  it('restricts the project-level Firestore grant to exactly its database', () => {
    const { expression } = firestoreDatabaseCondition('p', 'currents-a');
    expect(expression).toBe(
      'resource.name == "projects/p/databases/currents-a" || resource.name.startsWith("projects/p/databases/currents-a/")',
    );
  });
});
