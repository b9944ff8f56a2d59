/** The catalogue: one place naming the types, consistent with the field lists, and the generated docs in sync. */
import { readFileSync } from 'node:fs';
import {
  CATALOG,
  CHANNELS,
  DEFAULT_CATALOG,
  OPT_IN_CATALOG,
  REFUSED_TYPES,
  CONTEXT_FIELDS,
  GROUPS,
  JSON_STRING_FIELDS,
  TRAIT_ONLY_FIELDS,
  TYPE_ALIASES,
  resolveSelection,
} from '../../../shared/catalog';
import { CURRENTS_FIELDS, FIELD_SPECS, fieldsOf, parseFieldList } from '../../../shared/catalog-fields';
import { EVENTS_MD, renderEventsMarkdown } from '../../../docs/generate-events';

describe('catalogue', () => {
  it('lists distinct types with field lists, and exactly those; refused types are not exportable', () => {
    expect(new Set(CATALOG.map((e) => e.type)).size).toBe(CATALOG.length);
    expect(Object.keys(CURRENTS_FIELDS).sort()).toEqual(CATALOG.map((e) => e.type).sort());
    for (const t of Object.keys(REFUSED_TYPES)) expect(CATALOG.some((e) => e.type === t)).toBe(false);
    expect(DEFAULT_CATALOG.length + OPT_IN_CATALOG.length).toBe(CATALOG.length);
  });

  it('parses every field list; every type has id, user_id, external_user_id and time', () => {
    for (const e of CATALOG) {
      const names = fieldsOf(e.type).map((f) => f.name);
      expect(names).toEqual(expect.arrayContaining(['id', 'user_id', 'external_user_id', 'time']));
      expect(new Set(names).size).toBe(names.length);
    }
    expect(() => parseFieldList('a:string, b:map<string>')).toThrow("field 'b' has unknown type 'map<string>'");
    expect(() => parseFieldList('a')).toThrow("field list item 'a' has no type");
  });

  it('names only fields that exist in its rules (renames, traits, JSON strings, context)', () => {
    const everywhere = new Set([...FIELD_SPECS.values()].flatMap((m) => [...m.keys()]));
    for (const f of [...JSON_STRING_FIELDS, ...TRAIT_ONLY_FIELDS, ...Object.keys(CONTEXT_FIELDS)]) {
      expect(everywhere).toContain(f);
    }
    for (const e of CATALOG) {
      const own = new Set(fieldsOf(e.type).map((f) => f.name));
      for (const [field] of e.traits ?? []) expect(everywhere).toContain(field);
      // A rename must apply to at least one type of its rule's family; the per-type ones to the type itself.
      if (e.renames?.url) expect(own).toContain('url');
    }
    expect(fieldsOf('users.messages.contentcard.Click').map((f) => f.name)).toContain('content_card_id');
    // JSON-string fields really are strings in the index.
    for (const m of FIELD_SPECS.values())
      for (const f of JSON_STRING_FIELDS) if (m.has(f)) expect(m.get(f)!.type).toBe('string');
  });

  it('resolves groups, channels and aliases to canonical types', () => {
    expect(resolveSelection(['users_campaigns_abort', 'users_canvas_abort']).types).toEqual([
      'users.campaigns.Abort',
      'users.canvas.Abort',
    ]);
    // A channel selects its channel's types exported by default; `messages` is every channel; opt-in types are in none.
    const defaults = DEFAULT_CATALOG.map((e) => e.type);
    for (const c of CHANNELS) {
      const own = defaults.filter((t) => t.startsWith(`users.messages.${c}.`));
      expect(own.length).toBeGreaterThan(0);
      expect(resolveSelection([c]).types).toEqual(own);
    }
    expect(resolveSelection(['messages']).types).toEqual(defaults.filter((t) => t.startsWith('users.messages.')));
    expect(resolveSelection(['canvas']).types).toEqual(defaults.filter((t) => /^users\.canvas(step)?\./.test(t)));
    expect(resolveSelection(['campaigns']).types).toEqual(defaults.filter((t) => t.startsWith('users.campaigns.')));
    expect(resolveSelection(['behaviors']).types).toEqual(defaults.filter((t) => t.startsWith('users.behaviors.')));
    const all = resolveSelection([...GROUPS]).types;
    expect(all).toEqual(defaults);
    for (const e of OPT_IN_CATALOG) expect(all).not.toContain(e.type);
    // Naming an opt-in type selects it (and says why it is not exported by default); a refused type is refused.
    const named = resolveSelection(['users.behaviors.CustomEvent', 'users.UserOrphan']);
    expect(named.types).toEqual(['users.behaviors.CustomEvent']);
    expect(named.optedIn.map((o) => o.type)).toEqual(['users.behaviors.CustomEvent']);
    expect(named.refused).toEqual([{ name: 'users.UserOrphan', reason: REFUSED_TYPES['users.UserOrphan'] }]);
    expect(Object.values(TYPE_ALIASES).every((t) => CATALOG.some((e) => e.type === t))).toBe(true);
  });

  it('docs/events.md is the generated table (run `npm run docs` after changing the catalogue)', () => {
    const committed = readFileSync(EVENTS_MD, 'utf8');
    expect(committed).toBe(renderEventsMarkdown());
    for (const e of CATALOG) expect(committed).toContain(`| \`${e.type}\` | ${e.segmentEvent} |`);
    expect(committed).toContain('`url` → `link_url`');
    expect(committed).toContain('`content_card_id` → `card_id`');
    expect(committed).toContain('`exit_reason`: `matched_audience`');
  });
});
