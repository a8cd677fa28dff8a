// GET /v1/audit/verify says whether the whole log holds, as `airlock audit verify` does: a log
// that holds is ok with its count and head (control); an edited record is found (attack); and
// the answer carries no record of any tenant, only counts and hashes (asserted on the bytes).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { test } from 'node:test';
import { call, testServer } from './helpers.ts';

interface Verdict {
  ok: boolean;
  records: number;
  head: { seq: number; hash: string } | null;
  checkpoint: unknown;
  problem: { code: string; message: string } | null;
}

test("the log's verdict: ok with its count and head while it holds, the broken seq once a record is edited, and no tenant's data either way", async () => {
  await using t = await testServer();
  const a = t.key('acme');
  const b = t.key('bravo');
  const empty = await call(t.server.url, b, 'GET', '/v1/audit/verify');
  assert.deepEqual(empty.json, { ok: true, records: 0, head: null, checkpoint: null, problem: null });

  const run = await call(t.server.url, a, 'POST', '/v1/runs', { code: "export default () => 'secret-of-acme'" });
  assert.equal(run.status, 200);
  const runId = (run.json as { id: string }).id;
  const records = await t.records();
  const last = records.at(-1);
  assert.ok(last !== undefined);

  // Control: B's key is told the whole log holds: its count and head, nothing else.
  const res = await fetch(`${t.server.url}/v1/audit/verify`, { headers: { authorization: `Bearer ${b}` } });
  const text = await res.text();
  assert.equal(res.status, 200);
  assert.deepEqual(JSON.parse(text), { ok: true, records: records.length, head: { seq: last.seq, hash: last.hash }, checkpoint: null, problem: null });
  for (const secret of [runId, 'acme', 'secret-of-acme', 'sbx_']) assert.ok(!text.includes(secret), `the verdict names ${secret}: ${text}`);

  // Attack on the log: an edited record breaks the chain at its seq.
  const db = new DatabaseSync(join(t.home, 'audit.db'));
  db.exec("DROP TRIGGER audit_events_no_update; UPDATE audit_events SET event = replace(event, 'secret-of-acme', 'forged-by-someone') WHERE kind = 'run.ended'");
  const edited = db.prepare("SELECT seq FROM audit_events WHERE kind = 'run.ended'").get();
  db.close();
  const broken = (await call(t.server.url, b, 'GET', '/v1/audit/verify')).json as Verdict;
  assert.equal(broken.ok, false);
  assert.equal(broken.problem?.code, 'AUDIT_CHAIN_BROKEN');
  assert.match(broken.problem.message, new RegExp(`^at seq ${String(edited?.['seq'])}: its hash does not match`));
  assert.ok(!JSON.stringify(broken).includes('forged-by-someone'));
});

test('verify needs a key like every /v1 route', async () => {
  await using t = await testServer();
  const r = await call(t.server.url, null, 'GET', '/v1/audit/verify');
  assert.equal(r.status, 401);
  assert.equal((r.json as { error: { code: string } }).error.code, 'AUTH_REQUIRED');
});
