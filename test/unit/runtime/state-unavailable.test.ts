/**
 * Firestore unreadable, at the state document's own rules (a stand-in connection whose reads fail or hang; the
 * emulator-backed run is test/integration/function/firestore-unavailable.test.ts): the last known `active` state is used for at
 * most cache time × N and reported each time; past that, or when the last known state was not `active`, the read's
 * error is thrown (the push is answered 503); reads resume once Firestore answers.
 */
import { CredentialStateDocument, type StaleStateUse } from '../../../runtime/adapters/firestore/credential-state';
import type { FirestoreConnection } from '../../../runtime/adapters/firestore/connection';

class TestClock {
  t = 1_000_000;
  now = () => this.t;
}

function setup(initial: Record<string, unknown>) {
  const clock = new TestClock();
  let mode: 'ok' | 'fail' | 'hang' | 'slow' = 'ok';
  let doc = initial;
  let reads = 0;
  const conn = {
    stats: { reads: 0, writes: 0, deletes: 0, transactions: 0 },
    refs: async () => ({
      stateRef: {
        get: () => {
          reads++;
          if (mode === 'fail') return Promise.reject(Object.assign(new Error('connect ECONNREFUSED'), { code: 14 }));
          if (mode === 'hang') return new Promise(() => undefined);
          if (mode === 'slow') return new Promise((r) => setTimeout(() => r({ data: () => doc }), 120));
          return Promise.resolve({ data: () => doc });
        },
      },
    }),
  } as unknown as FirestoreConnection;
  const uses: StaleStateUse[] = [];
  const unreadable: { ageMs?: number; limitMs: number; detail: string }[] = [];
  const state = new CredentialStateDocument(conn, {
    graceMs: 48 * 3_600_000,
    clock,
    cacheMs: 5_000,
    lastDeliveryIntervalMs: 60_000,
    readTimeoutMs: 50,
    onStaleState: (u) => uses.push(u),
    onUnreadable: (u) => unreadable.push(u),
  });
  return {
    clock,
    state,
    uses,
    unreadable,
    reads: () => reads,
    set: (m: typeof mode, d?: Record<string, unknown>) => {
      mode = m;
      if (d) doc = d;
    },
  };
}

it('delivers on the last known active state for at most cache time × 12, says so, then answers unknown', async () => {
  const s = setup({ status: 'active', version: 3 });
  expect((await s.state.admit()).action).toBe('send');
  s.set('fail');
  s.clock.t += 6_000; // the cache expired: a read is tried, fails, the known state is used
  expect(await s.state.admit()).toMatchObject({ action: 'send', version: 3 });
  expect(s.uses).toEqual([{ ageMs: 6_000, limitMs: 60_000, detail: 'code 14: connect ECONNREFUSED' }]);
  // Within the next cache period no read is tried again (no request pays for the outage twice).
  const readsBefore = s.reads();
  s.clock.t += 1_000;
  expect((await s.state.admit()).action).toBe('send');
  expect(s.reads()).toBe(readsBefore);
  // A hanging read counts as failed after the read timeout.
  s.set('hang');
  s.clock.t += 10_000;
  expect((await s.state.admit()).action).toBe('send');
  expect(s.uses.at(-1)!.detail).toMatch(/did not answer within 50 ms/);
  // Past the bound: unknown, the error is thrown (503).
  s.set('fail');
  s.clock.t = 1_000_000 + 60_001;
  await expect(s.state.admit()).rejects.toThrow(/ECONNREFUSED/);
  // Firestore answers again: the state is read again, and what it says now counts.
  s.set('ok', { status: 'failing', failingSince: 1_000_000, lastFailureAt: 1_000_000, detail: 'x', version: 4 });
  s.clock.t += 1;
  expect((await s.state.admit()).action).toBe('park');
});

it('never uses a stale state that was not active', async () => {
  const s = setup({ status: 'failing', failingSince: 1_000_000, lastFailureAt: 1_000_000, detail: 'x', version: 2 });
  expect((await s.state.admit()).action).toBe('park');
  s.set('fail');
  s.clock.t += 6_000;
  await expect(s.state.admit()).rejects.toThrow(/ECONNREFUSED/);
  expect(s.uses).toEqual([]);
});

it('never uses a state it never read', async () => {
  const s = setup({ status: 'active' });
  s.set('fail');
  await expect(s.state.admit()).rejects.toThrow(/ECONNREFUSED/);
});

it('a probe during the outage (the cache invalidated) keeps the last known state for the stated time (issue 28)', async () => {
  const s = setup({ status: 'active', version: 3 });
  expect((await s.state.admit()).action).toBe('send');
  s.set('fail');
  for (let t = 1_000; t <= 60_000; t += 3_000) {
    s.clock.t = 1_000_000 + t;
    s.state.invalidateCache(); // what every probe does first (locally every few seconds)
    expect(await s.state.admit()).toMatchObject({ action: 'send', version: 3 });
  }
  expect(s.unreadable).toEqual([]);
  // Past the bound: the error, and the runtime is told (it logs state_unavailable at ERROR: alerted).
  s.clock.t = 1_000_000 + 60_001;
  await expect(s.state.admit()).rejects.toThrow(/ECONNREFUSED/);
  expect(s.unreadable).toEqual([{ ageMs: 60_001, limitMs: 60_000, detail: 'code 14: connect ECONNREFUSED' }]);
  // Once Firestore answers, an invalidated cache is read again at once.
  s.set('ok', { status: 'active', version: 5 });
  s.state.invalidateCache();
  expect(await s.state.admit()).toMatchObject({ action: 'send', version: 5 });
});

it("waits longer for an instance's first read (nothing to fall back on) than for the later ones", async () => {
  const s = setup({ status: 'active', version: 7 });
  s.set('slow'); // 120 ms: over the read timeout (50 ms), within the first read's (× 5)
  expect(await s.state.admit()).toMatchObject({ action: 'send', version: 7 });
  expect(s.uses).toEqual([]);
  s.clock.t += 6_000;
  expect(await s.state.admit()).toMatchObject({ action: 'send', version: 7 });
  expect(s.uses.map((u) => u.detail)).toEqual([expect.stringMatching(/did not answer within 50 ms/)]);
});
