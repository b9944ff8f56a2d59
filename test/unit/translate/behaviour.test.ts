/** Input shapes, outcomes with reasons, renames, field policy, ids and times: the translator's behaviour by the spec. */
import { createHash } from 'node:crypto';
import { nestEvent, sampleEvent } from '../../../common/samples';
import {
  ALL_TYPES,
  createTranslator,
  HASHED_ID_PREFIX,
  isoTimestamp,
  segmentMessageId,
  type TranslatorConfig,
} from '../../../runtime/core/translate';
import type { TranslationResult } from '../../../runtime/core/types';
import { testConnector } from '../../support/translate/connector-fixture';

const all = createTranslator(ALL_TYPES);
const sha = (s: string) => createHash('sha256').update(s).digest('hex');

const connector = testConnector;

const total = (r: TranslationResult) => r.send.length + r.skipped.length + r.deadLetters.length;
const email = (o: Record<string, unknown> = {}, seed = 1) => sampleEvent('users.messages.email.Open', o, seed);

describe('input shapes', () => {
  const flat = email({ id: 'e1' });

  it('accepts the HTTP-connector envelope, a single nested event, a flat record and a bare list', () => {
    const bodies = [
      JSON.stringify({ events: [nestEvent(flat)] }),
      JSON.stringify(nestEvent(flat)),
      JSON.stringify(flat),
      JSON.stringify([flat]),
    ];
    const calls = bodies.map((b) => {
      const r = all.translateMessage(b);
      expect(r.send).toHaveLength(1);
      return r.send[0]!.call;
    });
    for (const c of calls) expect(c).toEqual(calls[0]);
    expect(calls[0]!.event).toBe('Email Opened');
  });

  it('takes event_type from the Pub/Sub attribute when the record has none, and prefers the record', () => {
    const { event_type: _drop, ...noType } = flat;
    expect(all.translateMessage(JSON.stringify(noType), { event_type: 'users.messages.email.Open' }).send).toHaveLength(
      1,
    );
    const r = all.translateMessage(JSON.stringify(flat), { event_type: 'users.messages.sms.Send' });
    expect(r.send[0]!.call.event).toBe('Email Opened');
    const none = all.translateMessage(JSON.stringify(noType));
    expect(none.deadLetters).toEqual([
      expect.objectContaining({ reason: 'invalid', detail: expect.stringContaining("'event_type'"), id: 'e1' }),
    ]);
  });

  it('accepts bytes (a Buffer) as well as text, with a UTF-8 BOM', () => {
    const body = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(JSON.stringify(flat))]);
    expect(all.translateMessage(body).send).toHaveLength(1);
  });

  it('accepts JSON Lines, keeping the good lines beside a bad one', () => {
    const body = [JSON.stringify(flat), '', 'not json {', JSON.stringify({ events: [email({ id: 'e2' })] }), ''].join(
      '\r\n',
    );
    const r = all.translateMessage(body);
    expect(r.send.map((s) => s.messageId)).toEqual(['e1', 'e2']);
    expect(r.deadLetters).toEqual([
      { reason: 'invalid', detail: 'line 3 of the message body is not JSON', raw: 'not json {' },
    ]);
  });

  it('accepts both spellings of the campaign and Canvas Abort types; the dotted form is canonical', () => {
    for (const [alias, canonical, name] of [
      ['users_campaigns_abort', 'users.campaigns.Abort', 'Campaign Aborted'],
      ['users_canvas_abort', 'users.canvas.Abort', 'Canvas Aborted'],
    ]) {
      const r = all.translateMessage(JSON.stringify(sampleEvent(canonical!, { event_type: alias })));
      expect(r.send[0]!.call.event).toBe(name);
      expect(r.send[0]!.eventType).toBe(canonical);
      // In a selection too.
      const t = createTranslator({ events: [alias!] });
      expect(t.translateMessage(JSON.stringify(sampleEvent(canonical!))).send).toHaveLength(1);
    }
  });

  it('reads time in seconds (int or long) and lets time_ms win', () => {
    const t = 1_717_000_123;
    expect(all.translateMessage(JSON.stringify(email({ time: t }))).send[0]!.call.timestamp).toBe(
      '2024-05-29T16:28:43.000Z',
    );
    const wa = sampleEvent('users.messages.whatsapp.Read', { time: t }); // time:long in its schema
    expect(all.translateMessage(JSON.stringify(wa)).send[0]!.call.timestamp).toBe('2024-05-29T16:28:43.000Z');
    const withMs = email({ time: t, time_ms: t * 1000 + 456 });
    const call = all.translateMessage(JSON.stringify(withMs)).send[0]!.call;
    expect(call.timestamp).toBe('2024-05-29T16:28:43.456Z');
    expect(call.properties).not.toHaveProperty('time_ms');
  });

  it('formats timestamps exactly like Date#toISOString, including across days and out of range', () => {
    for (const ms of [
      0, -1, 999, 1_717_000_123_456, 1_717_000_123_457, 1_717_086_400_000, 253_402_300_800_000, -62_198_755_200_000,
    ]) {
      expect(isoTimestamp(ms)).toBe(new Date(ms).toISOString());
    }
    expect(isoTimestamp(8.64e15 + 1)).toBeUndefined();
  });
});

describe('outcomes', () => {
  const selective = createTranslator(connector({ events: ['email'] }));

  it('skips unselected and non-exportable types with their reason, never as errors', () => {
    const body = JSON.stringify({
      events: [
        nestEvent(email({ id: 'a' })),
        nestEvent(sampleEvent('users.messages.sms.Send', { id: 'b' })),
        { event_type: 'users.behaviors.CustomEvent', id: 'c', time: 1, user: 'weird shape, still just skipped' },
        { event_type: 'users.behaviors.CustomEvent', id: 'd', time: 1 },
      ],
    });
    const r = selective.translateMessage(body);
    expect(r.send.map((s) => s.messageId)).toEqual(['a']);
    expect(r.skipped).toEqual([
      { reason: 'not_selected', eventType: 'users.messages.sms.Send', id: 'b' },
      { reason: 'not_exportable', eventType: 'users.behaviors.CustomEvent', id: 'c', detail: expect.any(String) },
      { reason: 'not_exportable', eventType: 'users.behaviors.CustomEvent', id: 'd', detail: expect.any(String) },
    ]);
    expect(r.deadLetters).toEqual([]);
  });

  it('skips events without external_user_id, unless the connector includes anonymous users', () => {
    const anon = JSON.stringify(email({ id: 'x', external_user_id: undefined, user_id: 'braze-1' }));
    expect(selective.translateMessage(anon).skipped).toEqual([
      { reason: 'no_external_user_id', eventType: 'users.messages.email.Open', id: 'x' },
    ]);
    const withAnon = createTranslator(connector({ includeAnonymousUsers: true }));
    const call = withAnon.translateMessage(anon).send[0]!.call;
    expect(call.anonymousId).toBe('braze-1');
    expect(call).not.toHaveProperty('userId');
    // An empty external_user_id is no id; and with no user_id either there is nothing to send under.
    expect(selective.translateMessage(JSON.stringify(email({ external_user_id: '' }))).skipped[0]!.reason).toBe(
      'no_external_user_id',
    );
    expect(
      withAnon.translateMessage(JSON.stringify(email({ external_user_id: undefined, user_id: undefined }))).skipped[0]!
        .reason,
    ).toBe('no_external_user_id');
  });

  it.each([
    [{ id: undefined }, "missing required field 'id'"],
    [{ id: '' }, "field 'id' is empty"],
    [{ id: 42 }, "field 'id' must be a string, got an integer"],
    [{ time: undefined }, "missing required field 'time'"],
    [{ time: '1717000000' }, "field 'time' must be an integer, got a string"],
    [{ time: 1717000000.5 }, "field 'time' must be an integer, got a number"],
    [{ time_ms: true }, "field 'time_ms' must be an integer, got a boolean"],
    [{ time: 9e15 }, "field 'time' is out of the range of dates"],
    [{ email_address: ['a@b.c'] }, "field 'email_address' must be a string, got a list"],
    [{ is_amp: 'yes' }, "field 'is_amp' must be a boolean, got a string"],
    [{ campaign_name: { x: 1 } }, "field 'campaign_name' must be a string, got an object"],
  ])('dead-letters an event as invalid (case %#)', (override, detail) => {
    const r = all.translateMessage(JSON.stringify({ events: [email(override), email({ id: 'good' })] }));
    expect(r.deadLetters).toEqual([
      expect.objectContaining({ reason: 'invalid', detail, eventType: 'users.messages.email.Open' }),
    ]);
    expect(r.send.map((s) => s.messageId)).toEqual(['good']);
  });

  it('checks list and number types from the field list', () => {
    const sms = (o: Record<string, unknown>) => JSON.stringify(sampleEvent('users.messages.sms.ShortLinkClick', o));
    expect(all.translateMessage(sms({ suspected_bot_click_reason: ['ua', 3] })).deadLetters[0]!.detail).toBe(
      "field 'suspected_bot_click_reason' must be a list of strings, got a list with an item of another type",
    );
    const wa = (o: Record<string, unknown>) => JSON.stringify(sampleEvent('users.messages.whatsapp.InboundReceive', o));
    expect(all.translateMessage(wa({ media_urls: ['https://x/1.jpg', null] })).send).toHaveLength(1);
    const conv = (v: unknown) =>
      JSON.stringify(sampleEvent('users.campaigns.Conversion', { conversion_behavior_index: v }));
    expect(all.translateMessage(conv(2)).send).toHaveLength(1);
    expect(all.translateMessage(conv(2.5)).deadLetters[0]!.detail).toMatch(
      /'conversion_behavior_index' must be an integer/,
    );
  });

  it('dead-letters events that are not objects, and bad user objects, naming the problem', () => {
    const r = all.translateMessage(
      JSON.stringify({ events: [1, 'x', null, [], { ...nestEvent(email()), user: 'u' }] }),
    );
    expect(r.deadLetters.map((d) => d.detail)).toEqual([
      'event is not a JSON object (got an integer)',
      'event is not a JSON object (got a string)',
      'event is not a JSON object (got null)',
      'event is not a JSON object (got a list)',
      "field 'user' must be an object (user_id, external_user_id, ...), got a string",
    ]);
    expect(r.deadLetters.map((d) => d.raw)).toEqual([1, 'x', null, [], expect.objectContaining({ user: 'u' })]);
  });

  it('turns a body that is empty, not UTF-8 or not JSON into one invalid dead letter carrying the text', () => {
    const cases: Array<[Buffer | string, string]> = [
      ['', 'message body is empty'],
      ['   \n', 'message body is empty'],
      [Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), 'message body is not valid UTF-8'],
      ['hello {', 'message body is not JSON (nor JSON Lines)'],
      ['{"events": [\n  {"id": 1,\n', 'message body is not JSON (nor JSON Lines)'],
      ['{"events": 3}', "field 'events' of the envelope must be a list of events, got an integer"],
    ];
    for (const [body, detail] of cases) {
      const r = all.translateMessage(body);
      expect(r.send).toEqual([]);
      expect(r.deadLetters).toEqual([expect.objectContaining({ reason: 'invalid', detail })]);
      if (typeof body === 'string' && !body.includes('events": 3')) expect(r.deadLetters[0]!.raw).toBe(body);
    }
    expect(all.translateMessage(undefined as unknown as string).deadLetters[0]!.detail).toMatch(
      /message body is missing/,
    );
  });

  it('dead-letters a call over 32 KB as too_large, and sends one just under', () => {
    const extras = (n: number, id = 'big-a') => email({ id, message_extras: JSON.stringify({ blob: 'é'.repeat(n) }) });
    const under = all.translateMessage(JSON.stringify(extras(10)));
    const base = Buffer.byteLength(under.send[0]!.json) - 20; // bytes besides the 10 é (2 bytes each)
    const fits = Math.floor((32768 - base) / 2);
    const r = all.translateMessage(JSON.stringify({ events: [extras(fits), extras(fits + 1, 'big-b')] }));
    expect(r.send.map((s) => Buffer.byteLength(s.json))).toEqual([expect.any(Number)]);
    expect(Buffer.byteLength(r.send[0]!.json)).toBeLessThanOrEqual(32768);
    expect(Buffer.byteLength(r.send[0]!.json)).toBeGreaterThan(32766);
    expect(r.deadLetters).toEqual([
      expect.objectContaining({
        reason: 'too_large',
        id: 'big-b',
        detail: expect.stringMatching(/32769 bytes.*32768/),
      }),
    ]);
  });

  it('puts every event of a message in exactly one list', () => {
    const events = [
      nestEvent(email({ id: 'a' })),
      7,
      { event_type: 'nope', id: 'b', time: 1 },
      email({ id: undefined }),
    ];
    const r = selectiveOr(all).translateMessage(JSON.stringify({ events }));
    expect(total(r)).toBe(4);
  });
});

function selectiveOr(t: ReturnType<typeof createTranslator>) {
  return t;
}

describe('the Segment call', () => {
  it('keeps a Currents id of 100 characters, and hashes a longer one with a prefix no real id can collide with', () => {
    const id100 = 'x'.repeat(100);
    expect(segmentMessageId(id100)).toBe(id100);
    const id101 = 'x'.repeat(101);
    expect(segmentMessageId(id101)).toBe(HASHED_ID_PREFIX + sha(id101));
    expect(segmentMessageId(id101).length).toBeLessThanOrEqual(100);
    // A real id that looks like a hashed one is hashed too, so the two sets never meet.
    const lookalike = HASHED_ID_PREFIX + sha(id101);
    expect(segmentMessageId(lookalike)).not.toBe(lookalike);
    expect(segmentMessageId(lookalike).startsWith(HASHED_ID_PREFIX)).toBe(true);
    const r = all.translateMessage(JSON.stringify(email({ id: id101 })));
    expect(r.send[0]!.messageId).toBe(HASHED_ID_PREFIX + sha(id101));
    expect(r.send[0]!.call.messageId).toBe(r.send[0]!.messageId);
  });

  it('renames url to link_url on Email Click and content_card_id to card_id on Content Card events', () => {
    const click = all.translateMessage(
      JSON.stringify(sampleEvent('users.messages.email.Click', { url: 'https://x.example/a' })),
    ).send[0]!.call;
    expect(click.properties.link_url).toBe('https://x.example/a');
    expect(click.properties).not.toHaveProperty('url');
    const card = all.translateMessage(
      JSON.stringify(sampleEvent('users.messages.contentcard.Click', { content_card_id: 'cc-1' })),
    ).send[0]!.call;
    expect(card.properties.card_id).toBe('cc-1');
    expect(card.properties).not.toHaveProperty('content_card_id');
    // url elsewhere is not renamed.
    const sms = all.translateMessage(JSON.stringify(sampleEvent('users.messages.sms.ShortLinkClick', { url: 'u' })))
      .send[0]!.call;
    expect(sms.properties.url).toBe('u');
  });

  it('parses message_extras when it parses and keeps the string otherwise; leaves nulls out', () => {
    const call = (extras: unknown) =>
      all.translateMessage(JSON.stringify(sampleEvent('users.messages.sms.Send', { message_extras: extras }))).send[0]!
        .call;
    expect(call('{"a":{"b":[1,null]}}').properties.message_extras).toEqual({ a: { b: [1, null] } });
    expect(call(' [1,2]').properties.message_extras).toEqual([1, 2]);
    expect(call('{broken').properties.message_extras).toBe('{broken');
    expect(call('42').properties.message_extras).toBe('42');
    expect(call(null).properties).not.toHaveProperty('message_extras');
    // Also on a type whose field list does not name it (Braze adds fields over time).
    const open = all.translateMessage(
      JSON.stringify(sampleEvent('users.messages.email.Open', { message_extras: '{"coupon":"WELCOME10"}' })),
    ).send[0]!.call;
    expect(open.properties.message_extras).toEqual({ coupon: 'WELCOME10' });
  });

  it('keeps fields the index does not list (unchecked), and platform in properties too', () => {
    const c = all.translateMessage(JSON.stringify(email({ platform: 'ios', new_braze_field: { n: 1 } }))).send[0]!.call;
    expect(c.properties.new_braze_field).toEqual({ n: 1 });
    expect(c.properties.platform).toBe('ios');
    expect(c.context.device).toEqual(expect.objectContaining({ type: 'ios' }));
  });

  it('builds phone traits from to_phone_number, else phone_number', () => {
    const sub = sampleEvent('users.behaviors.subscriptiongroup.StateChange', {
      phone_number: '+1555',
      email_address: 'a@b.c',
    });
    expect(all.translateMessage(JSON.stringify(sub)).send[0]!.call.context.traits).toEqual({
      email: 'a@b.c',
      phone: '+1555',
    });
    const sms = sampleEvent('users.messages.sms.Delivery', { to_phone_number: '+1666' });
    const c = all.translateMessage(JSON.stringify(sms)).send[0]!.call;
    expect(c.context.traits).toEqual({ phone: '+1666' });
    expect(c.properties.to_phone_number).toBe('+1666');
  });

  it('applies per-connector event names', () => {
    const t = createTranslator(connector({ eventNames: { 'users.messages.email.Open': 'Email Open' } }));
    expect(t.translateMessage(JSON.stringify(email())).send[0]!.call.event).toBe('Email Open');
    expect(t.translateMessage(JSON.stringify(sampleEvent('users.messages.email.Send'))).send[0]!.call.event).toBe(
      'Email Sent',
    );
  });

  it('redacts and hashes a field wherever it lands: properties, traits, context, user ids', () => {
    const config: TranslatorConfig = connector({
      events: ['email', 'sms'],
      fields: {
        redact: ['user_agent', 'to_phone_number', 'campaign_name', 'message_extras'],
        hash: ['email_address', 'device_id', 'external_user_id', 'url'],
      },
    });
    const t = createTranslator(config);
    const click = sampleEvent('users.messages.email.Click', { device_id: 'dev-1', campaign_name: 'Spring' });
    const c = t.translateMessage(JSON.stringify(nestEvent(click))).send[0]!.call;
    expect(c.context.traits).toEqual({ email: sha(click.email_address as string) });
    expect(c.context.userAgent).toBe('[REDACTED]');
    expect((c.context.device as Record<string, unknown>).id).toBe(sha('dev-1'));
    expect(c.properties.campaign_name).toBe('[REDACTED]');
    expect(c.properties.link_url).toBe(sha(click.url as string));
    expect(c.userId).toBe(sha(click.external_user_id as string));
    // redact never applies to the identity keys (it would merge every user), and messageId stays the Currents id.
    expect(c.messageId).toBe(click.id);
    const sms = sampleEvent('users.messages.sms.Send', { to_phone_number: '+1555' });
    const s = t.translateMessage(JSON.stringify(sms)).send[0]!.call;
    expect(s.context.traits).toEqual({ phone: '[REDACTED]' });
    expect(s.properties.to_phone_number).toBe('[REDACTED]');
    expect(s.properties.message_extras).toBe('[REDACTED]');
    expect(JSON.stringify(s)).not.toContain('+1555');
  });

  it('carries the original event and the serialized call', () => {
    const e = nestEvent(email({ id: 'raw-1' }));
    const sent = all.translateMessage(JSON.stringify({ events: [e] })).send[0]!;
    expect(sent.raw).toEqual(e);
    expect(sent.eventType).toBe('users.messages.email.Open');
    expect(sent.json).toBe(JSON.stringify(sent.call));
  });

  it('translates a __proto__ field as an ordinary property, without touching prototypes', () => {
    const body = `{"event_type":"users.messages.email.Open","id":"p1","time":1717000000,"external_user_id":"u","__proto__":{"polluted":1}}`;
    for (let i = 0; i < 3; i++) {
      const c = all.translateMessage(body).send[0]!;
      expect(JSON.parse(c.json).properties).toEqual(JSON.parse('{"__proto__":{"polluted":1}}'));
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      expect(Object.getPrototypeOf(c.call.properties)).toBe(Object.prototype);
    }
  });

  it('gives the same result for the same input (properties built through the shape cache or not)', () => {
    const events = Array.from({ length: 5 }, (_, i) => email({ id: `s${i}` }, 3));
    const jsons = events.map((e) => all.translateMessage(JSON.stringify(e)).send[0]!.json.replace(/"s\d"/, '"s"'));
    expect(new Set(jsons).size).toBe(1);
  });
});
