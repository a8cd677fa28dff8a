// The run reader's bounds, on a real SQLite log: pages newest first with a cursor that goes on
// where the last page stopped; a run with more records than a summary reads still shows how it
// ended; a detail lists its first decisions and says that it was cut.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { AuditEvent, AuditEventBody } from '../../src/audit/event.ts';
import { SqliteAuditStore } from '../../src/audit/sqlite-store.ts';
import { tenantId } from '../../src/audit/store.ts';
import { DECISIONS_SHOWN, listRuns, readRun, SUMMARY_RECORDS } from '../../src/server/run-history.ts';

const at = (n: number): string => new Date(Date.UTC(2026, 0, 1, 0, 0, 0, n)).toISOString();
const ev = (body: AuditEventBody, n: number): AuditEvent => ({ ...body, v: 1, at: at(n) });

function run(tenant: string, id: string, decisions: number, n: number): AuditEvent[] {
  const base = { tenant, sandbox: `sbx_${id}`, run: id };
  return [
    ev({ ...base, kind: 'run.started', tier: 'isolate', codeHash: 'c'.repeat(64), code: 'export default 1', language: 'js', policyHash: 'p'.repeat(64) }, n),
    ...Array.from({ length: decisions }, (_, i) => ev({ ...base, kind: 'decision', door: 'tool', subject: `tool${i % 3}`, allow: i % 2 === 0, reason: i % 2 === 0 ? 'TOOL_GRANTED' : 'TOOL_NOT_GRANTED', detail: { message: `call ${i}` } }, n + 1)),
    ev({ ...base, kind: 'run.ended', status: 'ok', errorCode: null, usage: { wallMs: 5, cpuMs: 3, memoryBytes: 1 << 20 } }, n + 2),
  ];
}

test('runs page newest first with a cursor; a big run still shows its end; a detail is cut at its first decisions and says so', async () => {
  const store = SqliteAuditStore.open({ path: join(mkdtempSync(join(tmpdir(), 'airlock-history-')), 'audit.db') });
  try {
    const big = SUMMARY_RECORDS + 200;
    await store.append([...run('acme', 'run_a1', 2, 0), ...run('globex', 'run_g1', 1, 10), ...run('acme', 'run_a2', big, 20), ...run('acme', 'run_a3', 0, 30)]);
    const acme = tenantId('acme');
    const first = await listRuns(store, acme, {}, { limit: 2 });
    assert.deepEqual(first.runs.map((r) => r.id), ['run_a3', 'run_a2']);
    assert.notEqual(first.next, null);
    const second = await listRuns(store, acme, {}, { limit: 2, before: Number(first.next) });
    assert.deepEqual([second.runs.map((r) => r.id), second.next], [['run_a1'], null]);

    const bigSummary = first.runs[1];
    assert.equal(bigSummary?.status, 'ok', 'run.ended is read even past the summary bound');
    assert.deepEqual(bigSummary.tools, ['tool0', 'tool1', 'tool2']);
    const detail = await readRun(store, acme, 'run_a2');
    assert.equal(detail.decisions.length, DECISIONS_SHOWN);
    assert.equal(detail.decisionsTruncated, true);
    assert.deepEqual(detail.decisions.slice(0, 2).map((d) => [d.verdict, d.code, d.reason]), [['allow', 'TOOL_GRANTED', 'call 0'], ['deny', 'TOOL_NOT_GRANTED', 'call 1']]);
    assert.equal(detail.status, 'ok');
    // Filters narrow within the tenant only.
    assert.deepEqual((await listRuns(store, tenantId('globex'), {}, { limit: 50 })).runs.map((r) => r.id), ['run_g1']);
    assert.deepEqual((await listRuns(store, acme, { code: 'TOOL_NOT_GRANTED' }, { limit: 50 })).runs.map((r) => r.id), ['run_a2', 'run_a1']);
    assert.deepEqual((await listRuns(store, acme, { tool: 'tool2' }, { limit: 50 })).runs.map((r) => r.id), ['run_a2']);
  } finally {
    await store.close();
  }
});
