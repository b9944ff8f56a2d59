/**
 * A backfill's own path, on the synthesized Terraform JSON (connectors with `storage` only): its files topic pushed to
 * the backfill importer (the importer's code and account, its own instances, CURRENTS_IMPORTER_ROLE=backfill), which
 * publishes on the backfill topic, pushed to the backfill function (the connector's function again: same archive,
 * account and dead-letter topic, `backfill.maxInstances` instances). The live push and live importer are untouched.
 */
import { resourceNames, storageImportNames } from '../../../shared/names';
import { type Json, synthDevConnectors } from '../../support/infra/helpers';

const json = synthDevConnectors([
  {
    name: 'email-eu',
    events: ['email'],
    concurrency: 8,
    storage: { bucket: 'acme-braze-export', prefix: 'braze' },
    backfill: { maxInstances: 3, importers: 7 },
  },
  { name: 'push-eu', events: ['pushnotification'], storage: { bucket: 'acme-braze-export', prefix: 'push' } },
  { name: 'canvas-eu', workspace: 'ws2', events: ['canvas'] },
]);
const byName = (type: string, name: string): [string, Json] => {
  const found = Object.entries(json.resource[type] ?? {}).find(([, r]) => r.name === name);
  if (!found) throw new Error(`no ${type} named ${name}`);
  return found;
};
const ref = (type: string, name: string, attr: string) => `\${${type}.${byName(type, name)[0]}.${attr}}`;
const fnUri = (name: string) => ref('google_cloudfunctions2_function', name, 'service_config[0].uri');
const names = storageImportNames('email-eu');
const live = resourceNames('email-eu');

it('delivers backfilled events through their own topic, push subscription and function', () => {
  const [, fn] = byName('google_cloudfunctions2_function', names.backfillFunction);
  const [, liveFn] = byName('google_cloudfunctions2_function', live.function);
  const service = fn.service_config as Json;
  const liveService = liveFn.service_config as Json;
  expect(service.max_instance_count).toBe(3);
  expect(liveService.max_instance_count).toBe(10);
  // The connector's function again: same code, account, concurrency and environment.
  expect(fn.build_config).toEqual(liveFn.build_config);
  for (const k of [
    'service_account_email',
    'max_instance_request_concurrency',
    'environment_variables',
    'ingress_settings',
  ])
    expect(service[k]).toEqual(liveService[k]);
  expect(service.max_instance_request_concurrency).toBe(8);

  const [, push] = byName('google_pubsub_subscription', names.backfillPushSubscription);
  const [, livePush] = byName('google_pubsub_subscription', live.pushSubscription);
  expect(push.topic).toBe(ref('google_pubsub_topic', names.backfillTopic, 'id'));
  expect((push.push_config as Json).push_endpoint).toBe(fnUri(names.backfillFunction));
  expect((livePush.push_config as Json).push_endpoint).not.toMatch(/backfill/);
  expect(livePush.topic).toBe(ref('google_pubsub_topic', live.ingestTopic, 'id'));
  // Same delivery policy as the live push: ack deadline, retries, dead letters into the connector's dead-letter topic.
  for (const k of ['ack_deadline_seconds', 'retry_policy', 'dead_letter_policy', 'message_retention_duration'])
    expect(push[k]).toEqual(livePush[k]);
  // The push identity may invoke it, and Pub/Sub may subscribe for dead letters.
  const invokers = Object.values(json.resource.google_cloud_run_v2_service_iam_member ?? {});
  expect(invokers.some((m) => String(m.name).includes('backfill-function') && m.role === 'roles/run.invoker')).toBe(
    true,
  );
  const subscribers = Object.values(json.resource.google_pubsub_subscription_iam_member ?? {});
  expect(subscribers.some((m) => String(m.subscription).includes('backfill-push-subscription'))).toBe(true);
});

it('hands a backfill’s files to the backfill importer, its own instances, publishing on the backfill topic', () => {
  const [, importer] = byName('google_cloudfunctions2_function', names.backfillImporterFunction);
  const [, liveImporter] = byName('google_cloudfunctions2_function', names.importerFunction);
  const svc = importer.service_config as Json;
  const liveSvc = liveImporter.service_config as Json;
  expect(svc.max_instance_count).toBe(7);
  expect(liveSvc.max_instance_count).toBe(5);
  expect(importer.build_config).toEqual(liveImporter.build_config);
  expect(svc.service_account_email).toEqual(liveSvc.service_account_email);
  expect((svc.environment_variables as Json).CURRENTS_IMPORTER_ROLE).toBe('backfill');
  expect((liveSvc.environment_variables as Json).CURRENTS_IMPORTER_ROLE).toBeUndefined();
  const [, sub] = byName('google_pubsub_subscription', names.backfillFilesSubscription);
  expect(sub.topic).toBe(ref('google_pubsub_topic', names.backfillFilesTopic, 'id'));
  expect((sub.push_config as Json).push_endpoint).toBe(fnUri(names.backfillImporterFunction));
});

it('applies the defaults (10 backfill instances, 10 importers) and declares nothing without storage', () => {
  const push = storageImportNames('push-eu');
  const [, fn] = byName('google_cloudfunctions2_function', push.backfillFunction);
  const [, importer] = byName('google_cloudfunctions2_function', push.backfillImporterFunction);
  expect((fn.service_config as Json).max_instance_count).toBe(10);
  expect((importer.service_config as Json).max_instance_count).toBe(10);
  const all = JSON.stringify(json.resource);
  expect(all).not.toContain(storageImportNames('canvas-eu').backfillTopic);
  expect(all).not.toContain(storageImportNames('canvas-eu').backfillFunction);
});

it("counts the backfill function's alerted events with the live function's (connectors with storage only)", () => {
  const metrics = Object.values(json.resource.google_logging_metric ?? {});
  const deadLetters = (c: string) => metrics.find((m) => m.name === `currents-${c}-dead-lettered`);
  expect(deadLetters('email-eu')?.filter).toContain(
    `resource.labels.service_name=("currents-email-eu" OR "${names.backfillFunction}")`,
  );
  expect(deadLetters('canvas-eu')?.filter).toContain('resource.labels.service_name="currents-canvas-eu"');
});
