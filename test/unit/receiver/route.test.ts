/**
 * The door's routing, pure: each event to the connector of the workspace that selects its type, types no connector
 * selects counted by type and published nowhere, what cannot be routed to the workspace's fallback connector, and the
 * events' bytes as Braze sent them.
 */
import fc from 'fast-check';
import { routeBody, routeParsed, type Routing } from '../../../runtime/receiver/route';
import { loadEnvironments, validateEnvironments } from '../../../shared/connector';
import { doorEnvironment, parseDoorConfig } from '../../../shared/door-config';
import { CATALOG } from '../../../shared/catalog';
import { brazeBox, doorId, doorNames, routeOf, workspaceDoor, workspaceDoors } from '../../../shared/door';
import { connectorDefinition } from '../../support/function/fixture';
import { anyBody, writtenEnvelope } from '../../support/receiver/json-text';

const [env] = loadEnvironments([
  {
    name: 'test',
    project: 'route-test',
    region: 'europe-west1',
    connectors: [
      connectorDefinition({ name: 'journeys', workspace: 'ws-a', events: ['canvas', 'campaigns'] }),
      connectorDefinition({ name: 'email', workspace: 'ws-a', events: ['email'] }),
      connectorDefinition({ name: 'other', workspace: 'ws-b', events: ['sms'] }),
    ],
  },
]);
const [a, b] = workspaceDoors(env!.connectors);

const ev = (type: unknown, id: string) => ({ event_type: type, id, time: 1_764_000_000, user: { user_id: id } });
const body = (events: unknown[]) => Buffer.from(JSON.stringify({ events }));
const parts = (r: ReturnType<typeof routeBody>) =>
  Object.fromEntries(
    r.parts.map((p) => [
      p.connector,
      (JSON.parse(p.body.toString()) as { events: { id: string }[] }).events.map((e) => e.id),
    ]),
  );

describe('the doors of an environment', () => {
  it('one door per workspace, routing each selected type to its connector; the rest left unticked', () => {
    expect(workspaceDoors(env!.connectors).map((d) => [d.workspace, d.connectors.map((c) => c.name)])).toEqual([
      ['ws-a', ['email', 'journeys']],
      ['ws-b', ['other']],
    ]);
    expect(a!.routes.get('users.messages.email.Open')).toBe('email');
    expect(a!.routes.get('users.canvas.Entry')).toBe('journeys');
    expect(a!.routes.has('users.messages.sms.Send')).toBe(false);
    expect(a!.fallback).toBe('email');
    expect(a!.boxes.length + a!.unselected.length).toBe(CATALOG.length); // every type a Current can carry
    expect(a!.boxes).toContainEqual({ label: 'Email Opened', type: 'users.messages.email.Open' });
    expect(a!.boxes).toContainEqual({
      label: 'Canvas Exited (matched audience)',
      type: 'users.canvas.exit.MatchedAudience',
    });
    expect(b!.boxes.map((x) => x.label)).toEqual([
      'SMS Aborted',
      'SMS Sent to Carrier',
      'SMS Delivered',
      'SMS Delivery Failed',
      'SMS Inbound Received',
      'SMS Rejected',
      'SMS Retried',
      'SMS Sent',
      'SMS Short Link Clicked',
    ]);
  });

  it('names door resources within GCP limits, distinct for distinct workspaces, readable when it can', () => {
    expect(doorId('braze-us')).toBe('braze-us');
    const uuid = '3f1c2a9e-5b7d-4e21-9a0c-8d6f4b2e1a77';
    const ids = [uuid, uuid.toUpperCase(), 'Braze US', 'braze us', 'a'.repeat(17), '123-workspace'].map(doorId);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) {
      expect(id).toMatch(/^[a-z][a-z0-9-]*[a-z0-9]$/);
      const n = doorNames(id);
      expect(doorNames(id).serviceAccount.length).toBeLessThanOrEqual(30);
      expect(n.function.length).toBeLessThanOrEqual(63);
    }
    expect(() => workspaceDoor('ws-a', env!.connectors)).toThrow(/belongs to workspace 'ws-b'/);
    expect(brazeBox('users.messages.pushnotification.Open').label).toBe('Push Notification Tapped');
  });
});

describe('routeBody', () => {
  it('publishes a request whose events all go to one connector as it came', () => {
    const raw = body([ev('users.messages.email.Open', 'e1'), ev('users.messages.email.Click', 'e2')]);
    const r = routeBody(raw, a!);
    expect(r.parts).toHaveLength(1);
    expect(r.parts[0]!.body).toBe(raw);
    expect(r).toMatchObject({ empty: false, events: 2, notSelected: {} });
  });

  it('splits a request by connector, counts the types no connector selects, keeps each event byte for byte', () => {
    const events = [
      ev('users.messages.email.Open', 'e1'),
      ev('users.canvas.Entry', 'c1'),
      ev('users_canvas_abort', 'c2'), // a legacy spelling of users.canvas.Abort
      ev('users.messages.sms.Send', 's1'), // selected in another workspace only
      ev('users.behaviors.CustomEvent', 'x1'), // not exportable
      ev('users.messages.sms.Send', 's2'),
      ev(42, 'bad-type'),
      'not an event',
      ev('users.messages.email.Send', 'e2'),
    ];
    const r = routeBody(body(events), a!);
    expect(r.events).toBe(9);
    expect(r.notSelected).toEqual({ 'users.messages.sms.Send': 2, 'users.behaviors.CustomEvent': 1 });
    expect(parts({ ...r, parts: r.parts.filter((p) => p.connector === 'journeys') })).toEqual({
      journeys: ['c1', 'c2'],
    });
    const email = JSON.parse(r.parts.find((p) => p.connector === 'email')!.body.toString()) as { events: unknown[] };
    // The fallback connector (email) gets what cannot be routed, for its function to dead-letter with a reason.
    expect(email.events).toEqual([events[0], events[6], 'not an event', events[8]]);
    expect(r.parts.map((p) => [p.connector, p.events])).toEqual([
      ['email', 4],
      ['journeys', 2],
    ]);
  });

  it('publishes nothing for a request of types no connector selects, and counts them', () => {
    const r = routeBody(body([ev('users.canvas.Entry', 'c1')]), b!);
    expect(r).toEqual({ empty: false, events: 1, parts: [], notSelected: { 'users.canvas.Entry': 1 } });
  });

  it('counts types named like Object members as any other type, touching no prototype', () => {
    const names = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf'];
    const r = routeBody(body([...names.map((n, i) => ev(n, `p${i}`)), ev('users.canvas.Entry', 'c1')]), b!);
    expect(r.parts).toEqual([]);
    expect(Object.entries(r.notSelected)).toEqual([...names.map((n) => [n, 1]), ['users.canvas.Entry', 1]]);
    expect(Object.getPrototypeOf(r.notSelected)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('routes an envelope whose key is escaped (read by JSON.parse), and sends bodies it cannot read to the fallback', () => {
    const escaped = Buffer.from(
      `{"ev\\u0065nts":[${JSON.stringify(ev('users.canvas.Entry', 'c1'))},${JSON.stringify(ev('users.messages.email.Open', 'e1'))}]}`,
    );
    expect(parts(routeBody(escaped, a!))).toEqual({ journeys: ['c1'], email: ['e1'] });
    for (const text of ['not json', '[1,2]', '{"events":{}}', '{"event_type":"users.canvas.Entry"}']) {
      const r = routeBody(Buffer.from(text), a!);
      expect(r.parts).toEqual([{ connector: 'email', body: Buffer.from(text) }]);
    }
    const gz = Buffer.from([0x1f, 0x8b, 1, 2]);
    expect(routeBody(gz, a!, false).parts).toEqual([{ connector: 'email', body: gz }]);
  });
});

describe('routeBody reads the body as bytes, and routes it as JSON.parse reads it', () => {
  /** A routing as compared: each part's events as JSON.parse reads them (written back, as the parse router does). */
  const seen = (r: Routing) => ({
    ...r,
    parts: r.parts.map((p) => ({
      ...p,
      body: p.events === undefined ? p.body.toString('base64') : JSON.stringify(JSON.parse(p.body.toString('utf8'))),
    })),
  });

  it('routes any body (escapes, unicode, number forms, whitespace, repeated keys, damaged) as the JSON.parse router', () => {
    fc.assert(
      fc.property(anyBody, (body) => {
        const got = routeBody(body, a!);
        if (/^[ \t\r\n]*$/.test(body.toString('latin1'))) expect(got.empty).toBe(true);
        else expect(seen(got)).toEqual(seen(routeParsed(body, a!)));
      }),
      { numRuns: 2000 },
    );
  });

  it("publishes each event's bytes exactly as Braze wrote them, in its connector's envelope", () => {
    fc.assert(
      fc.property(writtenEnvelope, ({ text, eventTexts }) => {
        const groups = new Map<string, string[]>();
        const unselected = new Map<string, number>(); // counted apart from a plain object: types such as `toString` are data
        for (const eventText of eventTexts) {
          const e = JSON.parse(eventText) as { event_type?: unknown } | null;
          const type = e && typeof e === 'object' && !Array.isArray(e) ? e.event_type : undefined;
          const route = typeof type === 'string' ? routeOf(a!, type) : { connector: a!.fallback };
          if ('notSelected' in route) unselected.set(route.notSelected, (unselected.get(route.notSelected) ?? 0) + 1);
          else groups.set(route.connector, [...(groups.get(route.connector) ?? []), eventText]);
        }
        const notSelected = Object.fromEntries(unselected);
        const whole = groups.size === 1 && !unselected.size;
        const r = routeBody(Buffer.from(text), a!);
        expect(r).toMatchObject({ empty: eventTexts.length === 0, events: eventTexts.length, notSelected });
        expect(r.parts.map((p) => [p.connector, p.events, p.body.toString('utf8')])).toEqual(
          [...groups].map(([c, texts]) => [c, texts.length, whole ? text : `{"events":[${texts.join(',')}]}`]),
        );
      }),
      { numRuns: 1000 },
    );
  });
});

describe("the door's configuration and its validation", () => {
  const base = { CURRENTS_ENVIRONMENT: 'test', GOOGLE_CLOUD_PROJECT: 'route-test', CURRENTS_WORKSPACE: 'ws-a' };
  it('parses back what the infrastructure writes, and says what is wrong with anything else', () => {
    const vars = doorEnvironment(env!, a!, 30);
    expect(parseDoorConfig(vars)).toMatchObject({ timeoutSeconds: 30, door: { workspace: 'ws-a', fallback: 'email' } });
    const bad = (over: Record<string, string | undefined>) => () => parseDoorConfig({ ...vars, ...over });
    expect(bad({ CURRENTS_WORKSPACE: undefined })).toThrow(/missing environment variable\(s\) CURRENTS_WORKSPACE/);
    expect(bad({ CURRENTS_WORKSPACE_CONNECTORS: '[' })).toThrow(/CURRENTS_WORKSPACE_CONNECTORS is not valid JSON/);
    expect(bad({ CURRENTS_WORKSPACE_CONNECTORS: '[]' })).toThrow(/at least one connector definition/);
    expect(bad({ CURRENTS_WORKSPACE: 'ws-b' })).toThrow(/connector 'email' belongs to workspace 'ws-a', not 'ws-b'/);
    const overlapping = JSON.stringify([...a!.connectors, { ...a!.connectors[0]!, name: 'email-2' }]);
    expect(bad({ CURRENTS_WORKSPACE_CONNECTORS: overlapping })).toThrow(/'email' and 'email-2' .* both select/);
    expect(bad({ CURRENTS_TIMEOUT_SECONDS: '1.5' })).toThrow(
      /CURRENTS_TIMEOUT_SECONDS must be a positive whole number/,
    );
    expect(() => parseDoorConfig(base)).toThrow(/CURRENTS_WORKSPACE_CONNECTORS/);
  });

  it('refuses a connector whose resources would be named like a door of its environment', () => {
    const { errors } = validateEnvironments([
      {
        name: 'test',
        project: 'route-test',
        region: 'europe-west1',
        connectors: [
          connectorDefinition({ name: 'door-acme', workspace: 'acme', events: ['email'] }),
          connectorDefinition({ name: 'fine', workspace: 'other', events: ['sms'] }),
        ],
      },
    ]);
    expect(errors).toEqual([
      {
        environment: 'test',
        connector: 'door-acme',
        field: 'name',
        message:
          "name 'door-acme' gives its cloud resources the name 'currents-door-acme' of the door of Braze workspace 'acme': rename the connector",
      },
    ]);
  });
});
