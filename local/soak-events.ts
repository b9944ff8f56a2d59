/**
 * The soak's input: a deterministic mix of Currents messages (seeded), each event labelled with the outcome the product
 * promises for it, decided by construction (never by running the translator), so that the soak's reconciliation checks
 * the pipeline against an independent expectation.
 *
 * - `deliver`: a well-formed event of a selected type with an external_user_id → accepted by Segment once per messageId;
 * - `skip`: a type the connector does not select (`not_selected`), or no external_user_id while anonymous users are
 *   not included (`no_external_user_id`) → skipped on purpose, never sent, never dead-lettered;
 * - `dead`: a `time` that is not a number (`invalid`), a translated call over 32 KB (`too_large`), an id the local
 *   Segment server is told to refuse with 400 (`rejected`), or a whole message body that is not JSON (`invalid`, one
 *   dead letter carrying the text, no event id).
 */
import { DEFAULT_CATALOG } from '../shared/catalog';
import { selectedTypes, type Connector } from '../shared/connector';
import { nestEvent, prng, sampleEvent } from '../common/samples';

export type Expected =
  | { readonly outcome: 'deliver' }
  | { readonly outcome: 'skip'; readonly reason: 'not_selected' | 'no_external_user_id' }
  | { readonly outcome: 'dead'; readonly reason: 'invalid' | 'too_large' | 'rejected' };

export interface SoakMessage {
  /** The message body as published. */
  readonly data: string;
  /** The event ids it carries (empty for a body that is not JSON). */
  readonly ids: readonly string[];
  /** For a body that is not JSON: the marker that identifies its dead letter (the letter's data is the body). */
  readonly garbageMarker?: string;
}

export interface SoakInput {
  readonly messages: readonly SoakMessage[];
  /** Expected outcome per event id, and per garbage marker. */
  readonly expected: ReadonlyMap<string, Expected>;
  /** Ids the local Segment server must refuse with 400 (so that they end as `rejected` dead letters). */
  readonly rejectIds: readonly string[];
  /** Number of events (garbage bodies count as one each). */
  readonly events: number;
}

/** Shares of each kind of input, out of 1 (the rest are deliverable events). */
export const SOAK_MIX = {
  notSelected: 0.02,
  noExternalUserId: 0.015,
  invalid: 0.015,
  tooLarge: 0.004,
  rejected: 0.003,
  /** Of messages: a body that is not JSON at all. */
  garbageMessage: 0.01,
} as const;

/** Builds `events` events in messages of 1..maxPerMessage events, for the connector, with ids prefixed by `tag`. */
export function soakInput(
  connector: Connector,
  opts: { events: number; seed: number; tag: string; maxPerMessage?: number },
): SoakInput {
  const r = prng(opts.seed);
  const selected = selectedTypes(connector);
  const selectedSet = new Set(selected);
  const notSelected = DEFAULT_CATALOG.map((e) => e.type).filter((t) => !selectedSet.has(t));
  if (!selected.length || !notSelected.length) throw new Error('soakInput: the connector must select some types only');
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const maxPer = opts.maxPerMessage ?? 30;
  const expected = new Map<string, Expected>();
  const rejectIds: string[] = [];
  const messages: SoakMessage[] = [];
  let n = 0;
  while (n < opts.events) {
    // Bodies that are not JSON: one in a hundred messages, and always the 6th (so that a short soak has one).
    if (r() < SOAK_MIX.garbageMessage || messages.length === 5) {
      const marker = `${opts.tag}-garbage-${n}`;
      messages.push({ data: `this is not JSON {${marker}`, ids: [], garbageMarker: marker });
      expected.set(marker, { outcome: 'dead', reason: 'invalid' });
      n++;
      continue;
    }
    const size = Math.min(opts.events - n, 1 + Math.floor(r() * maxPer));
    const events: unknown[] = [];
    const ids: string[] = [];
    for (let k = 0; k < size; k++, n++) {
      const id = `${opts.tag}-${n}`;
      const seed = opts.seed * 7919 + n;
      const x = r();
      let event: Record<string, unknown>;
      let exp: Expected;
      let t = SOAK_MIX.notSelected;
      if (x < t) {
        event = sampleEvent(pick(notSelected), { id }, seed);
        exp = { outcome: 'skip', reason: 'not_selected' };
      } else if (x < (t += SOAK_MIX.noExternalUserId)) {
        event = sampleEvent(pick(selected), { id, external_user_id: undefined }, seed);
        exp = { outcome: 'skip', reason: 'no_external_user_id' };
      } else if (x < (t += SOAK_MIX.invalid)) {
        event = sampleEvent(pick(selected), { id, time: 'yesterday' }, seed);
        exp = { outcome: 'dead', reason: 'invalid' };
      } else if (x < (t += SOAK_MIX.tooLarge)) {
        // An unknown extra field is kept as a property: 40,000 characters make the call too large for Segment.
        event = sampleEvent(pick(selected), { id, soak_padding: 'p'.repeat(40_000) }, seed);
        exp = { outcome: 'dead', reason: 'too_large' };
      } else if (x < (t += SOAK_MIX.rejected)) {
        event = sampleEvent(pick(selected), { id }, seed);
        exp = { outcome: 'dead', reason: 'rejected' };
        rejectIds.push(id);
      } else {
        event = sampleEvent(pick(selected), { id }, seed);
        exp = { outcome: 'deliver' };
      }
      events.push(r() < 0.5 ? nestEvent(event) : event);
      ids.push(id);
      expected.set(id, exp);
    }
    messages.push({ data: JSON.stringify({ events }), ids });
  }
  return { messages, expected, rejectIds, events: n };
}
