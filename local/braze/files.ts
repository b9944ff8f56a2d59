/**
 * Input files of the local Braze. A file holds one JSON value or JSON Lines (one value per line); a value is the
 * export's envelope `{"events":[…]}`, a list of events, or a single event (any other object). Events are passed on as
 * they are, whatever their shape (a receiver must take malformed events too). A file that cannot be read, is empty, or
 * is not JSON is an error naming the file and, when known, the line; it never yields part of its events.
 */
import { readFile } from 'node:fs/promises';
import { isObject, kindOf } from '../../runtime/core/decode';

export class BrazeFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BrazeFileError';
  }
}

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;

/**
 * Where `text` stops being one JSON value: the offset of the first wrong character (text.length when it ends too
 * soon), or -1 when it is valid or too deeply nested to tell. JSON.parse does not say where in every case.
 */
export function jsonErrorOffset(text: string): number {
  let i = 0;
  const fail = (): never => {
    throw new ParseStop(i);
  };
  const ws = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i]!)) i++;
  };
  const string = () => {
    for (i++; i < text.length; i++) {
      const c = text[i]!;
      if (c === '"') return void i++;
      if (c === '\\') i++;
      else if (c < ' ') fail();
    }
    fail();
  };
  const list = (close: string, item: () => void) => {
    i++;
    ws();
    if (text[i] === close) return void i++;
    for (;;) {
      item();
      ws();
      if (text[i] === close) return void i++;
      if (text[i] !== ',') fail();
      i++;
    }
  };
  const value = (): void => {
    ws();
    const c = text[i];
    if (c === '{') {
      return list('}', () => {
        ws();
        if (text[i] !== '"') fail();
        string();
        ws();
        if (text[i] !== ':') fail();
        i++;
        value();
      });
    }
    if (c === '[') return list(']', value);
    if (c === '"') return string();
    for (const literal of ['true', 'false', 'null']) if (text.startsWith(literal, i)) return void (i += literal.length);
    NUMBER.lastIndex = i;
    const n = NUMBER.exec(text);
    if (!n) fail();
    i += n![0].length;
  };
  try {
    value();
    ws();
    return i < text.length ? i : -1;
  } catch (err) {
    if (err instanceof ParseStop) return err.offset;
    return -1; // too deep for this scanner
  }
}

class ParseStop {
  constructor(readonly offset: number) {}
}

/** Where and why `text` is not JSON (line and column from 1, when known), without quoting it (it may hold personal
 * data). */
function jsonProblem(text: string): { line?: number; column?: number; reason: string } {
  const at = jsonErrorOffset(text);
  if (at < 0) return { reason: 'not JSON' };
  const before = text.slice(0, at);
  const line = before.split('\n').length;
  const column = before.length - before.lastIndexOf('\n');
  return { line, column, reason: at >= text.length ? 'unexpected end' : `unexpected ${JSON.stringify(text[at])}` };
}

/** One parsed value → its events; `where` names the value's place for errors. */
function expand(value: unknown, where: string): unknown[] {
  if (Array.isArray(value)) return value;
  if (isObject(value)) {
    if (!('events' in value)) return [value];
    if (Array.isArray(value.events)) return value.events;
    throw new BrazeFileError(`${where}: field 'events' of the envelope must be a list of events`);
  }
  throw new BrazeFileError(`${where}: expected an envelope, a list of events or an event, got ${kindOf(value)}`);
}

/** The events of one file's text; `name` is used in errors. */
export function parseBrazeFile(text: string, name: string): unknown[] {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  if (body.trim() === '') throw new BrazeFileError(`${name}: the file is empty`);
  let whole: unknown;
  let parsed = true;
  try {
    whole = JSON.parse(body);
  } catch {
    parsed = false;
  }
  if (parsed) return expand(whole, name);

  // Not one JSON value. JSON Lines when the first line is a value by itself; else one broken JSON document.
  const lines = body.split('\n');
  const first = lines.findIndex((l) => l.trim() !== '');
  let firstIsValue = true;
  try {
    JSON.parse(lines[first]!);
  } catch {
    firstIsValue = false;
  }
  if (!firstIsValue) {
    const p = jsonProblem(body);
    const where = p.line !== undefined ? `line ${p.line}, column ${p.column}: ` : '';
    throw new BrazeFileError(`${name}: not valid JSON (${where}${p.reason}), nor JSON Lines`);
  }
  const events: unknown[] = [];
  for (let i = first; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      const p = jsonProblem(line);
      const column = p.column !== undefined ? `, column ${p.column}` : '';
      throw new BrazeFileError(`${name}: line ${i + 1}${column} is not JSON (${p.reason})`);
    }
    events.push(...expand(value, `${name}: line ${i + 1}`));
  }
  return events;
}

/** The events of every file, in order. Throws BrazeFileError naming the first file that cannot be read or parsed. */
export async function readBrazeFiles(paths: readonly string[]): Promise<unknown[]> {
  const events: unknown[] = [];
  for (const path of paths) {
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      throw new BrazeFileError(`${path}: cannot be read (${e.code ?? e.message})`);
    }
    events.push(...parseBrazeFile(text, path));
  }
  return events;
}
