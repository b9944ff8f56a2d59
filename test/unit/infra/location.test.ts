/**
 * Data residency: a connector with its own `location` runs there (its function, Firestore database, probe job, storage
 * importer and the invoker bindings of those services, and the door of its Braze workspace), whatever its environment's
 * region; the others run in the environment's region. An EU connector outside the EU is refused at synth unless allowed.
 */
import { workspaceDoors } from '../../../shared/door';
import { connector } from '../../fixtures/connector';
import { connectorResources, type SynthJson, synthEnvironments } from '../../support/infra/helpers';

const synth = synthEnvironments([
  {
    name: 'mixed',
    project: 'acme-mixed',
    region: 'us-central1',
    connectors: [
      connector('eu-placed', { location: 'europe-west3', storage: { bucket: 'braze-eu-export', prefix: 'c' } }),
      connector('us-default', { segment: { region: 'us', credential: { kind: 'writeKey' } } }),
    ],
  },
]);
const stack = synth.stacks.mixed!.json;

/** Every location-bearing field of a connector's resources, by resource type. */
function locations(name: string, json: SynthJson = stack): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const { type, body } of connectorResources(json, name)) {
    const where = (body.location ?? body.location_id ?? body.region) as string | undefined;
    if (where !== undefined) (out[type] ??= []).push(where);
  }
  return out;
}

describe("a connector's location", () => {
  it('places everything regional of the connector there: function, database, probe, importer, invokers, its door', () => {
    const placed = locations('eu-placed');
    expect(Object.keys(placed).sort()).toEqual([
      'google_cloud_run_v2_service_iam_member',
      'google_cloud_scheduler_job',
      'google_cloudfunctions2_function',
      'google_firestore_database',
    ]);
    for (const list of Object.values(placed)) expect(new Set(list)).toEqual(new Set(['europe-west3']));
    expect(placed.google_cloudfunctions2_function).toHaveLength(4); // the function, the importer, and the backfill's function and importer
    // The receiver is its Braze workspace's door (infra/door.ts), placed where the workspace's connectors run.
    const [door] = workspaceDoors(synth.environments[0]!.connectors.filter((c) => c.name === 'eu-placed'));
    const fns = Object.values(stack.resource.google_cloudfunctions2_function!) as { name: string; location: string }[];
    expect(fns.find((f) => f.name === door!.names.function)?.location).toBe('europe-west3');
  });

  it("leaves a connector without one in the environment's region", () => {
    for (const list of Object.values(locations('us-default'))) expect(new Set(list)).toEqual(new Set(['us-central1']));
  });

  it('is refused at synth for an EU connector outside the EU, saying how to allow it', () => {
    const env = (c: object) => [{ name: 'x', project: 'acme-xx', region: 'us-east1', connectors: [c] }];
    expect(() => synthEnvironments(env(connector('eu-away')))).toThrow(
      /connector 'eu-away' of environment 'x': location us-east1 \(its environment's region: the connector sets no location\) is outside the EU.*set allowOutsideEu: true/,
    );
    expect(() => synthEnvironments(env(connector('eu-london', { location: 'europe-west2' })))).toThrow(
      /location europe-west2 \(its own\) is outside the EU/,
    );
    const allowed = synthEnvironments(env(connector('eu-here', { allowOutsideEu: true })));
    expect(locations('eu-here', allowed.stacks.x!.json).google_firestore_database).toEqual(['us-east1']);
  });
});
