/**
 * A first deploy on a fresh project, in one apply, as far as the synthesized JSON can show it (what only a real
 * project proves is in docs/deploying.md, "Honest limits"): every function built as the environment's build account,
 * which has exactly the roles a build needs and exists, with them, before any build; alert policies created only
 * after their new log-based metrics can be queried; the Pub/Sub service agent made to exist before anything grants it a
 * role; the TTL field without single-field indexes; push subscriptions and probe jobs created after the grants their
 * calls need. On fixture environments that hold every kind of function (function, receiver, storage importer).
 */
import { ALERTED_EVENTS, RECEIVER_EVENTS } from '../../../infra/connector/events';
import { BUILD_ROLES } from '../../../infra/environment-identities';
import { workspaceDoors } from '../../../shared/door';
import { METRICS_SETTLE_SECONDS } from '../../../infra/metrics-settle';
import { buildServiceAccountId, resourceNames, storageImportNames } from '../../../shared/names';
import { environments as fixtures } from '../../support/infra/fixtures/environments';
import { type Json, refOf, synthEnvironments, type SynthJson } from '../../support/infra/helpers';

const synth = synthEnvironments(fixtures);

/** `type.id` of the resources of a type matching a predicate. */
const addresses = (json: SynthJson, type: string, where: (r: Json) => boolean = () => true): string[] =>
  Object.entries(json.resource[type] ?? {})
    .filter(([, r]) => where(r))
    .map(([id]) => `${type}.${id}`);
const body = (json: SynthJson, address: string): Json => {
  const [type, id] = address.split('.') as [string, string];
  return json.resource[type]![id]!;
};
const dependsOn = (r: Json): string[] => (r.depends_on as string[] | undefined) ?? [];

describe.each(Object.keys(synth.stacks))('the %s stack', (envName) => {
  const json = synth.stacks[envName]!.json;
  const env = synth.environments.find((e) => e.name === envName)!;

  describe('function builds', () => {
    const buildSa = addresses(json, 'google_service_account', (r) => r.account_id === buildServiceAccountId(envName));
    const member = refOf(
      json,
      'google_service_account',
      (r) => r.account_id === buildServiceAccountId(envName),
      'member',
    );
    const grants = addresses(json, 'google_project_iam_member', (r) => r.member === member);

    it('run as one build account per environment, with exactly the roles a build needs', () => {
      expect(buildSa).toHaveLength(1);
      expect(grants.map((g) => body(json, g).role).sort()).toEqual([...BUILD_ROLES].sort());
      expect([...BUILD_ROLES].sort()).toEqual(
        ['roles/artifactregistry.writer', 'roles/logging.logWriter', 'roles/storage.objectViewer'].sort(),
      );
      // Nothing else is granted to it, anywhere.
      const elsewhere = Object.entries(json.resource)
        .filter(([type]) => /_iam_/.test(type))
        .flatMap(([type, byId]) => Object.entries(byId).map(([id, r]) => ({ address: `${type}.${id}`, r })))
        .filter(({ address, r }) => r.member === member && !grants.includes(address));
      expect(elsewhere).toEqual([]);
    });

    it('may read source archives only: the source bucket and the gcf-v2-sources copies', () => {
      const viewer = grants.map((g) => body(json, g)).find((g) => g.role === 'roles/storage.objectViewer')!;
      const bucket = `projects/_/buckets/${env.project}-currents-function-source`;
      expect((viewer.condition as Json).expression).toBe(
        `resource.name == "${bucket}" || resource.name.startsWith("${bucket}/") || ` +
          'resource.name.startsWith("projects/_/buckets/gcf-v2-sources-")',
      );
    });

    it('every function (connector, workspace door, importer, backfill) is built as it, after its grants', () => {
      const functions = addresses(json, 'google_cloudfunctions2_function');
      const storageFunctions = (name: string) => {
        const s = storageImportNames(name);
        return [s.importerFunction, s.backfillFunction, s.backfillImporterFunction];
      };
      const expectedNames = [
        ...env.connectors.flatMap((c) => [
          resourceNames(c.name).function,
          ...(c.storage ? storageFunctions(c.name) : []),
        ]),
        ...workspaceDoors(env.connectors).map((d) => d.names.function),
      ];
      expect(functions.map((f) => body(json, f).name).sort()).toEqual(expectedNames.sort());
      const id = `\${${buildSa[0]}.id}`;
      for (const f of functions) {
        expect((body(json, f).build_config as Json).service_account).toBe(id);
        expect(dependsOn(body(json, f))).toEqual(expect.arrayContaining(grants));
      }
    });
  });

  it('creates each alert policy on a log-based metric only after a wait that follows that metric', () => {
    const metricByName = new Map(
      addresses(json, 'google_logging_metric').map((m) => [String(body(json, m).name), m] as const),
    );
    const policies = addresses(json, 'google_monitoring_alert_policy');
    let onLogMetrics = 0;
    for (const p of policies) {
      const names = [
        ...JSON.stringify(body(json, p).conditions).matchAll(/logging\.googleapis\.com\/user\/([^\\"]+)/g),
      ];
      if (!names.length) continue;
      onLogMetrics++;
      const sleeps = dependsOn(body(json, p)).filter((d) => d.startsWith('time_sleep.'));
      expect(sleeps).toHaveLength(1);
      const sleep = body(json, sleeps[0]!);
      expect(sleep.create_duration).toBe(`${METRICS_SETTLE_SECONDS}s`);
      expect(METRICS_SETTLE_SECONDS).toBeGreaterThanOrEqual(600); // Cloud Monitoring: "up to 10 minutes"
      for (const [, ref] of names) {
        // The filter names the metric by reference (${google_logging_metric.<id>.name}).
        const metric = /^\$\{(google_logging_metric\.[\w-]+)\.name\}$/.exec(ref!)?.[1] ?? metricByName.get(ref!);
        expect(dependsOn(sleep)).toContain(metric);
        expect(String((sleep.triggers as Json).metrics)).toContain(`\${${metric}.name}`);
      }
    }
    // Per connector: one per alerted function event and one per receiver alert; one more with a storage importer.
    const perConnector =
      Object.keys(ALERTED_EVENTS).length + Object.keys(RECEIVER_EVENTS.receiver_request.alerts).length;
    expect(onLogMetrics).toBe(env.connectors.length * perConnector + env.connectors.filter((c) => c.storage).length);
    expect((json.terraform.required_providers as Json).time).toMatchObject({ source: 'hashicorp/time' });
  });

  it('grants the Pub/Sub service agent its roles only once the API is on and the agent exists', () => {
    const identities = addresses(json, 'google_project_service_identity');
    expect(identities).toHaveLength(1);
    const identity = body(json, identities[0]!);
    expect(identity).toMatchObject({ service: 'pubsub.googleapis.com', provider: 'google-beta', project: env.project });
    expect(dependsOn(identity)).toEqual([
      addresses(json, 'google_project_service', (s) => s.service === 'pubsub.googleapis.com')[0],
    ]);
    expect((json.terraform.required_providers as Json)['google-beta']).toEqual({
      source: 'google-beta',
      version: (json.terraform.required_providers as { google: { version: string } }).google.version,
    });
    // Its documented email (known at plan), granted only after the identity: directly, or through everything of Pub/Sub.
    const agent = 'serviceAccount:service-${data.google_project.project.number}@gcp-sa-pubsub.iam.gserviceaccount.com';
    const toAgent = Object.entries(json.resource)
      .filter(([type]) => /_iam_member$/.test(type))
      .flatMap(([, byId]) => Object.values(byId))
      .filter((r) => String(r.member).includes('pubsub'));
    // Per connector: dead-letter publisher, push subscriber, token creator; with storage, the backfill push's subscriber.
    expect(toAgent.length).toBe(env.connectors.length * 3 + env.connectors.filter((c) => c.storage).length);
    for (const r of toAgent) {
      expect(r.member).toBe(agent);
      expect(dependsOn(r)).toContain(identities[0]);
    }
    for (const type of ['google_pubsub_topic', 'google_pubsub_subscription']) {
      for (const t of addresses(json, type)) expect(dependsOn(body(json, t))).toContain(identities[0]);
    }
  });

  it('keeps no single-field index on the TTL field (index_config {} beside ttl_config {})', () => {
    const ttl = addresses(json, 'google_firestore_field', (f) => f.ttl_config !== undefined);
    expect(ttl).toHaveLength(env.connectors.length);
    for (const f of ttl) expect(body(json, f)).toMatchObject({ ttl_config: {}, index_config: {} });
  });

  it('creates push subscriptions and probe jobs after the grants their calls need', () => {
    const iam = (type: string, role: string, member: string, target: string) =>
      addresses(json, type, (r) => r.role === role && r.member === member && JSON.stringify(r).includes(target));
    for (const c of env.connectors) {
      const n = resourceNames(c.name);
      const account = (id: string, attr: string) =>
        refOf(json, 'google_service_account', (r) => r.account_id === id, attr);
      const fn = refOf(json, 'google_cloudfunctions2_function', (r) => r.name === n.function, 'name');
      const [push] = addresses(json, 'google_pubsub_subscription', (r) => r.name === n.pushSubscription);
      const [job] = addresses(json, 'google_cloud_scheduler_job', (r) => r.name === n.schedulerJob);
      const invoker = 'google_cloud_run_v2_service_iam_member';
      const pushInvoker = iam(invoker, 'roles/run.invoker', account(n.pushServiceAccount, 'member'), fn);
      const tokenCreator = addresses(
        json,
        'google_service_account_iam_member',
        (r) =>
          r.role === 'roles/iam.serviceAccountTokenCreator' &&
          r.service_account_id === account(n.pushServiceAccount, 'name'),
      );
      expect(tokenCreator).toHaveLength(1);
      const schedulerInvoker = iam(invoker, 'roles/run.invoker', account(n.schedulerServiceAccount, 'member'), fn);
      expect([pushInvoker.length, schedulerInvoker.length]).toEqual([1, 1]);
      expect(dependsOn(body(json, push!))).toEqual(expect.arrayContaining([...pushInvoker, ...tokenCreator]));
      expect(dependsOn(body(json, job!))).toEqual(expect.arrayContaining(schedulerInvoker));
      if (c.storage) {
        const s = storageImportNames(c.name);
        const importer = refOf(json, 'google_cloudfunctions2_function', (r) => r.name === s.importerFunction, 'name');
        const [sub] = addresses(json, 'google_pubsub_subscription', (r) => r.name === s.notificationSubscription);
        const grant = iam(invoker, 'roles/run.invoker', account(n.pushServiceAccount, 'member'), importer);
        expect(grant).toHaveLength(1);
        expect(dependsOn(body(json, sub!))).toEqual(expect.arrayContaining(grant));
      }
    }
  });
});

it('names the build account within the 30-character limit, per environment, whatever the environment name', () => {
  const valid = /^[a-z][a-z0-9-]{4,28}[a-z0-9]$/;
  expect(buildServiceAccountId('prod')).toBe('cs-build-prod');
  for (const name of ['dev', 'a', 'staging-europe-west', 'x'.repeat(30), 'long-environment-name-number-1', 'ab-']) {
    expect(buildServiceAccountId(name)).toMatch(valid);
  }
  expect(buildServiceAccountId('long-environment-name-number-1')).not.toBe(
    buildServiceAccountId('long-environment-name-number-2'),
  );
});
