/**
 * The live storage import's infrastructure, on the synthesized Terraform JSON: declared only for a connector with
 * `storage`; the bucket notification (new objects under the prefix) to its own topic, pushed to the importer (its own
 * function, account and archive); the importer's grants exactly: read objects of that bucket under the prefix only,
 * publish on the connector's ingest topic, use the connector's database; alerts for damaged files and a stuck backlog.
 */
import { resourceNames, storageImportNames } from '../../../shared/names';
import { type Json, refOf, synthDevConnectors } from '../../support/infra/helpers';

const json = synthDevConnectors([
  { name: 'email-eu', events: ['email'], storage: { bucket: 'acme-braze-export', prefix: 'braze/currents' } },
  { name: 'canvas-eu', events: ['canvas'] },
]);
const all = (type: string): Json[] => Object.values(json.resource[type] ?? {});
const names = storageImportNames('email-eu');
const sa = refOf(json, 'google_service_account', (r) => r.account_id === names.importerServiceAccount, 'member');
const saEmail = refOf(json, 'google_service_account', (r) => r.account_id === names.importerServiceAccount, 'email');

it('declares the notification for new objects under the prefix, to its own topic', () => {
  expect(all('google_storage_notification')).toHaveLength(1);
  const [n] = all('google_storage_notification');
  expect(n).toMatchObject({
    bucket: 'acme-braze-export',
    object_name_prefix: 'braze/currents/',
    event_types: ['OBJECT_FINALIZE'],
    payload_format: 'JSON_API_V1',
    topic: refOf(json, 'google_pubsub_topic', (r) => r.name === names.notificationTopic, 'id'),
  });
  // The Cloud Storage service agent may publish there, before the notification is created.
  const agent = all('google_pubsub_topic_iam_member').find((m) =>
    String(m.member).includes('google_storage_project_service_account'),
  );
  expect(agent).toMatchObject({ role: 'roles/pubsub.publisher' });
  expect(n!.depends_on).toHaveLength(1);
});

it('runs the importer as its own function from its own archive, pushed by the notify subscription', () => {
  const fns = all('google_cloudfunctions2_function').filter((f) => f.name === names.importerFunction);
  expect(fns).toHaveLength(1);
  const fn = fns[0]!;
  expect(fn).toMatchObject({
    build_config: {
      entry_point: 'importer',
      source: { storage_source: { object: expect.stringMatching(/importer-source/) } },
    },
    service_config: { service_account_email: saEmail, ingress_settings: 'ALLOW_INTERNAL_ONLY', timeout_seconds: 540 },
  });
  const sub = all('google_pubsub_subscription').find((s) => s.name === names.notificationSubscription)!;
  const push = sub.push_config as {
    push_endpoint: string;
    oidc_token: { audience: string; service_account_email: string };
  };
  const fnId = Object.entries(json.resource.google_cloudfunctions2_function!).find(
    ([, r]) => r.name === names.importerFunction,
  )![0];
  expect(push.push_endpoint).toMatch(
    new RegExp(`^\\$\\{google_cloudfunctions2_function\\.${fnId}\\.service_config.*uri\\}$`),
  );
  expect(push.oidc_token.audience).toBe(push.push_endpoint);
  expect(push.oidc_token.service_account_email).toBe(
    refOf(
      json,
      'google_service_account',
      (r) => r.account_id === resourceNames('email-eu').pushServiceAccount,
      'email',
    ),
  );
  expect(sub.ack_deadline_seconds).toBe(600);
  // The connector's push identity invokes the importer.
  const invoker = all('google_cloud_run_v2_service_iam_member').find((m) => String(m.name).includes(fnId))!;
  expect(invoker).toMatchObject({
    role: 'roles/run.invoker',
    member: refOf(
      json,
      'google_service_account',
      (r) => r.account_id === resourceNames('email-eu').pushServiceAccount,
      'member',
    ),
  });
});

it("grants the importer exactly: the bucket's objects under the prefix, the ingest topic, the connector's database", () => {
  const grants: Array<{ type: string; role: string; target: unknown; condition?: Json }> = [];
  for (const [type, byId] of Object.entries(json.resource)) {
    if (!/_iam_/.test(type)) continue;
    for (const r of Object.values(byId)) {
      if (r.member === sa)
        grants.push({
          type,
          role: r.role as string,
          target: r.bucket ?? r.topic ?? r.project,
          condition: r.condition as Json,
        });
    }
  }
  expect(grants.map((g) => `${g.type} ${g.role}`).sort()).toEqual([
    'google_project_iam_member roles/datastore.user',
    'google_pubsub_topic_iam_member roles/pubsub.publisher',
    'google_pubsub_topic_iam_member roles/pubsub.publisher',
    'google_storage_bucket_iam_member roles/storage.objectViewer',
  ]);
  const viewer = grants.find((g) => g.type === 'google_storage_bucket_iam_member')!;
  expect(viewer.target).toBe('acme-braze-export');
  expect(viewer.condition?.expression).toBe(
    'resource.name.startsWith("projects/_/buckets/acme-braze-export/objects/braze/currents/")',
  );
  // It publishes on the ingest topic (live) and on the backfill topic (backfills), nowhere else.
  const published = grants.filter((g) => g.type === 'google_pubsub_topic_iam_member').map((g) => g.target);
  expect(published.sort()).toEqual(
    [
      refOf(json, 'google_pubsub_topic', (r) => r.name === resourceNames('email-eu').ingestTopic, 'name'),
      refOf(json, 'google_pubsub_topic', (r) => r.name === names.backfillTopic, 'name'),
    ].sort(),
  );
  expect(JSON.stringify(grants.find((g) => g.type === 'google_project_iam_member')!.condition)).toContain(
    resourceNames('email-eu').firestoreDatabase,
  );
  // Nobody else reads the bucket.
  const bucketGrants = all('google_storage_bucket_iam_member').filter((m) => m.bucket === 'acme-braze-export');
  expect(bucketGrants.map((m) => m.member)).toEqual([sa]);
});

it('alerts on damaged files and on a stuck backlog, to the contact channel', () => {
  const titles = all('google_monitoring_alert_policy')
    .map((p) => String(p.display_name))
    .filter((t) => t.startsWith('Currents dev/email-eu'));
  expect(titles).toEqual(
    expect.arrayContaining([
      'Currents dev/email-eu: damaged storage-export file',
      'Currents dev/email-eu: storage import stuck',
    ]),
  );
  const metric = all('google_logging_metric').find((m) => String(m.filter).includes('storage_import_failed'))!;
  expect(metric.filter).toContain(`resource.labels.service_name="${names.importerFunction}"`);
});

it('declares nothing of the kind for a connector without storage', () => {
  const other = storageImportNames('canvas-eu');
  const text = JSON.stringify(json);
  for (const n of Object.values(other)) expect(text).not.toContain(n);
});
