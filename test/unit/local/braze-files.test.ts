/** The local Braze's input files: every accepted shape, and errors that name the file and line. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { BrazeFileError, parseBrazeFile, readBrazeFiles } from '../../../local/braze';
import { jsonErrorOffset } from '../../../local/braze/files';

const a = { id: 'a', event_type: 'users.messages.email.Open', user: { external_user_id: 'u' } };
const b = { id: 'b', event_type: 'users.messages.email.Click' };

describe('parseBrazeFile', () => {
  it.each([
    ['an envelope', JSON.stringify({ events: [a, b] }, null, 2)],
    ['a list of events', JSON.stringify([a, b])],
    ['JSON Lines', `${JSON.stringify(a)}\r\n\n${JSON.stringify(b)}\n`],
    ['JSON Lines of envelopes', `${JSON.stringify({ events: [a] })}\n${JSON.stringify({ events: [b] })}`],
    ['a BOM then a list', `\ufeff${JSON.stringify([a, b])}`],
  ])('reads %s', (_what, text) => {
    expect(parseBrazeFile(text, 'f.json')).toEqual([a, b]);
  });

  it('reads a single event, and passes malformed events on as they are', () => {
    expect(parseBrazeFile(JSON.stringify(a), 'f.json')).toEqual([a]);
    expect(parseBrazeFile('[1, "x", null, {}]', 'f.json')).toEqual([1, 'x', null, {}]);
  });

  it.each([
    ['', /^f\.json: the file is empty$/],
    [
      '{"events": [\n  {"id": "a"},\n  {"id": }\n]}',
      /^f\.json: not valid JSON \(line 3, column 10: unexpected "}"\), nor JSON Lines$/,
    ],
    [`${JSON.stringify(a)}\n${JSON.stringify(b)}\n{"id": "c",\n`, /^f\.json: line 3, column \d+ is not JSON \(.+\)$/],
    ['{"events": {"id": "a"}}', /^f\.json: field 'events' of the envelope must be a list of events$/],
    [
      `${JSON.stringify(a)}\n"text"`,
      /^f\.json: line 2: expected an envelope, a list of events or an event, got a string$/,
    ],
    ['42', /^f\.json: expected an envelope, a list of events or an event, got an integer$/],
  ])('refuses %j with an error naming the file and line', (text, message) => {
    expect(() => parseBrazeFile(text, 'f.json')).toThrow(BrazeFileError);
    expect(() => parseBrazeFile(text, 'f.json')).toThrow(message);
  });

  it('never puts the content in the error', () => {
    expect(() => parseBrazeFile('{"email": "someone@example.com",, }', 'f.json')).toThrow(
      expect.objectContaining({ message: expect.not.stringContaining('someone@example.com') }),
    );
  });
});

describe('jsonErrorOffset', () => {
  it('finds no error in any JSON', () => {
    fc.assert(fc.property(fc.json(), (text) => jsonErrorOffset(text) === -1));
  });

  it.each([
    ['{"a": }', 6],
    ['[1,2', 4],
    ['[1,,2]', 3],
    ['[1,]', 3],
    ['{} x', 3],
    ['{"a" 1}', 5],
    ['[01]', 2],
    ['"ab\ncd"', 3],
  ])('points at the first wrong character of %j', (text, offset) => {
    expect(() => JSON.parse(text)).toThrow();
    expect(jsonErrorOffset(text)).toBe(offset);
  });
});

describe('readBrazeFiles', () => {
  let dir: string;
  beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'braze-files-'))));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads files in order', async () => {
    writeFileSync(join(dir, '1.json'), JSON.stringify([a]));
    writeFileSync(join(dir, '2.jsonl'), JSON.stringify(b));
    expect(await readBrazeFiles([join(dir, '1.json'), join(dir, '2.jsonl')])).toEqual([a, b]);
  });

  it('names a file that cannot be read', async () => {
    await expect(readBrazeFiles([join(dir, 'nope.json')])).rejects.toThrow(/nope\.json: cannot be read \(ENOENT\)/);
  });
});
