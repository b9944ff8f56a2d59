/**
 * Least privilege and secrets, asserted on every synthesized stack of the example environments: exactly the IAM
 * bindings the infrastructure spec lists, nothing wider, one public member only (`allUsers` invoking each receiver),
 * and no credential material anywhere.
 */
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'cdktf';
import { environments } from '../../fixtures/definitions';
import { defineEnvironments } from '../../../infra/app';
import { doorNames, workspaceDoors } from '../../../shared/door';
import { BUILD_ROLES } from '../../../infra/environment-identities';
import { buildServiceAccountId, publicApiTokenSecret, resourceNames } from '../../../shared/names';
import { fixtureArchives, type Json, refOf, type SynthJson, synthEnvironments } from '../../support/infra/helpers';

const synth = synthEnvironments(environments);

interface Binding {
  type: string;
  id: string;
  role: string;
  member: string;
  target: string;
  condition?: Json;
}

/** Every IAM grant in a stack, whatever its resource type. */
function bindings(json: SynthJson): Binding[] {
  const out: Binding[] = [];
  for (const [type, byId] of Object.entries(json.resource)) {
    if (!/_iam_/.test(type)) continue;
    for (const [id, r] of Object.entries(byId)) {
      const members = r.member !== undefined ? [r.member as string] : ((r.members as string[]) ?? []);
      const target = (r.secret_id ??
        r.topic ??
        r.subscription ??
        r.service_account_id ??
        r.name ??
        r.project) as string;
      for (const member of members) {
        out.push({ type, id, role: r.role as string, member, target, condition: r.condition as Json | undefined });
      }
    }
  }
  return out;
}

const PUBSUB_AGENT =
  'serviceAccount:service-${data.google_project.project.number}@gcp-sa-pubsub.iam.gserviceaccount.com';

describe.each(Object.keys(synth.stacks))('IAM of environment %s', (envName) => {
  const { json } = synth.stacks[envName]!;
  const env = synth.environments.find((e) => e.name === envName)!;
  const all = bindings(json);
  const sa = (accountId: string, attr: 'member' | 'email' | 'name') =>
    refOf(json, 'google_service_account', (r) => r.account_id === accountId, attr);
  const buildMember = sa(buildServiceAccountId(envName), 'member');

  it('grants exactly the spec’s bindings for each connector, and nothing else', () => {
    const expected: string[] = [];
    for (const c of env.connectors) {
      const n = resourceNames(c.name);
      const ref = (type: string, name: string, attr: string, key = 'name') =>
        refOf(json, type, (r) => r[key] === name, attr);
      const fnName = ref('google_cloudfunctions2_function', n.function, 'name');
      // The door of its workspace publishes to its ingest topic.
      const recv = sa(doorNames(c.workspace).serviceAccount, 'member');
      expected.push(
        `google_pubsub_topic_iam_member roles/pubsub.publisher ${recv} ${ref('google_pubsub_topic', n.ingestTopic, 'name')}`,
        `google_secret_manager_secret_iam_member roles/secretmanager.secretAccessor ${sa(n.runtimeServiceAccount, 'member')} ${ref('google_secret_manager_secret', n.secret, 'secret_id', 'secret_id')}`,
        `google_pubsub_topic_iam_member roles/pubsub.publisher ${sa(n.runtimeServiceAccount, 'member')} ${ref('google_pubsub_topic', n.deadLetterTopic, 'name')}`,
        `google_project_iam_member roles/datastore.user ${sa(n.runtimeServiceAccount, 'member')} ${env.project}`,
        `google_cloud_run_v2_service_iam_member roles/run.invoker ${sa(n.pushServiceAccount, 'member')} ${fnName}`,
        `google_cloud_run_v2_service_iam_member roles/run.invoker ${sa(n.schedulerServiceAccount, 'member')} ${fnName}`,
        `google_pubsub_topic_iam_member roles/pubsub.publisher ${PUBSUB_AGENT} ${ref('google_pubsub_topic', n.deadLetterTopic, 'name')}`,
        `google_pubsub_subscription_iam_member roles/pubsub.subscriber ${PUBSUB_AGENT} ${ref('google_pubsub_subscription', n.pushSubscription, 'name')}`,
        `google_service_account_iam_member roles/iam.serviceAccountTokenCreator ${PUBSUB_AGENT} ${sa(n.pushServiceAccount, 'name')}`,
      );
      if (c.segment.sourceId !== undefined) {
        expected.push(
          `google_secret_manager_secret_iam_member roles/secretmanager.secretAccessor ${sa(n.runtimeServiceAccount, 'member')} ${refOf(json, 'google_secret_manager_secret', (r) => r.secret_id === publicApiTokenSecret(env.name), 'secret_id')}`,
        );
      }
    }
    for (const d of workspaceDoors(env.connectors)) {
      const ref = (type: string, name: string, attr: string, key = 'name') =>
        refOf(json, type, (r) => r[key] === name, attr);
      const tokenSecret = ref('google_secret_manager_secret', d.names.tokenSecret, 'secret_id', 'secret_id');
      const recv = sa(d.names.serviceAccount, 'member');
      expected.push(
        `google_cloud_run_v2_service_iam_member roles/run.invoker allUsers ${ref('google_cloudfunctions2_function', d.names.function, 'name')}`,
        `google_secret_manager_secret_iam_member roles/secretmanager.secretAccessor ${recv} ${tokenSecret}`,
        `google_secret_manager_secret_iam_member roles/secretmanager.viewer ${recv} ${tokenSecret}`,
      );
    }
    // Once per environment: the build account's (infra/environment-identities.ts).
    for (const role of BUILD_ROLES) expected.push(`google_project_iam_member ${role} ${buildMember} ${env.project}`);
    const actual = all.map((b) => `${b.type} ${b.role} ${b.member} ${b.target}`);
    expect(actual.sort()).toEqual(expected.sort());
  });

  it('conditions the only project-level grant of a connector on its own database', () => {
    const projectLevel = all.filter((b) => b.type.startsWith('google_project_iam') && b.member !== buildMember);
    expect(projectLevel).toHaveLength(env.connectors.length);
    for (const b of projectLevel) {
      expect(b.role).toBe('roles/datastore.user');
      const c = env.connectors.find((x) => b.member === sa(resourceNames(x.name).runtimeServiceAccount, 'member'))!;
      const db = `projects/${env.project}/databases/${resourceNames(c.name).firestoreDatabase}`;
      expect(b.condition?.expression).toBe(`resource.name == "${db}" || resource.name.startsWith("${db}/")`);
    }
  });

  it('uses additive members only: no authoritative policies or bindings, no basic roles', () => {
    for (const type of Object.keys(json.resource)) expect(type).not.toMatch(/_iam_(policy|binding)$/);
    for (const b of all.filter((x) => x.member !== 'allUsers')) {
      expect(b.member).toMatch(/^(serviceAccount:[^\s]+|\$\{google_service_account\.[\w-]+\.member\})$/);
    }
    for (const b of all) {
      expect(b.role).not.toMatch(/^roles\/(owner|editor|viewer)$/);
      expect(b.role).not.toMatch(/admin/i);
    }
  });

  it('has one public member only: allUsers as run.invoker of each workspace door, nowhere else', () => {
    const doors = workspaceDoors(env.connectors);
    const receivers = doors.map((d) =>
      refOf(json, 'google_cloudfunctions2_function', (r) => r.name === d.names.function, 'name'),
    );
    const publicGrants = all.filter((b) => /allUsers|allAuthenticatedUsers/.test(b.member));
    expect(publicGrants.map((b) => `${b.type} ${b.role} ${b.member} ${b.target}`).sort()).toEqual(
      receivers.map((r) => `google_cloud_run_v2_service_iam_member roles/run.invoker allUsers ${r}`).sort(),
    );
    // Nowhere in the whole stack either (not in a condition, a policy document or any other field).
    const text = JSON.stringify(json);
    expect(text).not.toMatch(/allAuthenticatedUsers/);
    expect(text.match(/allUsers/g)).toHaveLength(doors.length);
    // The public services are exactly the doors: every other function admits internal traffic only.
    for (const f of Object.values(json.resource.google_cloudfunctions2_function!)) {
      const isReceiver = doors.some((d) => d.names.function === f.name);
      expect((f.service_config as Json).ingress_settings).toBe(isReceiver ? 'ALLOW_ALL' : 'ALLOW_INTERNAL_ONLY');
    }
  });

  it("gives each door's account exactly: publish to its connectors' ingest topics, read and list its token secret", () => {
    for (const d of workspaceDoors(env.connectors)) {
      const granted = all.filter((b) => b.member === sa(d.names.serviceAccount, 'member'));
      const topics = d.connectors.map((c) =>
        refOf(json, 'google_pubsub_topic', (r) => r.name === resourceNames(c.name).ingestTopic, 'name'),
      );
      const secret = refOf(
        json,
        'google_secret_manager_secret',
        (r) => r.secret_id === d.names.tokenSecret,
        'secret_id',
      );
      expect(granted.map((b) => `${b.role} ${b.target}`).sort()).toEqual(
        [
          ...topics.map((t) => `roles/pubsub.publisher ${t}`),
          `roles/secretmanager.secretAccessor ${secret}`,
          `roles/secretmanager.viewer ${secret}`,
        ].sort(),
      );
      const fn = Object.values(json.resource.google_cloudfunctions2_function!).find(
        (f) => f.name === d.names.function,
      )!;
      expect((fn.service_config as Json).service_account_email).toBe(sa(d.names.serviceAccount, 'email'));
    }
  });

  it('lets only the push and scheduler accounts invoke each function, whose ingress is internal only', () => {
    for (const c of env.connectors) {
      const n = resourceNames(c.name);
      const fnName = refOf(json, 'google_cloudfunctions2_function', (r) => r.name === n.function, 'name');
      const invokers = all.filter((b) => /invoker/.test(b.role) && b.target === fnName).map((b) => b.member);
      expect(invokers.sort()).toEqual(
        [sa(n.pushServiceAccount, 'member'), sa(n.schedulerServiceAccount, 'member')].sort(),
      );
      const fn = Object.values(json.resource.google_cloudfunctions2_function!).find((f) => f.name === n.function)!;
      expect((fn.service_config as Json).ingress_settings).toBe('ALLOW_INTERNAL_ONLY');
    }
    expect(json.resource.google_cloudfunctions2_function_iam_member).toBeUndefined();
  });

  it('lets only the runtime account read each credential secret, the door account each token secret, and the runtimes with a source check the Public API token', () => {
    const secretRoles = all.filter((b) => /secretmanager/.test(b.role));
    const checked = env.connectors.filter((c) => c.segment.sourceId !== undefined);
    const doors = workspaceDoors(env.connectors);
    expect(secretRoles).toHaveLength(env.connectors.length + 2 * doors.length + checked.length);
    if (checked.length) {
      const token = refOf(
        json,
        'google_secret_manager_secret',
        (r) => r.secret_id === publicApiTokenSecret(env.name),
        'secret_id',
      );
      expect(
        secretRoles
          .filter((b) => b.target === token)
          .map((b) => b.member)
          .sort(),
      ).toEqual(checked.map((c) => sa(resourceNames(c.name).runtimeServiceAccount, 'member')).sort());
    } else {
      expect(Object.values(json.resource.google_secret_manager_secret!).map((s) => s.secret_id)).not.toContain(
        publicApiTokenSecret(env.name),
      );
    }
    for (const c of env.connectors) {
      const n = resourceNames(c.name);
      const secretRef = (id: string) =>
        refOf(json, 'google_secret_manager_secret', (r) => r.secret_id === id, 'secret_id');
      expect(secretRoles.filter((b) => b.target === secretRef(n.secret)).map((b) => b.member)).toEqual([
        sa(n.runtimeServiceAccount, 'member'),
      ]);
    }
    for (const d of doors) {
      const secret = refOf(
        json,
        'google_secret_manager_secret',
        (r) => r.secret_id === d.names.tokenSecret,
        'secret_id',
      );
      expect(secretRoles.filter((b) => b.target === secret).map((b) => `${b.member} ${b.role}`)).toEqual(
        ['roles/secretmanager.secretAccessor', 'roles/secretmanager.viewer'].map(
          (role) => `${sa(d.names.serviceAccount, 'member')} ${role}`,
        ),
      );
    }
  });

  it('creates no keys, secret versions or sensitive values', () => {
    for (const type of [
      'google_service_account_key',
      'google_secret_manager_secret_version',
      'google_storage_hmac_key',
      'google_apikeys_key',
    ]) {
      expect(json.resource[type]).toBeUndefined();
    }
    for (const out of Object.values(json.output ?? {})) expect(out.sensitive).toBeUndefined();
  });
});

describe('secret material', () => {
  it('appears nowhere in a full synth output (every file of every stack)', () => {
    const app = new App({ outdir: mkdtempSync(join(tmpdir(), 'currents-synth-')) });
    defineEnvironments(app, environments, fixtureArchives());
    app.synth();
    const files: string[] = [];
    const walk = (dir: string) => {
      for (const e of readdirSync(dir, { withFileTypes: true })) {
        const p = join(dir, e.name);
        if (e.isDirectory()) walk(p);
        else if (!p.endsWith('.zip')) files.push(p);
      }
    };
    walk(app.outdir);
    expect(files.some((f) => f.endsWith('cdk.tf.json'))).toBe(true);
    for (const f of files) {
      const text = readFileSync(f, 'utf8');
      expect(text).not.toMatch(/-----BEGIN [A-Z ]*PRIVATE KEY-----/);
      expect(text).not.toMatch(/"(secret_data|private_key|password|write_?key)"\s*:/i);
      expect(text).not.toMatch(/\bBasic [A-Za-z0-9+/=]{8,}/);
    }
  });

  it('cannot enter through a definition: a credential value is refused at synth, and not echoed', () => {
    const canary = 'sk_live_CANARY_5f0c2e';
    const [dev] = environments;
    const withSecret = {
      ...dev,
      connectors: [
        { ...dev!.connectors[0]!, segment: { region: 'eu', credential: { kind: 'writeKey', writeKey: canary } } },
      ],
    };
    let message = '';
    try {
      synthEnvironments([withSecret]);
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/unknown field `segment\.credential\.writeKey`: credential values never go in code/);
    expect(message).toMatch(/Secret Manager secret\); remove it/);
    expect(message).not.toContain(canary);
  });

  it('a credential value written where a field is expected is not echoed in the message either', () => {
    const canary = 'sk_live_CANARY_5f0c2e';
    const [dev] = environments;
    for (const credential of [{ kind: canary }, canary]) {
      let message = '';
      try {
        synthEnvironments([
          { ...dev!, connectors: [{ ...dev!.connectors[0]!, segment: { region: 'eu', credential } }] },
        ]);
      } catch (err) {
        message = (err as Error).message;
      }
      expect(message).toMatch(
        /segment\.credential(\.kind)? must be \{ kind: 'writeKey' \}|segment\.credential\.kind must be 'writeKey' or 'oauth'/,
      );
      expect(message).not.toContain(canary);
    }
  });
});
