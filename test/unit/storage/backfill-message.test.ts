/**
 * A remote backfill's messages and rules, with no I/O: the message that hands a file to the backfill importer is read
 * by the importer's notification parser like a bucket notification; `reimportAfter` is read back only when it is a
 * whole number; a reimport skips a file finished since the run began (same generation), and only such a file; the
 * backfill scenario's `--remote [--hosts N]` options.
 */
import { backfillMessage, importAgain, reimportAfter } from '../../../runtime/storage/backfill';
import { parseNotification } from '../../../runtime/storage/notification';
import { takeSource } from '../../../local/storage-run';

const STORAGE = { bucket: 'export', prefix: 'braze' };
const obj = {
  bucket: 'export',
  name: 'braze/x/event_type=users.messages.email.Send/date=2026-11-01-00/1/z/a.avro',
  generation: '5',
  size: 42,
};
const push = (m: { data: Buffer; attributes: Record<string, string> }) => ({
  message: { data: m.data.toString('base64'), attributes: m.attributes, messageId: '1' },
});

it("is read by the importer's notification parser, with the run and reimportAfter", () => {
  const m = backfillMessage(obj, { id: 'run1', reimportAfter: 1_700_000_000_000 });
  expect(parseNotification(push(m), STORAGE)).toEqual({ object: obj });
  expect(m.attributes.currentsBackfill).toBe('run1');
  expect(reimportAfter(push(m))).toBe(1_700_000_000_000);
  expect(reimportAfter(push(backfillMessage(obj, { id: 'run1' })))).toBeUndefined();
  for (const bad of ['', '12x', '-5', '1e3', '99999999999999999999'])
    expect(reimportAfter(push({ data: Buffer.from(''), attributes: { reimportAfter: bad } }))).toBeUndefined();
  expect(reimportAfter({ nothing: true })).toBeUndefined();
});

it('reimports a file unless it was finished (done or skipped, same generation) since the run began', () => {
  const after = 1000;
  expect(importAgain(obj, undefined, after)).toBe(true);
  expect(importAgain(obj, { status: 'done', generation: '5', finishedAt: 999 }, after)).toBe(true);
  expect(importAgain(obj, { status: 'done', generation: '5', finishedAt: 1000 }, after)).toBe(false);
  expect(importAgain(obj, { status: 'skipped', generation: '5', finishedAt: 2000 }, after)).toBe(false);
  expect(importAgain(obj, { status: 'done', generation: '4', finishedAt: 2000 }, after)).toBe(true);
  expect(importAgain(obj, { status: 'importing', generation: '5', finishedAt: 2000 }, after)).toBe(true);
  expect(importAgain(obj, { status: 'failed', generation: '5', finishedAt: 2000 }, after)).toBe(true);
  // Not a reimport: never again.
  expect(importAgain(obj, { status: 'done', generation: '5', finishedAt: 1 }, undefined)).toBe(false);
});

it('takes the backfill scenario’s --remote and --hosts out of the arguments', () => {
  expect(takeSource(['--scenario', 'backfill', '--remote', '--events', '5'])).toEqual({
    source: 'storage',
    scenario: 'backfill',
    remote: { hosts: 3 },
    rest: ['--events', '5'],
  });
  expect(takeSource(['--scenario=backfill', '--remote', '--hosts', '4'])).toMatchObject({ remote: { hosts: 4 } });
  expect(takeSource(['--scenario', 'backfill'])).toEqual({ source: 'storage', scenario: 'backfill', rest: [] });
  expect(() => takeSource(['--scenario', 'backfill', '--remote', '--hosts', '1'])).toThrow(/--hosts must be/);
  expect(() => takeSource(['--scenario', 'backfill', '--hosts', '4'])).toThrow(/--hosts goes with --remote/);
});
