/** Shared helpers of the infrastructure tests: a fixture runtime archive and synthesized stacks as plain JSON. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Testing } from 'cdktf';
import { defineEnvironments } from '../../../infra/app';
import { buildRuntimeArchive, type RuntimeArchive } from '../../../infra/runtime-archive';
import type { Environment } from '../../../shared/connector';

export const FIXTURE_ENTRY = join(__dirname, 'fixtures', 'function.ts');
export const FIXTURE_RECEIVER_ENTRY = join(__dirname, 'fixtures', 'receiver.ts');

export type Json = Record<string, unknown>;
export interface SynthJson {
  terraform: Json;
  provider?: Json;
  resource: Record<string, Record<string, Json>>;
  data?: Record<string, Record<string, Json>>;
  output?: Record<string, Json>;
}

let archive: RuntimeArchive | undefined;
let receiverArchive: RuntimeArchive | undefined;
/** The fixture entry bundled once per test file (the tests never depend on the runtime's progress). */
export function fixtureArchive(): RuntimeArchive {
  archive ??= buildRuntimeArchive({
    entry: FIXTURE_ENTRY,
    outDir: mkdtempSync(join(tmpdir(), 'currents-infra-test-')),
  });
  return archive;
}
/** The fixture receiver entry, bundled once per test file. */
export function fixtureReceiverArchive(): RuntimeArchive {
  receiverArchive ??= buildRuntimeArchive({
    kind: 'receiver',
    entry: FIXTURE_RECEIVER_ENTRY,
    outDir: mkdtempSync(join(tmpdir(), 'currents-infra-test-')),
  });
  return receiverArchive;
}
/** Both fixture archives, as `defineEnvironments` options. */
export const fixtureArchives = () => ({ archive: fixtureArchive(), receiverArchive: fixtureReceiverArchive() });

export interface Synthesized {
  environments: Environment[];
  /** Per environment: the stack's Terraform JSON as a string (for cdktf's matchers) and parsed. */
  stacks: Record<string, { text: string; json: SynthJson }>;
}

/** Synthesizes environment definitions the way `cdktf synth` does (validation included). */
export function synthEnvironments(inputs: readonly unknown[]): Synthesized {
  const app = Testing.app();
  const { environments, stacks } = defineEnvironments(app, inputs, fixtureArchives());
  const out: Synthesized['stacks'] = {};
  for (const stack of stacks) {
    const text = Testing.synth(stack);
    out[stack.environment.name] = { text, json: JSON.parse(text) as SynthJson };
  }
  return { environments, stacks: out };
}

/** All resources of one type, in the order of their logical ids. */
export function resources(json: SynthJson, type: string): Json[] {
  return Object.values(json.resource[type] ?? {});
}

/** The resources of one connector (by the construct path recorded in the metadata). */
export function connectorResources(json: SynthJson, connector: string): { type: string; id: string; body: Json }[] {
  const out: { type: string; id: string; body: Json }[] = [];
  for (const [type, byId] of Object.entries(json.resource)) {
    for (const [id, body] of Object.entries(byId)) {
      if (id.startsWith(`connector-${connector}_`)) out.push({ type, id, body });
    }
  }
  return out;
}

/** `${type.id.attr}` reference to a resource found by type and predicate. */
export function refOf(json: SynthJson, type: string, where: (r: Json) => boolean, attr: string): string {
  const entry = Object.entries(json.resource[type] ?? {}).find(([, r]) => where(r));
  if (!entry) throw new Error(`no ${type} matching`);
  return `\${${type}.${entry[0]}.${attr}}`;
}

/**
 * The `dev` stack's Terraform JSON for connectors given by their own fields only: each gets a display name, a contact,
 * an EU write-key Segment destination and workspace `ws1` unless it says otherwise.
 */
export function synthDevConnectors(connectors: readonly Json[]): SynthJson {
  const base = {
    displayName: 'x',
    contactEmail: 'team@example.com',
    workspace: 'ws1',
    segment: { region: 'eu', credential: { kind: 'writeKey' } },
  };
  const { stacks } = synthEnvironments([
    {
      name: 'dev',
      project: 'acme-currents-dev',
      region: 'europe-west1',
      connectors: connectors.map((c) => ({ ...base, ...c })),
    },
  ]);
  return stacks.dev!.json;
}
