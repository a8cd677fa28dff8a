// One run lifecycle for both tiers: the runtime alone writes sandbox.created, run.started,
// run.ended and sandbox.destroyed, once each, in the same shape; run.started holds the code that
// ran and its hash (for a container exec: its argv and the files written before it, by hash);
// a container run's violations list the denials recorded for it, egress included.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { MemoryAuditSink, type AuditEvent } from '../../src/index.ts';
import { testAirlock } from '../support/airlock.ts';

const LIFECYCLE = ['sandbox.created', 'run.started', 'run.ended', 'sandbox.destroyed'];
const sha256 = (s: string): string => createHash('sha256').update(s).digest('hex');
const lifecycleOf = (audit: MemoryAuditSink, sandbox: string): AuditEvent[] => audit.events.filter((e) => e.sandbox === sandbox && LIFECYCLE.includes(e.kind));
const shape = (events: AuditEvent[]): string[][] => events.map((e) => [e.kind, ...Object.keys(e).sort()]);

test('a one-shot run is recorded the same way on both tiers: one of each lifecycle event, in order, with the code and its hash', async () => {
  const audit = new MemoryAuditSink();
  await using airlock = testAirlock({ audit });
  const py = 'print(6 * 7)\n';
  const js = 'export default 6 * 7';
  const c = await airlock.run({ tenant: 'life', tier: 'container', language: 'python', code: py });
  const i = await airlock.run({ tenant: 'life', tier: 'isolate', code: js });
  assert.equal(c.stdout, '42\n', JSON.stringify(c));
  assert.equal(i.result, 42, JSON.stringify(i));
  const sandboxOf = (run: string): string => audit.events.find((e) => e.run === run)?.sandbox ?? '';
  const ce = lifecycleOf(audit, sandboxOf(c.id));
  const ie = lifecycleOf(audit, sandboxOf(i.id));
  assert.deepEqual(ce.map((e) => e.kind), LIFECYCLE, 'container: each lifecycle event once, in order (the tier wrote none of its own)');
  assert.deepEqual(ie.map((e) => e.kind), LIFECYCLE, 'isolate: the same');
  assert.deepEqual(shape(ce), shape(ie), 'the same keys on both tiers');
  const cs = ce[1];
  assert.ok(cs?.kind === 'run.started');
  assert.equal(cs.run, c.id);
  assert.equal(cs.code, py, 'the container run.started holds the source that ran');
  assert.equal(cs.codeHash, sha256(py));
  assert.equal(cs.language, 'python');
  assert.equal(cs.tierReason, c.tierReason);
  const is = ie[1];
  assert.ok(is?.kind === 'run.started');
  assert.equal(is.codeHash, sha256(js));
  const ended = ce[2];
  assert.ok(ended?.kind === 'run.ended' && ended.run === c.id && ended.status === 'ok');
});

test('a container exec records its argv and the files written before it, by hash; a second exec only what was written since', async () => {
  const audit = new MemoryAuditSink();
  await using airlock = testAirlock({ audit });
  await using box = await airlock.sandbox({ tier: 'container', tenant: 'life' });
  const main = 'print(open("data.txt").read())';
  await box.writeFile('main.py', main);
  await box.writeFile('data.txt', 'first');
  const first = await box.exec(['python3', 'main.py']);
  assert.equal(first.stdout, 'first\n', 'control: the exec ran the files written');
  await box.writeFile('data.txt', 'second');
  const second = await box.exec(['python3', 'main.py']);
  assert.equal(second.stdout, 'second\n');
  const third = await box.exec(['true']);
  const startedOf = (run: string): { code: unknown; hash: string; raw: string } => {
    const e = audit.events.find((x) => x.kind === 'run.started' && x.run === run);
    assert.ok(e?.kind === 'run.started', `run.started for ${run}`);
    assert.equal(e.tier, 'container');
    return { code: JSON.parse(e.code), hash: e.codeHash, raw: e.code };
  };
  const a = startedOf(first.runId);
  assert.deepEqual(a.code, { argv: ['python3', 'main.py'], files: { 'data.txt': sha256('first'), 'main.py': sha256(main) } });
  assert.equal(a.hash, sha256(a.raw));
  assert.deepEqual(startedOf(second.runId).code, { argv: ['python3', 'main.py'], files: { 'data.txt': sha256('second') } });
  assert.deepEqual(startedOf(third.runId).code, { argv: ['true'], files: {} });
  for (const run of [first.runId, second.runId, third.runId]) {
    assert.deepEqual(audit.events.filter((e) => e.run === run && LIFECYCLE.includes(e.kind)).map((e) => e.kind), ['run.started', 'run.ended'], 'each exec once');
  }
});

test("a container run's violations list its egress denials, and the denied request reached nothing (control: the granted one did)", async () => {
  const seen: string[] = [];
  const upstream = createServer((req, res) => {
    seen.push(req.url ?? '');
    res.end('ok');
  });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
  const port = (upstream.address() as AddressInfo).port;
  try {
    await using airlock = testAirlock();
    const code = [
      `curl -s -m 5 -o /dev/null -w "%{http_code} " http://127.0.0.1:${port}/ok/1`,
      `curl -s -m 5 -o /dev/null -w "%{http_code}" http://127.0.0.1:${port}/secret`,
    ].join('\n');
    const policy = { version: 1 as const, network: { routes: [{ host: '127.0.0.1', scheme: 'http' as const, port, paths: ['/ok'] }] } };
    const r = await airlock.run({ tenant: 'life', language: 'sh', code, policy });
    assert.equal(r.tier, 'container');
    assert.equal(r.stdout, '200 403', JSON.stringify(r));
    assert.deepEqual(seen, ['/ok/1'], 'only the granted request reached the upstream');
    assert.equal(r.violations.length, 1, JSON.stringify(r.violations));
    const [v] = r.violations;
    assert.equal(v?.door, 'network');
    assert.equal(v.code, 'EGRESS_NOT_GRANTED');
    assert.match(v.detail, /secret|not granted/);
    const clean = await airlock.run({ tenant: 'life', language: 'sh', code: `curl -s -m 5 -o /dev/null -w "%{http_code}" http://127.0.0.1:${port}/ok/2`, policy });
    assert.equal(clean.stdout, '200');
    assert.deepEqual(clean.violations, [], "control: a run with no denial has none, and none of another run's");
  } finally {
    upstream.close();
  }
});
