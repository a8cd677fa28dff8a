// Every container run request is in the log under the id its result carries, however it ended:
// one that never reached its command (code over the limit) as well as
// one that ran — each with exactly one run.started and one run.ended.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { createAirlock, MemoryAuditSink } from '../../src/index.ts';

test('container runs refused before their command are recorded like those that ran (control: a run that ran is recorded once)', async () => {
  const audit = new MemoryAuditSink();
  await using airlock = createAirlock({ home: mkdtempSync(join(tmpdir(), 'airlock-record-')), audit });
  const kinds = (run: string): string[] => audit.events.filter((e) => e.run === run).map((e) => (e.kind === 'run.ended' ? `run.ended ${String(e.errorCode)}` : e.kind));
  // A language the named tier lacks is a bad request, refused before any sandbox (as a bad policy is).
  const unsupported = await airlock.run({ tier: 'container', tenant: 'rec', language: 'ts', code: 'print(1)' });
  assert.equal(unsupported.error?.code, 'UNSUPPORTED_LANGUAGE');
  assert.match(unsupported.error.message, /tier "isolate"/);
  assert.deepEqual(audit.events.filter((e) => e.kind === 'sandbox.created'), [], 'nothing was made for it');
  const large = await airlock.run({ tier: 'container', tenant: 'rec', language: 'python', code: `# ${'x'.repeat(2048)}`, policy: { version: 1, limits: { codeBytes: 1024 } } });
  assert.equal(large.error?.code, 'CODE_TOO_LARGE');
  assert.deepEqual(kinds(large.id), ['run.started', 'run.ended CODE_TOO_LARGE']);
  const ran = await airlock.run({ tier: 'container', tenant: 'rec', language: 'python', code: 'print(1)' });
  assert.equal(ran.status, 'ok', ran.stderr);
  assert.deepEqual(kinds(ran.id), ['run.started', 'run.ended null'], 'control: the exec records its own run, once');
});
