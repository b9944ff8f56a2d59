/** A plain text table: columns padded to their widest cell; numbers right-aligned. */
export function table(headers: string[], rows: (string | number)[][]): string {
  const cells = [headers, ...rows.map((r) => r.map(String))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  const numeric = headers.map((_, i) => rows.length > 0 && rows.every((r) => typeof r[i] === 'number'));
  const line = (r: string[]) =>
    r
      .map((c, i) => (numeric[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(headers), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(line)].join('\n');
}

/** A titled block of `key  value` lines, keys padded to the widest. */
export function keyValues(title: string, lines: readonly (readonly [string, string])[]): string {
  const width = Math.max(...lines.map(([k]) => k.length));
  return [title, ...lines.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`)].join('\n');
}
