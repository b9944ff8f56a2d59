/**
 * Every exportable type (by default and opt-in), translated from a realistic event built from its field list, checked field by
 * field against the spec (docs/events.md): where each Currents field lands in the Segment call.
 */
import { CATALOG } from '../../../shared/catalog';
import { fieldsOf } from '../../../shared/catalog-fields';
import { nestEvent, sampleEvent } from '../../../common/samples';
import { createTranslator, LIBRARY } from '../../../runtime/core/translate';
import type { SegmentTrackCall } from '../../../runtime/core/types';

// Every type, the opt-in ones named one by one.
const translator = createTranslator({ events: CATALOG.map((e) => e.type) });

// The spec's rules, written out here on purpose (not read from the catalogue) so that the test checks the catalogue.
const NOT_IN_PROPERTIES = new Set([
  'id',
  'user_id',
  'external_user_id',
  'time',
  'time_ms',
  'timezone',
  'os_version',
  'device_id',
  'device_model',
  'user_agent',
  'email_address',
  'event_type',
]);
const JSON_FIELDS = new Set(['message_extras', 'flow_response_json', 'properties', 'custom_attributes']);

function renamed(type: string, field: string): string {
  if (type === 'users.messages.email.Click' && field === 'url') return 'link_url';
  if (/^users\.messages\.(contentcard|newsfeedcard)\./.test(type) && field === 'content_card_id') return 'card_id';
  return field;
}

function expectedTraits(type: string, e: Record<string, unknown>): Record<string, unknown> | undefined {
  const t: Record<string, unknown> = {};
  const profile = type === 'users.profile.Update';
  const email = /^users\.messages\.email\./.test(type) || /^users\.behaviors\.subscription/.test(type) || profile;
  const phone =
    /^users\.messages\.(sms|whatsapp|rcs)\./.test(type) ||
    type === 'users.behaviors.subscriptiongroup.StateChange' ||
    profile;
  if (email && e.email_address !== undefined) t.email = e.email_address;
  if (phone && (e.to_phone_number ?? e.phone_number) !== undefined) t.phone = e.to_phone_number ?? e.phone_number;
  return Object.keys(t).length ? t : undefined;
}

function translateOne(event: unknown): SegmentTrackCall {
  const r = translator.translateMessage(JSON.stringify(event));
  expect(r.skipped).toEqual([]);
  expect(r.deadLetters).toEqual([]);
  expect(r.send).toHaveLength(1);
  expect(JSON.parse(r.send[0]!.json)).toEqual(r.send[0]!.call);
  return r.send[0]!.call;
}

describe('every exportable type', () => {
  it('has a field list for every type', () => {
    for (const e of CATALOG) expect(fieldsOf(e.type).length).toBeGreaterThan(3);
  });

  describe.each(CATALOG.map((e) => [e.type, e] as const))('%s', (type, entry) => {
    const flat = sampleEvent(type, {}, 5);
    for (const shape of ['flat', 'nested'] as const) {
      it(`translates the ${shape} shape field by field`, () => {
        const call = translateOne(shape === 'flat' ? flat : nestEvent(flat));
        expect(call.type).toBe('track');
        expect(call.event).toBe(entry.eventNameField ? flat[entry.eventNameField] : entry.segmentEvent);
        expect(call.messageId).toBe(flat.id);
        expect(call.userId).toBe(flat.external_user_id);
        expect(call.anonymousId).toBe(flat.user_id);
        const ms = typeof flat.time_ms === 'number' ? flat.time_ms : flat.time * 1000;
        expect(call.timestamp).toBe(new Date(ms).toISOString());

        const device: Record<string, unknown> = {};
        if (flat.device_id !== undefined) device.id = flat.device_id;
        if (flat.device_model !== undefined) device.model = flat.device_model;
        if (flat.platform !== undefined) device.type = flat.platform;
        const context: Record<string, unknown> = {
          library: { name: 'currents-segment-connectors', version: LIBRARY.version },
        };
        if (Object.keys(device).length) context.device = device;
        if (flat.os_version !== undefined) context.os = { version: flat.os_version };
        if (flat.timezone !== undefined) context.timezone = flat.timezone;
        if (flat.user_agent !== undefined) context.userAgent = flat.user_agent;
        const traits = expectedTraits(type, flat);
        if (traits) context.traits = traits;
        expect(call.context).toEqual(context);

        const properties: Record<string, unknown> = { ...entry.fixedProperties };
        for (const f of fieldsOf(type)) {
          if (NOT_IN_PROPERTIES.has(f.name)) continue;
          const v = flat[f.name];
          properties[renamed(type, f.name)] = JSON_FIELDS.has(f.name) ? JSON.parse(v as string) : v;
        }
        expect(call.properties).toEqual(properties);
        // The call has these keys and no others.
        expect(Object.keys(call).sort()).toEqual(
          ['anonymousId', 'context', 'event', 'messageId', 'properties', 'timestamp', 'type', 'userId'].sort(),
        );
      });
    }
  });

  it('names the Canvas exit reasons and keeps in_control_group a boolean', () => {
    const m = translateOne(sampleEvent('users.canvas.exit.MatchedAudience'));
    const p = translateOne(sampleEvent('users.canvas.exit.PerformedEvent'));
    expect([m.event, p.event]).toEqual(['Canvas Exited', 'Canvas Exited']);
    expect(m.properties.exit_reason).toBe('matched_audience');
    expect(p.properties.exit_reason).toBe('performed_event');
    for (const b of [true, false]) {
      expect(translateOne(sampleEvent('users.canvas.Entry', { in_control_group: b })).properties.in_control_group).toBe(
        b,
      );
    }
  });
});
