/**
 * The environment stack: provider, backend, APIs, the source bucket and the content-hashed runtime archive; validation
 * errors at synth with the schema's messages; resource names within GCP's limits for the longest allowed name.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { Testing } from 'cdktf';
import { unzipSync } from 'fflate';
import { environments } from '../../fixtures/definitions';
import { defineEnvironments } from '../../../infra/app';
import {
  buildRuntimeArchive,
  REPO_ROOT,
  RUNTIME_DEPENDENCIES,
  RuntimeEntryMissingError,
  deterministicZip,
  runtimeManifestFiles,
} from '../../../infra/runtime-archive';
import { ConnectorValidationError, formatValidationError, validateEnvironments } from '../../../shared/connector';
import { doorTokenSecretOutput, doorUrlOutput, workspaceDoors } from '../../../shared/door';
import { MAX_CONNECTOR_NAME_LENGTH, resourceNames } from '../../../shared/names';
import { environments as broken } from '../../fixtures/broken-connectors';
import { environments as manyProblems } from '../../fixtures/many-problems';
import {
  FIXTURE_ENTRY,
  fixtureArchive,
  fixtureReceiverArchive,
  type Json,
  resources,
  synthEnvironments,
} from '../../support/infra/helpers';

const synth = synthEnvironments(environments);
const prod = synth.stacks.prod!.json;
const dev = synth.stacks.dev!.json;

describe('environment stacks', () => {
  it('makes one stack per environment, named after it (cdktf deploy <env>)', () => {
    expect(Object.keys(synth.stacks).sort()).toEqual(environments.map((e) => e.name).sort());
  });

  it('configures the Google provider 6.50 (and google-beta at the same version) for the environment, and time', () => {
    const required = prod.terraform.required_providers as Record<string, Json>;
    expect(required.google).toMatchObject({ version: expect.stringMatching(/^6\.50/) });
    expect(required['google-beta']).toMatchObject({ version: required.google!.version });
    expect(Object.keys(required).sort()).toEqual(['google', 'google-beta', 'time']);
    const google = [{ project: 'replace-me-prod', region: 'us-central1' }];
    expect(prod.provider).toEqual({ google, 'google-beta': google, time: [{}] });
  });

  it('stores state in GCS when the environment has a backend, locally otherwise', () => {
    expect(prod.terraform.backend).toEqual({ gcs: { bucket: 'replace-me-prod-tfstate', prefix: 'currents-segment' } });
    expect(dev.terraform.backend).toEqual({ local: { path: expect.stringMatching(/terraform\.dev\.tfstate$/) } });
  });

  it('keeps local state at the repository root, by a path relative to where Terraform runs (not the checkout)', () => {
    const path = (dev.terraform.backend as { local: { path: string } }).local.path;
    expect(isAbsolute(path)).toBe(false);
    expect(path).not.toContain(REPO_ROOT);
    // `cdktf deploy dev` and `terraform -chdir=cdktf.out/stacks/dev` both run Terraform in the stack's directory.
    expect(resolve(REPO_ROOT, 'cdktf.out', 'stacks', 'dev', path)).toBe(join(REPO_ROOT, 'terraform.dev.tfstate'));
  });

  it('enables the APIs it needs, without disabling them on destroy', () => {
    const services = resources(prod, 'google_project_service');
    expect(services.map((s) => s.service).sort()).toEqual(
      [
        'artifactregistry',
        'cloudbuild',
        'cloudfunctions',
        'cloudresourcemanager',
        'cloudscheduler',
        'firestore',
        'iam',
        'logging',
        'monitoring',
        'pubsub',
        'run',
        'secretmanager',
        'storage',
      ].map((s) => `${s}.googleapis.com`),
    );
    for (const s of services) expect(s.disable_on_destroy).toBe(false);
  });

  it('keeps the function source in a private bucket: uniform access, public access prevention enforced', () => {
    const [bucket] = resources(prod, 'google_storage_bucket');
    expect(bucket).toMatchObject({
      name: 'replace-me-prod-currents-function-source',
      uniform_bucket_level_access: true,
      public_access_prevention: 'enforced',
      location: 'us-central1',
    });
    expect(Object.keys(prod.resource).filter((t) => t.startsWith('google_storage_bucket_'))).toEqual([
      'google_storage_bucket_object',
    ]);
  });

  it('uploads the function’s and the receiver’s archives, each under a name that is its content hash', () => {
    const objects = prod.resource.google_storage_bucket_object!;
    expect(Object.keys(objects).sort()).toEqual(['function-source-object', 'receiver-source-object']);
    for (const [id, archive, prefix] of [
      ['function-source-object', fixtureArchive(), 'function-source'],
      ['receiver-source-object', fixtureReceiverArchive(), 'receiver-source'],
    ] as const) {
      expect(objects[id]).toMatchObject({
        name: `${prefix}/${archive.sha256}.zip`,
        bucket: '${google_storage_bucket.function-source-bucket.name}',
        content_type: 'application/zip',
        source: expect.stringContaining(archive.sha256),
      });
    }
    expect(fixtureReceiverArchive().sha256).not.toBe(fixtureArchive().sha256);
  });

  it('outputs per connector its topic, dead-letter subscription and secret, per workspace its door; nothing secret', () => {
    const env = synth.environments.find((e) => e.name === 'prod')!;
    const expected: Record<string, string> = {};
    const id = (type: string, key: string, value: string) =>
      Object.entries(prod.resource[type]!).find(([, r]) => r[key] === value)![0];
    for (const c of env.connectors) {
      const n = resourceNames(c.name);
      expected[`${c.name}-ingest-topic`] =
        `\${google_pubsub_topic.${id('google_pubsub_topic', 'name', n.ingestTopic)}.id}`;
      expected[`${c.name}-dead-letter-subscription`] =
        `\${google_pubsub_subscription.${id('google_pubsub_subscription', 'name', n.deadLetterSubscription)}.id}`;
      expected[`${c.name}-secret`] =
        `\${google_secret_manager_secret.${id('google_secret_manager_secret', 'secret_id', n.secret)}.id}`;
    }
    // One door per Braze workspace: its URL and its token secret (never a token).
    for (const d of workspaceDoors(env.connectors)) {
      expected[doorTokenSecretOutput(d.workspace)] =
        `\${google_secret_manager_secret.${id('google_secret_manager_secret', 'secret_id', d.names.tokenSecret)}.id}`;
      expected[doorUrlOutput(d.workspace)] =
        `\${google_cloudfunctions2_function.${id('google_cloudfunctions2_function', 'name', d.names.function)}.url}`;
    }
    const outputs = Object.fromEntries(Object.entries(prod.output!).map(([k, o]) => [k, o.value]));
    expect(outputs).toEqual({ ...expected, 'dashboard-name': 'Currents → Segment: prod' });
    expect(prod.output![doorUrlOutput('braze-workspace-us')]!.description).toMatch(
      /door of Braze workspace 'braze-workspace-us' \(journeys-us, messaging-us\), to paste into its Custom Currents Export/,
    );
  });
});

/** The archive's files as text (fflate's unzip: no `unzip` binary needed). */
const unpack = (path: string): Record<string, string> =>
  Object.fromEntries(
    Object.entries(unzipSync(readFileSync(path))).map(([n, d]) => [n, Buffer.from(d).toString('utf8')]),
  );

describe('the runtime archive', () => {
  const dir = mkdtempSync(join(tmpdir(), 'currents-archive-'));
  const entry = join(dir, 'function.ts');
  writeFileSync(
    entry,
    readFileSync(FIXTURE_ENTRY, 'utf8').replace(
      "'../../../../shared/names'",
      `'${join(__dirname, '..', '..', '..', 'shared', 'names')}'`,
    ),
  );

  it('is byte-identical for an unchanged build, and renamed by a code change', () => {
    const a = buildRuntimeArchive({ entry, outDir: join(dir, 'a') });
    const b = buildRuntimeArchive({ entry, outDir: join(dir, 'b') });
    expect(b.sha256).toBe(a.sha256);
    expect(readFileSync(b.path).equals(readFileSync(a.path))).toBe(true);
    writeFileSync(entry, `${readFileSync(entry, 'utf8')}\nexport const changed = 1;\n`);
    const c = buildRuntimeArchive({ entry, outDir: join(dir, 'c') });
    expect(c.sha256).not.toBe(a.sha256);
    expect(c.objectName).not.toBe(a.objectName);
  });

  it('zips the same bytes whatever the time zone of the machine that builds it', () => {
    const files = { 'b.txt': Buffer.from('b'), 'a.txt': Buffer.from('a') };
    const zone = process.env.TZ;
    try {
      process.env.TZ = 'Pacific/Kiritimati';
      const east = deterministicZip(files);
      process.env.TZ = 'America/Adak';
      const west = deterministicZip(files);
      expect(west.equals(east)).toBe(true);
      expect(Object.keys(unzipSync(west))).toEqual(['a.txt', 'b.txt']);
    } finally {
      if (zone === undefined) delete process.env.TZ;
      else process.env.TZ = zone;
    }
  });

  it('holds the bundle (shared code inlined, packages external), and the exact versions and tree of the lockfile', () => {
    const files = unpack(fixtureArchive().path);
    expect(Object.keys(files).sort()).toEqual(['index.js', 'package-lock.json', 'package.json']);
    const index = files['index.js']!;
    expect(index).toContain('require("@google-cloud/functions-framework")');
    expect(index).toContain('function resourceNames('); // bundled from shared/names.ts
    const pkg = JSON.parse(files['package.json']!);
    const lock = JSON.parse(readFileSync(join(__dirname, '..', '..', '..', 'package-lock.json'), 'utf8'));
    expect(pkg.main).toBe('index.js');
    expect(Object.keys(pkg.dependencies).sort()).toEqual([...RUNTIME_DEPENDENCIES].sort());
    // Exact versions (no ranges): the ones the repository's lockfile installed and the tests ran.
    for (const d of RUNTIME_DEPENDENCIES) {
      expect(pkg.dependencies[d]).toMatch(/^\d+\.\d+\.\d+$/);
      expect(pkg.dependencies[d]).toBe(lock.packages[`node_modules/${d}`].version);
    }
    expect(pkg.devDependencies).toBeUndefined();
    // The shipped lockfile: the root entry says what package.json says; every entry is the repository lockfile's own,
    // at the same path, with its integrity; no test tool (jest, eslint, cdktf) comes along.
    const shipped = JSON.parse(files['package-lock.json']!);
    expect(shipped.packages[''].dependencies).toEqual(pkg.dependencies);
    const paths = Object.keys(shipped.packages).filter((p) => p);
    expect(paths.length).toBeGreaterThan(RUNTIME_DEPENDENCIES.length);
    for (const p of paths) {
      const { optional: _o, ...mine } = shipped.packages[p];
      const { dev: _d, devOptional: _do, peer: _p, optional: _o2, ...theirs } = lock.packages[p];
      expect(mine).toEqual(theirs);
      expect(mine.integrity).toMatch(/^sha512-/);
    }
    for (const tool of ['jest', 'eslint', 'cdktf', 'typescript', 'esbuild']) {
      expect(shipped.packages[`node_modules/${tool}`]).toBeUndefined();
    }
  });

  it('bundles the receiver from its own entry point, exporting the receiver target', () => {
    const archive = fixtureReceiverArchive();
    expect(archive.objectName).toBe(`receiver-source/${archive.sha256}.zip`);
    const index = unpack(archive.path)['index.js']!;
    expect(index).toMatch(/http\)\("receiver"|http\("receiver"/);
    expect(index).toContain('-door-'); // the fixture names its door (shared/door.ts doorNames), bundled in
  });

  it('names a missing receiver entry point and the variable that overrides it', () => {
    expect(() =>
      buildRuntimeArchive({ kind: 'receiver', entry: join(dir, 'runtime', 'receiver', 'function.ts') }),
    ).toThrow(
      /the receiver's entry point .*runtime\/receiver\/function\.ts does not exist: the runtime must export the HTTP function 'receiver' from it .*CURRENTS_RECEIVER_ENTRY/,
    );
  });

  it('names a missing entry point', () => {
    expect(() => buildRuntimeArchive({ entry: join(dir, 'runtime', 'function.ts') })).toThrow(RuntimeEntryMissingError);
    expect(() => buildRuntimeArchive({ entry: join(dir, 'runtime', 'function.ts') })).toThrow(
      /entry point .*runtime\/function\.ts does not exist: the runtime must export the HTTP function 'currents'/,
    );
  });

  it('refuses a runtime that imports a package its package.json would not install', () => {
    const bad = join(dir, 'bad.ts');
    // fflate is a dependency of the infrastructure (archives), not of the deployed runtime.
    writeFileSync(bad, "import { zipSync } from 'fflate';\nexport const z = zipSync;\n");
    expect(() => buildRuntimeArchive({ entry: bad, outDir: join(dir, 'bad') })).toThrow(
      /the runtime imports 'fflate', which the function's package.json would not install/,
    );
  });

  it('refuses a package.json that lacks a runtime dependency', () => {
    const pkg = join(dir, 'package.json');
    writeFileSync(pkg, JSON.stringify({ dependencies: { zod: '^4' } }));
    expect(() => runtimeManifestFiles(pkg)).toThrow(/has no dependency '@google-cloud\/functions-framework'/);
  });
});

describe('validation at synth', () => {
  it.each([
    ['broken-connectors', broken, 6],
    ['many-problems', manyProblems, 19],
  ])("fails with the schema's messages, every problem at once (%s)", (_name, inputs, count) => {
    const expected = validateEnvironments(inputs).errors.map(formatValidationError);
    expect(expected).toHaveLength(count);
    let error: unknown;
    try {
      defineEnvironments(Testing.app(), inputs, { archive: fixtureArchive() });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConnectorValidationError);
    expect((error as Error).message).toContain(`${count} problems in the connector definitions:`);
    for (const line of expected) expect((error as Error).message).toContain(`  - ${line}`);
  });

  it('validates before building anything: a missing runtime is not reported over bad definitions', () => {
    expect(() => defineEnvironments(Testing.app(), broken, { runtime: { entry: '/nonexistent/function.ts' } })).toThrow(
      ConnectorValidationError,
    );
  });
});

describe('resource names at the longest allowed connector name', () => {
  const longest = 'a'.repeat(MAX_CONNECTOR_NAME_LENGTH - 2) + '-z';
  const base = environments[0]!;
  const env = {
    ...base,
    name: 'longest',
    project: 'a-project-id-of-thirty-chars-x',
    connectors: [{ ...base.connectors[0]!, name: longest }],
  };
  const { json } = synthEnvironments([env]).stacks.longest!;
  // GCP's own limits, written here independently of shared/names.ts.
  const LIMITS: [type: string, field: string, max: number, pattern?: RegExp][] = [
    ['google_service_account', 'account_id', 30, /^[a-z]([-a-z0-9]*[a-z0-9])$/],
    ['google_cloudfunctions2_function', 'name', 63, /^[a-z]([-a-z0-9]*[a-z0-9])?$/],
    ['google_firestore_database', 'name', 63, /^[a-z][-a-z0-9]{2,61}[a-z0-9]$/],
    ['google_pubsub_topic', 'name', 255, /^[a-zA-Z][-\w.~+%]{2,}$/],
    ['google_pubsub_subscription', 'name', 255, /^[a-zA-Z][-\w.~+%]{2,}$/],
    ['google_secret_manager_secret', 'secret_id', 255, /^[\w-]+$/],
    ['google_cloud_scheduler_job', 'name', 500, /^[\w-]+$/],
    ['google_logging_metric', 'name', 100],
    ['google_storage_bucket', 'name', 63, /^[a-z0-9][-a-z0-9_.]*[a-z0-9]$/],
  ];

  it('synthesizes a connector named with the maximum length and every name fits', () => {
    for (const [type, field, max, pattern] of LIMITS) {
      const values = resources(json, type).map((r) => r[field] as string);
      expect(values.length).toBeGreaterThan(0);
      for (const v of values) {
        expect(v.length).toBeLessThanOrEqual(max);
        if (pattern) expect(v).toMatch(pattern);
      }
    }
    for (const r of resources(json, 'google_project_iam_member').filter((m) => m.condition)) {
      expect(((r.condition as Json).title as string).length).toBeLessThanOrEqual(100);
    }
    for (const r of Object.values(json.resource).flatMap((byId) => Object.values(byId))) {
      for (const v of Object.values((r.labels as Record<string, string>) ?? {}))
        expect(v.length).toBeLessThanOrEqual(63);
    }
  });

  it('refuses one character more at synth, with the schema’s message', () => {
    const tooLong = { ...env, connectors: [{ ...env.connectors[0]!, name: `${longest}x` }] };
    expect(() => synthEnvironments([tooLong])).toThrow(
      new RegExp(
        `connector '${longest}x' of environment 'longest': name is ${MAX_CONNECTOR_NAME_LENGTH + 1} characters long; a connector name may have at most ${MAX_CONNECTOR_NAME_LENGTH},`,
      ),
    );
  });
});
