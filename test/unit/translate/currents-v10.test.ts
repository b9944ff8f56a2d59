/**
 * Currents as Braze sends it today: the types added since the first catalogue (hand-written fixtures), opt-in and refused
 * types with their reasons, types the catalogue does not know (skipped and counted, or exported generically), and
 * fields Braze adds to known types.
 */
import { CATALOG, REFUSED_TYPES, genericEventName, resolveSelection } from '../../../shared/catalog';
import { connectorWarnings, parseConnector } from '../../../shared/connector';
import { nestEvent, sampleEvent } from '../../../common/samples';
import {
  ALL_TYPES,
  createTranslator,
  LIBRARY,
  NOT_A_TYPE_NAME,
  type TranslatorConfig,
} from '../../../runtime/core/translate';
import { relevance, typeDecision, UNKNOWN_TYPES_SELECTED } from '../../../runtime/storage/paths';
import { V10_FIXTURES } from '../../fixtures/currents/v10-events';
import { testConnector } from '../../support/translate/connector-fixture';

const all = createTranslator(ALL_TYPES);

/** A connector with a source check (so that its only warnings are about opt-in types). */
const connector = (overrides: Record<string, unknown>) =>
  testConnector({
    segment: { region: 'us', credential: { kind: 'writeKey' }, sourceId: 'src1' },
    events: ['messages'],
    ...overrides,
  });

const flatten = (e: (typeof V10_FIXTURES)[number]['event']) => {
  const { user, properties, ...top } = e;
  return { ...top, ...user, ...properties };
};

describe('the types Braze added since the first catalogue', () => {
  it('has a hand-written fixture for every type added since', () => {
    const added = CATALOG.filter((e) => e.added).map((e) => e.type);
    expect(V10_FIXTURES.map((f) => f.event.event_type).sort()).toEqual(added.sort());
  });

  describe.each(V10_FIXTURES.map((f) => [f.event.event_type, f] as const))('%s', (_type, f) => {
    it.each([
      ['nested', f.event],
      ['flat', flatten(f.event)],
    ] as const)('translates the %s shape: event name, ids, context and properties', (_shape, input) => {
      const r = all.translateMessage(JSON.stringify(input));
      expect(r.skipped).toEqual([]);
      expect(r.deadLetters).toEqual([]);
      expect(r.unknownTypes).toBeUndefined();
      const call = r.send[0]!.call;
      expect(call.event).toBe(f.segmentEvent);
      expect(call.userId).toBe('cust-4711');
      expect(call.anonymousId).toBe('65f0c0ffee0000000000beef');
      expect(call.messageId).toBe(f.event.id);
      expect(call.timestamp).toBe('2025-12-05T02:00:00.000Z');
      expect(call.properties).toEqual(f.properties);
      expect(call.context).toEqual({ ...f.context, library: LIBRARY });
    });
  });

  it('still accepts the retired types, for old data and backfills', () => {
    for (const type of ['users.messages.sms.CarrierSend', 'users.messages.newsfeedcard.Click']) {
      const r = all.translateMessage(JSON.stringify(sampleEvent(type)));
      expect(r.send).toHaveLength(1);
    }
    expect(
      all.translateMessage(JSON.stringify(sampleEvent('users.messages.sms.CarrierSend'))).send[0]!.call.event,
    ).toBe('SMS Sent to Carrier');
  });
});

describe('behaviour the app or Segment produced (opt-in)', () => {
  const custom = (o: Record<string, unknown> = {}) =>
    sampleEvent('users.behaviors.CustomEvent', { name: 'Report Exported', properties: '{"format":"csv"}', ...o });

  it('is skipped by default, and the skip says why', () => {
    const r = all.translateMessage(JSON.stringify(custom({ id: 'c1' })));
    expect(r.send).toEqual([]);
    expect(r.skipped).toEqual([
      { reason: 'not_exportable', eventType: 'users.behaviors.CustomEvent', id: 'c1', detail: expect.any(String) },
    ]);
    expect(r.skipped[0]!.detail).toMatch(
      /not exported by default: .*from Segment.*duplicates.*loop.*names it in events/,
    );
    // A group never selects an opt-in type.
    const behaviors = createTranslator(connector({ events: ['behaviors'] }));
    expect(behaviors.translateMessage(JSON.stringify(custom())).skipped[0]!.reason).toBe('not_exportable');
  });

  it('is exported when the connector names it, with a validate warning; a custom event keeps its own name', () => {
    const c = connector({ events: ['email', 'users.behaviors.CustomEvent'] });
    expect(connectorWarnings(c).map((w) => w.message)).toEqual([
      expect.stringMatching(/^events: users\.behaviors\.CustomEvent is exported because this connector names it.*loop/),
    ]);
    const t = createTranslator(c);
    for (const input of [custom({ id: 'c2' }), nestEvent(custom({ id: 'c2' }))]) {
      const call = t.translateMessage(JSON.stringify(input)).send[0]!.call;
      expect(call.event).toBe('Report Exported');
      expect(call.properties.properties).toEqual({ format: 'csv' });
      expect(call.properties.name).toBe('Report Exported');
    }
    // An empty name falls back to the catalogue's; a rename wins over the event's name.
    expect(t.translateMessage(JSON.stringify(custom({ name: '' }))).send[0]!.call.event).toBe('Custom Event');
    const renamed = createTranslator(
      connector({
        events: ['users.behaviors.CustomEvent'],
        eventNames: { 'users.behaviors.CustomEvent': 'Braze Event' },
      }),
    );
    expect(renamed.translateMessage(JSON.stringify(custom())).send[0]!.call.event).toBe('Braze Event');
    const purchase = createTranslator(connector({ events: ['users.behaviors.Purchase'] }));
    const p = purchase.translateMessage(JSON.stringify(sampleEvent('users.behaviors.Purchase', { price: 9.99 })));
    expect(p.send[0]!.call.event).toBe('Product Purchased');
    expect(p.send[0]!.call.properties.price).toBe(9.99);
  });

  it('dead-letters a custom event whose properties field is neither the nested object nor a string', () => {
    const r = createTranslator(connector({ events: ['users.behaviors.CustomEvent'] })).translateMessage(
      JSON.stringify(custom({ properties: 5 })),
    );
    expect(r.deadLetters.map((d) => d.detail)).toEqual([expect.stringContaining("'properties' must be a string")]);
  });
});

describe('types that are never exported', () => {
  it('are skipped with their reason and refused in a connector, naming why', () => {
    for (const [type, reason] of Object.entries(REFUSED_TYPES)) {
      const r = all.translateMessage(JSON.stringify({ event_type: type, id: 'n1', time: 1, user_id: 'u' }));
      expect(r.skipped).toEqual([
        { reason: 'not_exportable', eventType: type, id: 'n1', detail: `${type} is never exported: ${reason}` },
      ]);
      expect(r.unknownTypes).toBeUndefined();
      const { errors } = parseConnector({ ...connector({}), events: [type] });
      expect(errors.map((e) => e.message)).toEqual([`events: '${type}' is never exported: ${reason}; remove it`]);
    }
    // Even a connector that exports unknown types never exports them.
    const generic = createTranslator(connector({ exportUnknownTypes: true }));
    const r = generic.translateMessage(
      JSON.stringify({ event_type: 'users.UserOrphan', id: 'o', time: 1, external_user_id: 'x' }),
    );
    expect(r.skipped.map((s) => s.reason)).toEqual(['not_exportable']);
  });
});

describe('types the catalogue does not know', () => {
  const telegram = {
    event_type: 'users.messages.telegram.InboundReceive',
    id: 'tg-1',
    time: 1_764_900_000,
    user: { user_id: 'b1', external_user_id: 'cust-1', device_id: 'd1' },
    properties: { chat_id: 'c-9', message_body: 'hi', nested: { a: 1 } },
  };

  it('are skipped and counted by type by default, the skip saying how to export them', () => {
    const body = JSON.stringify({
      events: [telegram, { ...telegram, id: 'tg-2' }, sampleEvent('users.messages.email.Open')],
    });
    const r = all.translateMessage(body);
    expect(r.send).toHaveLength(1);
    expect(r.skipped).toEqual([
      expect.objectContaining({
        reason: 'not_exportable',
        id: 'tg-1',
        detail: expect.stringContaining('exportUnknownTypes: true'),
      }),
      expect.objectContaining({ reason: 'not_exportable', id: 'tg-2' }),
    ]);
    expect(r.unknownTypes).toEqual({ 'users.messages.telegram.InboundReceive': 2 });
  });

  it('a type named like an Object member (constructor, toString, __proto__) is unknown like any other, never a refusal', () => {
    const names = ['constructor', 'toString', '__proto__', 'hasOwnProperty'];
    const events = names.map((n, i) => ({ ...sampleEvent('users.messages.email.Open'), id: `m-${i}`, event_type: n }));
    const r = all.translateMessage(JSON.stringify({ events }));
    expect(r.skipped.map((s) => [s.reason, s.detail])).toEqual(
      names.map((n) => ['not_exportable', expect.stringContaining(`${n} is not a Currents type the catalogue knows`)]),
    );
    expect(r.unknownTypes).toEqual({ [NOT_A_TYPE_NAME]: names.length });
    const selection = resolveSelection(names);
    expect(selection.refused).toEqual([]);
    expect(selection.unknown.map((u) => u.name)).toEqual(names);
  });

  it('are exported generically when the connector asks: a name from the type, ids and time as always, fields as properties', () => {
    const t = createTranslator(connector({ exportUnknownTypes: true } satisfies Partial<TranslatorConfig>));
    const r = t.translateMessage(JSON.stringify({ events: [telegram] }));
    expect(r.unknownTypes).toEqual({ 'users.messages.telegram.InboundReceive': 1 });
    const call = r.send[0]!.call;
    expect(call).toEqual({
      type: 'track',
      event: 'Telegram Inbound Receive',
      userId: 'cust-1',
      anonymousId: 'b1',
      messageId: 'tg-1',
      timestamp: '2025-12-05T02:00:00.000Z',
      context: { device: { id: 'd1' }, library: LIBRARY },
      properties: { chat_id: 'c-9', message_body: 'hi', nested: { a: 1 } },
    });
    // Still checked as every event: no id is a dead letter naming the field; a name that is not a type is not exported.
    const bad = t.translateMessage(
      JSON.stringify([
        { ...telegram, id: undefined },
        { ...telegram, event_type: 'hello world' },
      ]),
    );
    expect(bad.deadLetters.map((d) => d.detail)).toEqual(["missing required field 'id'"]);
    expect(bad.skipped.map((s) => s.reason)).toEqual(['not_exportable']);
  });

  it("are imported from Braze's storage export only when the connector exports them", () => {
    const selected = new Set(['users.messages.email.Open']);
    const withUnknown = new Set([...selected, UNKNOWN_TYPES_SELECTED]);
    const type = 'users.messages.telegram.Send';
    expect(typeDecision(type, selected)).toEqual({ import: false, reason: 'not_exportable' });
    expect(typeDecision(type, withUnknown)).toBeUndefined();
    expect(typeDecision('users.UserOrphan', withUnknown)).toEqual({ import: false, reason: 'not_exportable' });
    expect(typeDecision('users.behaviors.Purchase', withUnknown)).toEqual({ import: false, reason: 'not_selected' });
    const name = `p/dataexport.x.y.integration.z/event_type=${type}/date=2026-12-05-10/1/0/f.avro`;
    expect(relevance(name, withUnknown)).toEqual({ import: true, eventType: type });
  });

  it('derive readable names', () => {
    expect(genericEventName('users.messages.telegram.Send')).toBe('Telegram Send');
    expect(genericEventName('users.behaviors.app.ScreenView')).toBe('App Screen View');
    expect(genericEventName('users.campaigns.Snooze')).toBe('Campaigns Snooze');
    expect(genericEventName('catalogs.ItemUpdate')).toBe('Catalogs Item Update');
  });
});

describe('fields Braze adds to known types', () => {
  it('reach Segment as properties, in both shapes, with the field policy applied', () => {
    // (A connector's definition may name only fields the catalogue knows; the translator applies any name.)
    const t = createTranslator({ events: ['email'], fields: { redact: ['new_secretish_field'] } });
    const e = sampleEvent('users.messages.email.Open', {
      id: 'nf1',
      ai_send_time_bucket: 'morning',
      open_score: 0.7,
      new_secretish_field: 'x',
    });
    for (const input of [e, nestEvent(e)]) {
      const call = t.translateMessage(JSON.stringify(input)).send[0]!.call;
      expect(call.properties).toMatchObject({
        ai_send_time_bucket: 'morning',
        open_score: 0.7,
        new_secretish_field: '[REDACTED]',
      });
    }
  });
});
