/**
 * "Did you mean": the known names closest to something a person typed (a field name, an allowed value, an event type,
 * a Currents field). Pure; the connector validation, the CLI commands and `translate` all use it, so every suggestion
 * follows the same rules:
 *  1. a known name equal to what was typed except for case is the answer (`writekey` → `writeKey`);
 *  2. otherwise known names that contain what was typed (3 characters or more), shortest first (`push` →
 *     `pushnotification`, then the push event types);
 *  3. then known names within a few edits (about one per four characters typed, at least two; swapping two neighbouring
 *     characters is one edit), keeping only the closest and those one edit further.
 * Case never counts as an edit. At most `limit` names, best first; none when nothing is close.
 */

/** Edits (insert, delete, replace, swap of two neighbours) that turn `a` into `b`: optimal string alignment. */
export function editDistance(a: string, b: string): number {
  const rows: number[][] = [];
  for (let i = 0; i <= a.length; i++) {
    const row: number[] = [i];
    for (let j = 1; j <= b.length; j++) {
      if (i === 0) {
        row.push(j);
        continue;
      }
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(rows[i - 1]![j]! + 1, row[j - 1]! + 1, rows[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, rows[i - 2]![j - 2]! + 1);
      row.push(d);
    }
    rows.push(row);
  }
  return rows[a.length]![b.length]!;
}

/** The known names closest to `typed`, best first (see the module's rules). */
export function suggest(typed: string, known: Iterable<string>, limit = 3): string[] {
  const t = typed.toLowerCase();
  const names = [...new Set(known)];
  const sameButCase = names.filter((k) => k.toLowerCase() === t);
  if (sameButCase.length) return sameButCase.slice(0, limit);
  const scored = names.map((k, order) => {
    const lower = k.toLowerCase();
    return { k, order, contains: t.length >= 3 && lower.includes(t), distance: editDistance(t, lower) };
  });
  const byCloseness = (x: (typeof scored)[number], y: (typeof scored)[number]) =>
    x.distance - y.distance || x.order - y.order;
  const containing = scored.filter((s) => s.contains).sort(byCloseness);
  const allowed = Math.max(2, Math.floor(t.length / 4));
  const near = scored.filter((s) => !s.contains && s.distance <= allowed).sort(byCloseness);
  const best = near[0]?.distance ?? 0;
  return [...containing, ...near.filter((s) => s.distance <= best + 1)].slice(0, limit).map((s) => s.k);
}

/** `did you mean `a`, `b` or `c`?`, or '' when there is nothing to suggest. `describe` may annotate each name. */
export function didYouMean(suggestions: readonly string[], describe: (name: string) => string = () => ''): string {
  if (!suggestions.length) return '';
  const named = suggestions.map((s) => `\`${s}\`${describe(s)}`);
  const list = named.length === 1 ? named[0]! : `${named.slice(0, -1).join(', ')} or ${named[named.length - 1]!}`;
  return `did you mean ${list}?`;
}
