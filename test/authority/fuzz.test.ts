// A short run of the warrant parser fuzz (`npm run fuzz` runs a million): every mutated token is
// refused with a WARRANT_* code or verifies, never anything else; every mutation kind is exercised
// and some reach past the signature to verify, so the run is not all framing errors.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fuzzWarrants } from '../../scripts/fuzz-warrant.ts';

test('20,000 mutated tokens: no crash, each refused with a warrant code or verified', () => {
  const report = fuzzWarrants({ seed: 20261206, to: 20_000 });
  process.stdout.write(`# fuzz: ${JSON.stringify({ ...report, crashes: report.crashes.length })}\n`);
  assert.deepEqual(report.crashes, []);
  assert.equal(report.inputs, 20_000);
  for (const kind of ['text', 'bytes', 'payload', 'splice']) assert.ok((report.byMutation[kind] ?? 0) > 1000, kind);
  assert.ok(report.verified > 100, 'some mutations verify (re-signed payloads, bound proofs): the checks behind the signature are reached');
  assert.ok((report.refused['WARRANT_INVALID'] ?? 0) > 10_000);
});
