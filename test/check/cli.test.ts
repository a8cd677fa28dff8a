// `airlock check` from the command line: --json prints exactly the contract object; a policy whose
// answer the probe can't confirm exits with CHECK_INCONSISTENT's code, a consistent one with 0.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { ERROR_CODES } from '../../src/core/errors.ts';

const home = mkdtempSync(join(tmpdir(), 'airlock-check-cli-'));
after(() => rmSync(home, { recursive: true, force: true }));

function airlock(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['src/cli/main.ts', ...args], { encoding: 'utf8', env: { ...process.env, AIRLOCK_HOME: home }, timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('check --json prints the contract object and exits 0 when policy and probes agree', () => {
  const r = airlock(['check', '--tier', 'isolate', '--timeout', '1000', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const report = JSON.parse(r.stdout) as { tier: string; answers: Record<string, { answer: string; policy: string; observed: string }>; consistent: boolean };
  assert.deepEqual(Object.keys(report), ['tier', 'answers', 'consistent']);
  assert.equal(report.tier, 'isolate');
  assert.deepEqual(Object.keys(report.answers), ['secrets', 'network', 'files', 'tenants', 'resources']);
  for (const a of Object.values(report.answers)) assert.equal(a.answer, 'no');
  assert.equal(report.consistent, true);
});

test('a disagreement between policy and probe shows the worse answer and exits with CHECK_INCONSISTENT', () => {
  const policy = join(home, 'policy.json');
  writeFileSync(policy, JSON.stringify({ version: 1, files: [{ path: '/sys/fs/cgroup', at: '/cgroups' }], limits: { cpuMs: 500 } }));
  const r = airlock(['check', '--policy', policy]);
  assert.equal(r.code, ERROR_CODES.CHECK_INCONSISTENT.exit, r.stderr);
  assert.match(r.stdout, /airlock check — container tier/);
  // The cgroup tree names every sandbox: the policy says another tenant is visible; the probe does
  // not read cgroups, so it sees none. The worse answer (yes) stands, flagged.
  assert.match(r.stdout, /tenants\s+YES\s+yes\s+no\s+← DISAGREE/);
  assert.match(r.stderr, /CHECK_INCONSISTENT/);
});

test('with --json, a refused input is still one JSON object on stdout with its code; without, a message on stderr', () => {
  const policy = join(home, 'null-policy.json');
  writeFileSync(policy, 'null');
  const r = airlock(['check', '--tier', 'isolate', '--policy', policy, '--json']);
  assert.equal(r.code, ERROR_CODES.INVALID_POLICY.exit);
  const out = JSON.parse(r.stdout) as { error: { code: string; message: string } };
  assert.equal(out.error.code, 'INVALID_POLICY');
  assert.match(out.error.message, /holds null/);
  const plain = airlock(['check', '--tier', 'isolate', '--policy', policy]);
  assert.equal(plain.stdout, '');
  assert.match(plain.stderr, /INVALID_POLICY/);
});
