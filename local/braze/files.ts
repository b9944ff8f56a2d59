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

/** The reason of a JSON.parse error without the quoted input V8 may append, and its line and column when known. */
function jsonProblem(err: unknown, text: string): { reason: string; line?: number; column?: number } {
  const message = (err as Error).message;
  const reason = message.replace(/ in JSON at position \d+.*$/s, '').replace(/, ".*" is not valid JSON$/s, '');
  const at = / at position (\d+)/.exec(message);
  if (!at) return { reason };
  const before = text.slice(0, Number(at[1]));
  const line = before.split('\n').length;
  return { reason, line, column: before.length - before.lastIndexOf('\n') };
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
  let wholeError: unknown;
  try {
    whole = JSON.parse(body);
  } catch (err) {
    wholeError = err;
  }
  if (wholeError === undefined) return expand(whole, name);

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
    const p = jsonProblem(wholeError, body);
    const where = p.line !== undefined ? `line ${p.line}, column ${p.column}` : 'somewhere';
    throw new BrazeFileError(`${name}: not valid JSON (${where}: ${p.reason}), nor JSON Lines`);
  }
  const events: unknown[] = [];
  for (let i = first; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (err) {
      const p = jsonProblem(err, line);
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
