/**
 * One door per Braze workspace, on the synthesized Terraform JSON of the test definitions (test/fixtures/workspaces.ts:
 * two connectors of one workspace, a third of another): a public function per workspace whose environment parses back
 * into the routes the connectors select, publishing on exactly its connectors' ingest topics, its own token secret,
 * and its alerts sent to every contact of the workspace.
 */
import { RECEIVER_DEFAULTS } from '../../../shared/defaults';
import { doorNames, workspaceDoors } from '../../../shared/door';
import { parseDoorConfig } from '../../../shared/door-config';
import { resourceNames } from '../../../shared/names';
import { environments } from '../../fixtures/workspaces';
import { loadEnvironments } from '../../../shared/connector';
import { type Json, refOf, resources, synthEnvironments } from '../../support/infra/helpers';

const synth = synthEnvironments(environments);
const json = synth.stacks.doors!.json;
const env = synth.environments[0]!;
const doors = workspaceDoors(env.connectors);
const acme = doors.find((d) => d.workspace === 'acme-us')!;
const fnOf = (name: string) => resources(json, 'google_cloudfunctions2_function').find((f) => f.name === name)!;
const doorResources = (id: string) =>
  Object.entries(json.resource).flatMap(([type, byId]) =>
    Object.entries(byId)
      .filter(([rid]) => rid.startsWith(`door-${id}_`))
      .map(([rid, body]) => ({ type, id: rid, body })),
  );

it('declares one public door per workspace, configured from the same definitions: its routes are their selections', () => {
  const functions = resources(json, 'google_cloudfunctions2_function').filter(
    (f) => (f.build_config as Json).entry_point === 'receiver',
  );
  expect(functions.map((f) => f.name).sort()).toEqual(doors.map((d) => d.names.function).sort());
  for (const d of doors) {
    const config = parseDoorConfig((fnOf(d.names.function).service_config as Json).environment_variables as never);
    expect(config.door.workspace).toBe(d.workspace);
    expect(config.door.connectors).toEqual(d.connectors);
    expect([...config.door.routes]).toEqual([...d.routes]);
    expect(config.tokenSecretName).toBe(`projects/doors-project/secrets/${d.names.tokenSecret}`);
    expect([...config.topics.values()].sort()).toEqual(
      d.connectors.map((c) => resourceNames(c.name).ingestTopic).sort(),
    );
  }
  expect(acme.routes.get('users.canvas.Entry')).toBe('journeys');
  expect(acme.routes.get('users.messages.sms.Send')).toBe('email');
  expect((fnOf(acme.names.function).service_config as Json).ingress_settings).toBe('ALLOW_ALL');
});

it("gives each door's account publisher on exactly its connectors' ingest topics", () => {
  for (const d of doors) {
    const member = refOf(json, 'google_service_account', (r) => r.account_id === d.names.serviceAccount, 'member');
    const topics = resources(json, 'google_pubsub_topic_iam_member')
      .filter((b) => b.member === member)
      .map((b) => b.topic);
    expect(topics.sort()).toEqual(
      d.connectors
        .map((c) => refOf(json, 'google_pubsub_topic', (r) => r.name === resourceNames(c.name).ingestTopic, 'name'))
        .sort(),
    );
  }
});

it('counts its answers by status and alerts every contact of the workspace (5xx for 5 minutes, 401 at a Current’s rate)', () => {
  const own = doorResources(acme.id);
  const metric = own.find((r) => r.type === 'google_logging_metric')!;
  expect(metric.body).toMatchObject({
    name: doorNames('acme-us').requestsMetric,
    filter:
      'resource.type="cloud_run_revision" AND resource.labels.service_name="currents-door-acme-us" AND ' +
      'jsonPayload.connector="currents-door-acme-us" AND jsonPayload.event="receiver_request"',
    label_extractors: { status: 'EXTRACT(jsonPayload.status)' },
  });
  const channels = ['journeys', 'email'].map((c) =>
    refOf(json, 'google_monitoring_notification_channel', (r) => (r.display_name as string).includes(`/${c}:`), 'name'),
  );
  const alerts = own.filter((r) => r.type === 'google_monitoring_alert_policy').map((r) => r.body);
  expect(alerts.map((a) => a.display_name).sort()).toEqual([
    'Currents doors/door acme-us: receiver answering 5xx',
    'Currents doors/door acme-us: receiver refusing requests (401)',
  ]);
  for (const a of alerts) expect((a.notification_channels as string[]).sort()).toEqual(channels.sort());
  const refusals = alerts.find((a) => /401/.test(a.display_name as string))!;
  expect(JSON.stringify(refusals.conditions)).toContain(
    `"threshold_value":${RECEIVER_DEFAULTS.refusalsAlertThreshold}`,
  );
  expect((refusals.documentation as Json).content).toMatch(/currents receiver-token new/);
});

it("runs each door where its workspace's connectors run, built as the build account, its alerts after the metric's wait", () => {
  const eu = doors.find((d) => d.workspace !== 'acme-us')!;
  expect(fnOf(acme.names.function).location).toBe('us-central1');
  expect(fnOf(eu.names.function).location).toBe('europe-west1');
  const buildAccount = refOf(json, 'google_service_account', (r) => r.account_id === 'cs-build-doors', 'id');
  for (const d of doors) {
    expect((fnOf(d.names.function).build_config as Json).service_account).toBe(buildAccount);
    const own = doorResources(d.id);
    const wait = own.find((r) => r.type === 'time_sleep')!;
    for (const a of own.filter((r) => r.type === 'google_monitoring_alert_policy')) {
      expect(a.body.depends_on).toContain(`time_sleep.${wait.id}`);
    }
  }
});

it('refuses connectors of one workspace in different locations: their one door can run in only one', () => {
  const [first, second] = environments[0]!.connectors;
  expect(() =>
    loadEnvironments([{ ...environments[0]!, connectors: [first, { ...second!, location: 'us-east1' }] }]),
  ).toThrow(
    /connector 'email' of environment 'doors': location us-east1 differs from us-central1 of connector 'journeys' of the same Braze workspace 'acme-us'/,
  );
});
