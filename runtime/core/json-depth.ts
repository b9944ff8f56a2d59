/**
 * Hostile nesting, without recursion. Pure.
 *
 * `JSON.parse` reads any depth, but `JSON.stringify` (and `String()` of an array) overflow the stack beyond a few
 * thousand levels: one deeply nested event would make its message impossible to dead-letter, and the message would be
 * redelivered (its valid events re-sent) forever. So the translator bounds the depth it accepts (`MAX_EVENT_DEPTH`),
 * measured here without recursion; an event deeper than that is dead-lettered `invalid` with the original text of the
 * event (`elementSpans` finds it in the message body), and `stringifyDeep` serializes any value whatever its depth.
 */

/**
 * The deepest nesting an event may have: an event object is 1, its `user` or `properties` 2, a list in them 3. Braze's
 * fields go no deeper than 3; 32 leaves room for new fields of JSON objects without letting a hostile one through.
 */
export const MAX_EVENT_DEPTH = 32;

/** The nesting depth of a JSON value: a scalar is 0, `[]` or `{}` 1, `[[1]]` 2. Iterative, so any depth is measured. */
export function nestingDepth(value: unknown): number {
  if (typeof value !== 'object' || value === null) return 0;
  let max = 0;
  const values: object[] = [value];
  const depths: number[] = [1];
  while (values.length) {
    const v = values.pop()!;
    const d = depths.pop()!;
    if (d > max) max = d;
    const children: unknown[] = Array.isArray(v) ? v : Object.values(v);
    for (const c of children) {
      if (typeof c === 'object' && c !== null) {
        values.push(c);
        depths.push(d + 1);
      }
    }
  }
  return max;
}

/**
 * Whether a JSON value is nested at most `maxDepth` levels (`nestingDepth(value) <= maxDepth`), the translator's hot
 * path: no allocation, and recursion no deeper than `maxDepth` (never the value's own depth).
 */
export function withinDepth(value: unknown, maxDepth: number): boolean {
  if (typeof value !== 'object' || value === null) return true;
  if (maxDepth <= 0) return false;
  if (Array.isArray(value)) {
    for (const x of value) if (typeof x === 'object' && x !== null && !withinDepth(x, maxDepth - 1)) return false;
    return true;
  }
  const o = value as Record<string, unknown>;
  for (const k in o) {
    const x = o[k];
    if (typeof x === 'object' && x !== null && !withinDepth(x, maxDepth - 1)) return false;
  }
  return true;
}

/** The index just past the string whose opening quote is at `start` (valid JSON: the string is closed). */
function stringEnd(text: string, start: number): number {
  let i = start + 1;
  for (;;) {
    const c = text.charCodeAt(i);
    if (c === 0x22) return i + 1;
    i += c === 0x5c ? 2 : 1;
  }
}

const isSpace = (c: number) => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;

/**
 * The [start, end) spans of the events of one JSON value, as `splitMessage` expands it: the elements of a top-level
 * array, or of the array under the top-level object's last `events` key (the one `JSON.parse` keeps). `text` must be
 * valid JSON (it has been parsed); undefined when its value is neither shape.
 */
export function elementSpans(text: string): Array<[number, number]> | undefined {
  let spans: Array<[number, number]> | undefined;
  let current: Array<[number, number]> | undefined; // the elements of the array being read, when it is the batch
  let topIsArray = false;
  let depth = 0;
  let expectingKey = false;
  let lastKey = '';
  let elementStart = -1;
  let lastEnd = -1; // just past the last significant character
  for (let i = 0; i < text.length;) {
    const c = text.charCodeAt(i);
    if (isSpace(c)) {
      i++;
      continue;
    }
    const elementDepth = topIsArray ? 1 : 2;
    if (current && depth === elementDepth && elementStart < 0 && c !== 0x5d && c !== 0x2c) elementStart = i;
    if (c === 0x22) {
      const end = stringEnd(text, i);
      if (depth === 1 && !topIsArray && expectingKey) lastKey = JSON.parse(text.slice(i, end)) as string;
      expectingKey = false;
      i = lastEnd = end;
      continue;
    }
    if (c === 0x5b || c === 0x7b) {
      if (depth === 0) topIsArray = c === 0x5b;
      if ((depth === 0 && topIsArray) || (depth === 1 && !topIsArray && c === 0x5b && lastKey === 'events')) {
        current = [];
        elementStart = -1;
      }
      depth++;
      expectingKey = c === 0x7b;
    } else if (c === 0x5d || c === 0x7d) {
      depth--;
      if (current && depth === elementDepth - 1) {
        if (elementStart >= 0) current.push([elementStart, lastEnd]);
        spans = current;
        current = undefined;
      }
    } else if (c === 0x2c) {
      if (current && depth === elementDepth) {
        current.push([elementStart, lastEnd]);
        elementStart = -1;
      }
      expectingKey = depth === 1 && !topIsArray;
    }
    i++;
    lastEnd = i;
  }
  return spans;
}

/**
 * JSON text of any value, however deep (what `JSON.stringify` writes, without its recursion). Throws a TypeError on a
 * circular structure, as `JSON.stringify` does.
 */
export function stringifyDeep(value: unknown): string {
  const out: string[] = [];
  const todo: unknown[] = [value];
  const RAW = Symbol('raw');
  type Raw = { [RAW]: string; closes?: object };
  const open = new Set<object>(); // the objects being written (a cycle comes back to one of them)
  while (todo.length) {
    const v = todo.pop();
    if (typeof v === 'object' && v !== null && RAW in v) {
      out.push((v as Raw)[RAW]);
      if ((v as Raw).closes) open.delete((v as Raw).closes!);
    } else if (typeof v === 'object' && v !== null) {
      if (open.has(v)) throw new TypeError('Converting circular structure to JSON');
      open.add(v);
      const parts: unknown[] = [];
      if (Array.isArray(v)) {
        parts.push({ [RAW]: '[' });
        v.forEach((x, i) => parts.push(...(i ? [{ [RAW]: ',' }] : []), x === undefined ? null : x));
        parts.push({ [RAW]: ']', closes: v });
      } else {
        parts.push({ [RAW]: '{' });
        for (const [k, x] of Object.entries(v)) {
          if (x === undefined || typeof x === 'function') continue;
          parts.push({ [RAW]: `${parts.length > 1 ? ',' : ''}${JSON.stringify(k)}:` }, x);
        }
        parts.push({ [RAW]: '}', closes: v });
      }
      for (let i = parts.length - 1; i >= 0; i--) todo.push(parts[i]);
    } else {
      out.push(JSON.stringify(v) ?? 'null');
    }
  }
  return out.join('');
}
