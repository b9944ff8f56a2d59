/**
 * Terraform's own check of what synth writes, offline (infra/terraform-check.ts): every resource and data source
 * rewritten onto the builtin `terraform_data`, then `terraform init -backend=false` and `terraform validate`. It passes
 * for every environment of the fixtures (the team's own connectors/: test/unit/ci/definitions.test.ts); mutations prove what it catches: a literal `${` in ANY
 * string, an unterminated template, a `depends_on` or reference to nothing, an undeclared provider, a function build
 * without its service account. Needs the terraform CLI (README, Prerequisites), no provider plugin and no network.
 */
import {
  checkTerraformJson,
  formatProblems,
  plannedArguments,
  type TerraformJson,
  toOfflineConfig,
} from '../../../infra/terraform-check';
import { environments as fixtures } from '../../support/infra/fixtures/environments';
import { type Json, synthEnvironments } from '../../support/infra/helpers';

const synth = synthEnvironments(fixtures);
const copy = (json: unknown): TerraformJson => JSON.parse(JSON.stringify(json)) as TerraformJson;
const dev = () => copy(synth.stacks.dev!.json);

describe.each(Object.keys(synth.stacks).map((name) => [name, synth.stacks[name]!.json] as const))(
  'the fixture environment %s',
  (_name, json) => {
    it('passes Terraform’s parse and validate, and declares what a first deploy needs', () => {
      const result = checkTerraformJson(json as unknown as TerraformJson);
      expect(formatProblems(result.problems)).toBe('');
      expect(result.valid).toBe(true);
    });
  },
);

type Resources = Record<string, Record<string, Json>>;
const REFERENCE = /(data\.)?((?:google|time)_[a-z0-9_]+)\.([\w-]+)/g;

/**
 * The resources and data sources by depth: 0 for those that reference nothing, else one more than the deepest they
 * reference (in a template or `depends_on`). Terraform skips what depends on a failed resource, so each depth is
 * mutated alone: within one depth no resource depends on another, and everything below it is intact.
 */
function byDepth(json: TerraformJson): string[][] {
  const bodies = new Map<string, Json>();
  for (const block of ['resource', 'data'] as const) {
    for (const [type, byName] of Object.entries((json[block] ?? {}) as Resources)) {
      for (const [name, body] of Object.entries(byName))
        bodies.set(`${block === 'data' ? 'data.' : ''}${type}.${name}`, body);
    }
  }
  const depth = new Map<string, number>();
  const depthOf = (address: string): number => {
    if (depth.has(address)) return depth.get(address)!;
    const refs = [...JSON.stringify(bodies.get(address)).matchAll(REFERENCE)].map((m) => m[0]);
    const d = Math.max(-1, ...refs.filter((r) => bodies.has(r) && r !== address).map(depthOf)) + 1;
    depth.set(address, d);
    return d;
  };
  const levels: string[][] = [];
  for (const address of bodies.keys()) (levels[depthOf(address)] ??= []).push(address);
  return levels;
}

/** Appends `suffix` to every argument string of the given resources and data sources; returns how many. */
function mutateStrings(json: TerraformJson, addresses: readonly string[], suffix: string): number {
  let strings = 0;
  const META = new Set(['//', 'depends_on', 'provider', 'lifecycle', 'count', 'for_each']);
  const walk = (value: unknown): unknown => {
    if (typeof value === 'string') {
      strings++;
      return `${value}${suffix}`;
    }
    if (Array.isArray(value)) return value.map(walk);
    if (value && typeof value === 'object') {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, META.has(k) ? v : walk(v)]));
    }
    return value;
  };
  for (const address of addresses) {
    const [type, name] = address.replace(/^data\./, '').split('.') as [string, string];
    const byName = (json[address.startsWith('data.') ? 'data' : 'resource'] as Resources)[type]!;
    byName[name] = walk(byName[name]) as Json;
  }
  return strings;
}

describe('what the check catches (mutations of the synthesized dev stack)', () => {
  it('a literal `${` in any string: every string of every resource and data source is reported', () => {
    const levels = byDepth(dev());
    expect(levels.length).toBeGreaterThan(2);
    let total = 0;
    for (const addresses of levels) {
      const json = dev();
      const strings = mutateStrings(json, addresses, ' ${metric.labels.status}');
      total += strings;
      const undeclared = checkTerraformJson(json).problems.filter(
        (p) => p.summary === 'Reference to undeclared resource' && /"metric" "labels"/.test(p.detail ?? ''),
      );
      expect(undeclared).toHaveLength(strings);
      expect(new Set(undeclared.map((p) => p.address))).toEqual(new Set(addresses));
    }
    expect(total).toBeGreaterThan(500);
  });

  it('the escaped templates written unescaped: the dashboard legends and the typed display name fail', () => {
    const text = JSON.stringify(dev());
    expect(text).toContain('$${metric.labels.status}');
    const result = checkTerraformJson(
      JSON.parse(text.replaceAll('$${', '${').replaceAll('%%{', '%{')) as TerraformJson,
    );
    const failing = new Set(result.problems.map((p) => p.address?.split('.')[0]));
    expect(failing).toContain('google_monitoring_dashboard');
    expect(failing).toContain('google_cloudfunctions2_function');
  });

  it('an unterminated template in one string', () => {
    const json = dev();
    const topics = (json.resource as Record<string, Record<string, Json>>).google_pubsub_topic!;
    const [name, topic] = Object.entries(topics)[0]!;
    topic.name = `${String(topic.name)}-\${`;
    const result = checkTerraformJson(json);
    expect(result.problems).toEqual([expect.objectContaining({ address: `google_pubsub_topic.${name}` })]);
  });

  it('a dropped build_config.service_account of one function', () => {
    const json = dev();
    const functions = (json.resource as Record<string, Record<string, Json>>).google_cloudfunctions2_function!;
    const [name, fn] = Object.entries(functions)[0]!;
    delete (fn.build_config as Json).service_account;
    const result = checkTerraformJson(json);
    expect(result.problems).toEqual([
      expect.objectContaining({
        address: `google_cloudfunctions2_function.${name}`,
        summary: 'Missing build_config.service_account',
      }),
    ]);
  });

  it('a depends_on, a reference and a provider that name nothing', () => {
    const json = dev();
    const resources = json.resource as Record<string, Record<string, Json>>;
    const services = Object.entries(resources.google_project_service!);
    const [serviceName, service] = services.find(([name]) => name.includes('artifactregistry'))!;
    service.depends_on = ['google_pubsub_topic.no-such-topic'];
    const [dbName, db] = Object.entries(resources.google_firestore_database!)[0]!;
    db.location_id = '${google_storage_bucket.no-such-bucket.location}';
    const [saName, sa] = Object.entries(resources.google_service_account!)[0]!;
    sa.provider = 'google.elsewhere';
    const result = checkTerraformJson(json);
    expect(result.problems.map((p) => [p.address, p.summary, p.detail])).toEqual(
      expect.arrayContaining([
        [
          `google_project_service.${serviceName}`,
          'Reference to undeclared resource',
          'A managed resource "google_pubsub_topic" "no-such-topic" has not been declared in the root module.',
        ],
        [
          `google_firestore_database.${dbName}`,
          'Reference to undeclared resource',
          'A managed resource "google_storage_bucket" "no-such-bucket" has not been declared in the root module.',
        ],
        [
          `google_service_account.${saName}`,
          'Provider configuration not present',
          expect.stringContaining('google.elsewhere'),
        ],
      ]),
    );
    expect(result.problems).toHaveLength(3);
  });
});

describe('the rewriting onto terraform_data', () => {
  const config = (json: TerraformJson) => toOfflineConfig(json).config as { resource: { terraform_data: Json } };

  it('keeps references, indexes, meta-arguments and escapes, and Terraform accepts the result', () => {
    const input: TerraformJson = {
      provider: { google: [{ project: 'p' }, { alias: 'eu', project: 'p', region: 'europe-west1' }] },
      data: { google_project: { project: { project_id: 'p' } } },
      resource: {
        google_pubsub_topic: {
          t: {
            count: 2,
            name: 'topic-${count.index}-$${literal}',
            provider: 'google.eu',
            lifecycle: {
              ignore_changes: ['labels'],
              prevent_destroy: true,
              postcondition: [{ condition: '${self.name != ""}', error_message: 'named' }],
            },
          },
        },
        google_pubsub_subscription: {
          s: {
            topic: '${google_pubsub_topic.t[0].id}',
            labels: { n: '${data.google_project.project.number}', up: '${upper(google_pubsub_topic.t[1].name)}' },
            depends_on: ['google_pubsub_topic.t'],
          },
        },
      },
    };
    expect(formatProblems(checkTerraformJson(input).problems)).toBe('');
    const data = config(input).resource.terraform_data;
    expect(data.google_pubsub_topic__t).toEqual({
      input: { name: 'topic-${count.index}-$${literal}' },
      count: 2,
      lifecycle: {
        ignore_changes: ['input'],
        prevent_destroy: true,
        postcondition: [{ condition: '${self.output.name != ""}', error_message: 'named' }],
      },
    });
    expect(data.google_pubsub_subscription__s).toEqual({
      input: {
        topic: '${terraform_data.google_pubsub_topic__t[0].output.id}',
        labels: {
          n: '${terraform_data.data__google_project__project.output.number}',
          up: '${upper(terraform_data.google_pubsub_topic__t[1].output.name)}',
        },
      },
      depends_on: ['terraform_data.google_pubsub_topic__t'],
    });
    expect(data.provider__google__1).toEqual({ input: { alias: 'eu', project: 'p', region: 'europe-west1' } });
  });
});

it('Terraform reads a display name holding `${`, `%{` and `$${` exactly as it was typed', () => {
  const typed = fixtures[0]!.connectors[0]!.displayName;
  const planned = plannedArguments(synth.stacks.dev!.json as unknown as TerraformJson);
  const functions = [...planned].filter(([address]) => address.startsWith('google_cloudfunctions2_function.'));
  const descriptions = functions.map(([, input]) => String(input.description));
  expect(descriptions.some((d) => d.endsWith(`for '${typed}'`))).toBe(true);
  const channels = [...planned].filter(([address]) => address.startsWith('google_monitoring_alert_policy.'));
  expect(channels.some(([, input]) => JSON.stringify(input.documentation).includes(typed))).toBe(true);
});
