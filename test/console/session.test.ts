// Console sessions end: after IDLE_MS without a request, ABSOLUTE_MS after sign-in however busy,
// and at sign-out; ids that are not ones the store made find nothing; the CSRF check is exact.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ABSOLUTE_MS, csrfMatches, IDLE_MS, SessionStore } from '../../src/server/console/session.ts';

function clock(): { now: () => number; advance: (ms: number) => void } {
  const t = { ms: 1_000_000 };
  return { now: () => t.ms, advance: (ms) => (t.ms += ms) };
}

test('a session used within the idle limit lives on (control); one left idle past it is gone', () => {
  const c = clock();
  const store = new SessionStore({ now: c.now });
  const kept = store.create('alk_key_a');
  const left = store.create('alk_key_b');
  c.advance(IDLE_MS - 1000);
  assert.equal(store.get(kept.id)?.key, 'alk_key_a');
  c.advance(2000);
  assert.equal(store.get(kept.id)?.key, 'alk_key_a', 'used 2 s ago: alive');
  assert.equal(store.get(left.id), undefined, 'idle past the limit: gone');
});

test('no session outlives ABSOLUTE_MS after sign-in, however busy; sign-out ends one at once', () => {
  const c = clock();
  const store = new SessionStore({ now: c.now });
  const busy = store.create('alk_key');
  // Used every minute: alive up to ABSOLUTE_MS, gone at the first use after it.
  const step = 60_000;
  for (let elapsed = step; elapsed <= ABSOLUTE_MS; elapsed += step) {
    c.advance(step);
    assert.ok(store.get(busy.id) !== undefined, `alive at ${elapsed} ms`);
  }
  c.advance(step);
  assert.equal(store.get(busy.id), undefined);
  const other = store.create('alk_key');
  store.end(other.id);
  assert.equal(store.get(other.id), undefined);
});

test('ids the store did not make find nothing; the CSRF token must match exactly', () => {
  const store = new SessionStore();
  const s = store.create('alk_key');
  for (const id of [undefined, '', `${s.id}x`, s.id.slice(1), s.csrf, '../' + s.id]) assert.equal(store.get(id), undefined, String(id));
  assert.equal(store.get(s.id)?.id, s.id, 'control: its own id');
  assert.ok(csrfMatches(s, s.csrf), 'control: its own token');
  for (const wrong of [undefined, '', s.csrf.slice(1), `${s.csrf}A`, ['x'], store.create('alk_other').csrf]) assert.equal(csrfMatches(s, wrong), false);
});
