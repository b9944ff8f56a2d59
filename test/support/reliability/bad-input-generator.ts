/**
 * A seeded generator of bad Currents input (no randomness between runs): for every exportable type, a wrong JSON type
 * at every one of its fields; then truncated bodies, huge strings, deep nesting, invalid UTF-8, duplicate keys and
 * envelopes inside envelopes. Each bad event carries a unique id where it can (so its dead letter can be found); good
 * events to put beside them come from the samples.
 */
import { FIELD_SPECS, type FieldType } from '../../../shared/catalog-fields';
import { sampleEvent } from '../../../common/samples';

/** A value of the wrong JSON type for a field type (rotating through the wrong kinds by `n`). */
export function wrongValue(type: FieldType, n: number): unknown {
  const wrong: Record<FieldType, unknown[]> = {
    string: [42, true, { s: 'x' }, ['x'], 1.5],
    int: ['12', 1.5, true, { n: 1 }, [1]],
    long: ['12', 1.5, false, { n: 1 }, [1]],
    float: ['1.5', true, { f: 1 }, [1.5]],
    double: ['1.5', false, { f: 1 }, [1.5]],
    boolean: ['true', 1, { b: true }, [true]],
    'array<string>': ['x', 42, { a: 'x' }, [1, 2]],
    'array<string?>': ['x', 42, { a: 'x' }, [1, 2]],
  };
  const choices = wrong[type];
  return choices[n % choices.length];
}

export interface BadEvent {
  readonly event: unknown;
  /** The event as JSON text, when it cannot be a value (too deep for JSON.stringify); `event` is then unused. */
  readonly text?: string;
  /** The id to find its dead letter by; absent when the bad field is the id itself. */
  readonly id?: string;
  readonly what: string;
}

/** Every exportable type × every field: the sample event with that one field of the wrong type. */
export function wrongTypeAtEveryField(): BadEvent[] {
  const out: BadEvent[] = [];
  let n = 0;
  for (const [type, fields] of FIELD_SPECS) {
    for (const spec of fields.values()) {
      const base = sampleEvent(type, {}, 90_000 + n) as Record<string, unknown>;
      const id = `bad-${n}`;
      const value = wrongValue(spec.type, n);
      const event = { ...base, id: spec.name === 'id' ? value : id, [spec.name]: value };
      out.push({
        event,
        id: spec.name === 'id' ? undefined : id,
        what: `${type}.${spec.name}: ${JSON.stringify(value)}`,
      });
      n++;
    }
  }
  return out;
}

/** A string of invalid UTF-8 bytes inside otherwise valid JSON text. */
export function invalidUtf8Json(id: string): Buffer {
  return Buffer.concat([
    Buffer.from(`{"events":[{"id":"${id}","event_type":"users.messages.email.Open","x":"`),
    Buffer.from([0xc3, 0x28, 0xff]),
    Buffer.from('"}]}'),
  ]);
}

/** Whole message bodies that are not a Currents batch: each must end dead-lettered whole (reason invalid). */
export function badBodies(): { body: Buffer; what: string }[] {
  const good = JSON.stringify({ events: [sampleEvent('users.messages.email.Open', {}, 1)] });
  const out: { body: Buffer; what: string }[] = [];
  // Truncated at every 7th byte of a good body.
  for (let cut = 1; cut < good.length; cut += 7)
    out.push({ body: Buffer.from(good.slice(0, cut)), what: `truncated at ${cut}` });
  for (let i = 0; i < 20; i++) out.push({ body: invalidUtf8Json(`utf8-${i}`), what: 'invalid UTF-8' });
  for (let i = 0; i < 20; i++) {
    out.push({ body: Buffer.from('['.repeat(1000 + i * 100) + ']'.repeat(1000 + i * 100)), what: 'deep nesting' });
  }
  for (const v of [
    'null',
    'true',
    '42',
    '"events"',
    '[null]',
    '{}',
    '{"events":null}',
    '{"events":{}}',
    '{"events":"x"}',
    '',
  ]) {
    out.push({ body: Buffer.from(v), what: `not a batch: ${v || '(empty)'}` });
  }
  return out;
}

/** Events that are bad in their structure rather than one field. */
export function badStructures(): BadEvent[] {
  const out: BadEvent[] = [];
  for (let i = 0; i < 40; i++) {
    const base = sampleEvent('users.messages.email.Open', {}, 120_000 + i) as Record<string, unknown>;
    const id = `struct-${i}`;
    switch (i % 5) {
      case 0: // a huge string: the translated call is over Segment's 32 KB
        out.push({ event: { ...base, id, campaign_name: 'x'.repeat(40_000 + i) }, id, what: 'huge string' });
        break;
      case 1: {
        // deep nesting inside a field
        let v: unknown = 'bottom';
        for (let d = 0; d < 500 + i; d++) v = { v };
        out.push({ event: { ...base, id, campaign_name: v }, id, what: 'deep nesting in a field' });
        break;
      }
      case 2: // an envelope inside an envelope
        out.push({ event: { events: [{ ...base, id }], id }, id, what: 'envelope inside an envelope' });
        break;
      case 3: // no event type
        out.push({ event: { ...base, id, event_type: undefined }, id, what: 'no event_type' });
        break;
      default: // not an object
        out.push({ event: i % 2 ? `event ${i}` : [base], what: 'not an object' });
    }
  }
  return out;
}

/** A batch body with a duplicate key (JSON.parse keeps the last): the second `time` is a string. */
export function duplicateKeyBody(id: string): string {
  const e = sampleEvent('users.canvas.Entry', {}, 130_000) as Record<string, unknown>;
  const text = JSON.stringify({ ...e, id });
  return `{"events":[${text.slice(0, -1)},"time":"twice"}]}`;
}

/**
 * Events hostile by their depth (issue 28): whole events and fields nested far deeper than the translator accepts (up
 * to 100,000 levels, where JSON.stringify overflows the stack), written as JSON text (`text`), each with an id where it
 * can carry one.
 */
export function tooDeep(): BadEvent[] {
  const out: BadEvent[] = [];
  const depths = [33, 64, 1_000, 5_000, 20_000, 100_000];
  for (let i = 0; i < 40; i++) {
    const d = depths[i % depths.length]!;
    const deep = i % 2 ? '['.repeat(d) + ']'.repeat(d) : '{"v":'.repeat(d) + '"bottom"' + '}'.repeat(d);
    if (i % 4 === 0) {
      out.push({ event: undefined, text: deep, what: `a whole event ${d} levels deep` });
      continue;
    }
    const id = `deep-${i}`;
    const base = JSON.stringify({ ...sampleEvent('users.messages.email.Open', {}, 140_000 + i), id });
    out.push({ event: undefined, text: `${base.slice(0, -1)},"extra":${deep}}`, id, what: `a field ${d} levels deep` });
  }
  return out;
}

/** Events whose time is outside the plausible window (before 2000, more than a day ahead: issue 28). */
export function implausibleTimes(nowSeconds: number): BadEvent[] {
  const times = [-1, 0, 1, 946_684_799, 99_999_999_999, nowSeconds + 2 * 86_400, 32_503_680_000, -62_135_596_800];
  return Array.from({ length: 40 }, (_, i) => {
    const time = times[i % times.length]!;
    const id = `time-${i}`;
    const event = sampleEvent('users.canvas.Entry', { id, time }, 150_000 + i);
    return { event, id, what: `time ${time}` };
  });
}
