// Container sandboxes over HTTP: create, files, commands streamed as server-sent events and
// reattached after the client left, destroy; and tenancy: tenant B, holding tenant A's sandbox,
// command and run ids, gets nothing (404) from any route, and A's sandbox is untouched.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LIMIT_DEFAULTS } from '../../src/policy/schema.ts';
import { call, readEvents, startCommand, testServer, type SseEvent } from './helpers.ts';

interface ExecResultJson {
  runId: string;
  exitCode: number | null;
  stdout: string;
  stderr: string;
  status: string;
}

const code = (r: { json: unknown }): string | undefined => (r.json as { error?: { code: string } } | null)?.error?.code;

function ended(events: readonly SseEvent[]): ExecResultJson {
  const last = events[events.length - 1];
  assert.equal(last?.event, 'ended', `the stream ends with the result: ${JSON.stringify(events)}`);
  return JSON.parse(last.data) as ExecResultJson;
}

test('a container sandbox over HTTP: write a file, run a command whose output streams as events, read and list files, destroy', async () => {
  await using t = await testServer();
  const base = t.server.url;
  const key = t.key('acme');
  const made = await call(base, key, 'POST', '/v1/sandboxes', { policy: { version: 1, limits: { wallMs: 20_000 } } });
  assert.equal(made.status, 201, JSON.stringify(made.json));
  const id = (made.json as { id: string }).id;
  const limits = (made.json as { limits: Record<string, number> }).limits;
  assert.equal(limits['wallMs'], 20_000, 'the limits it was given');
  assert.equal(limits['idleMs'], LIMIT_DEFAULTS.idleMs, 'the defaults for the rest');
  assert.deepEqual((await call(base, key, 'GET', `/v1/sandboxes/${id}`)).json, made.json);
  assert.equal((await call(base, key, 'PUT', `/v1/sandboxes/${id}/files`, { path: 'main.py', content: 'import sys\nprint("out")\nprint("err", file=sys.stderr)\nopen("made.bin", "wb").write(bytes([0, 255]))\n' })).status, 204);

  const events = await readEvents(await startCommand(base, key, id, { argv: ['python3', 'main.py'] }));
  assert.equal(events[0]?.event, 'command');
  const result = ended(events);
  assert.equal(result.exitCode, 0);
  assert.equal(result.stdout, 'out\n');
  assert.equal(events.filter((e) => e.event === 'stdout').map((e) => e.data).join(''), 'out\n', 'stdout came as events');
  assert.equal(events.filter((e) => e.event === 'stderr').map((e) => e.data).join(''), 'err\n', 'stderr came as events');

  const listed = await call(base, key, 'GET', `/v1/sandboxes/${id}/files`);
  assert.deepEqual((listed.json as { entries: { path: string }[] }).entries.map((e) => e.path).sort(), ['made.bin', 'main.py']);
  const binary = await call(base, key, 'GET', `/v1/sandboxes/${id}/files/content?path=made.bin&encoding=base64`);
  assert.equal((binary.json as { content: string }).content, Buffer.from([0, 255]).toString('base64'));
  const asText = await call(base, key, 'GET', `/v1/sandboxes/${id}/files/content?path=made.bin`);
  assert.equal(code(asText), 'INVALID_REQUEST', 'bytes that are not UTF-8 are not passed off as text');
  const escape = await call(base, key, 'GET', `/v1/sandboxes/${id}/files/content?path=../../etc/passwd`);
  assert.equal(escape.status, 403);
  assert.equal(code(escape), 'PATH_OUTSIDE_WORKSPACE');

  const audit = await call(base, key, 'GET', `/v1/audit/${result.runId}`);
  assert.deepEqual((audit.json as { records: { event: { kind: string } }[] }).records.map((r) => r.event.kind), ['run.started', 'run.ended']);

  assert.equal((await call(base, key, 'DELETE', `/v1/sandboxes/${id}`)).status, 204);
  assert.equal((await call(base, key, 'GET', `/v1/sandboxes/${id}`)).status, 404, 'a destroyed sandbox is gone');
  const records = await t.records();
  assert.ok(records.some((r) => r.event.kind === 'sandbox.destroyed' && r.event.sandbox === id), 'its destruction is recorded');
});

test('a client that leaves a command stream can attach again and read on after the last event it saw; the command went on meanwhile', async () => {
  await using t = await testServer();
  const base = t.server.url;
  const key = t.key('acme');
  const id = ((await call(base, key, 'POST', '/v1/sandboxes', { policy: { version: 1, limits: { wallMs: 20_000 } } })).json as { id: string }).id;
  const left = new AbortController();
  const first = await startCommand(base, key, id, { argv: ['sh', '-c', 'echo one; sleep 1; echo two'] }, left.signal);
  // Read up to "one", then hang up.
  const seen = await readEvents(first, (e) => (e.event === 'stdout' ? 'stop' : 'more'));
  left.abort();
  const cmd = (JSON.parse(seen[0]?.data ?? '{}') as { id: string }).id;
  const lastId = seen[seen.length - 1]?.id ?? '';
  assert.equal(seen[seen.length - 1]?.data, 'one\n');

  const again = await fetch(`${base}/v1/sandboxes/${id}/commands/${cmd}/events`, { headers: { authorization: `Bearer ${key}`, 'last-event-id': lastId } });
  assert.equal(again.status, 200);
  const rest = await readEvents(again);
  assert.deepEqual(rest.filter((e) => e.event === 'stdout').map((e) => e.data), ['two\n'], 'only what came after the last event seen');
  assert.equal(ended(rest).stdout, 'one\ntwo\n');
  const status = await call(base, key, 'GET', `/v1/sandboxes/${id}/commands/${cmd}`);
  assert.equal((status.json as { done: boolean }).done, true);
  const replay = await readEvents(await fetch(`${base}/v1/sandboxes/${id}/commands/${cmd}/events`, { headers: { authorization: `Bearer ${key}` } }));
  assert.equal(replay.filter((e) => e.event === 'stdout').map((e) => e.data).join(''), 'one\ntwo\n', 'without Last-Event-ID: from the start');
});

test("tenant B holding tenant A's sandbox, command and run ids gets 404 from every route and A's sandbox is untouched (control: A's own calls work)", async () => {
  await using t = await testServer();
  const base = t.server.url;
  const a = t.key('tenant-a');
  const b = t.key('tenant-b');
  const box = ((await call(base, a, 'POST', '/v1/sandboxes', { policy: { version: 1, limits: { wallMs: 20_000 } } })).json as { id: string }).id;
  assert.equal((await call(base, a, 'PUT', `/v1/sandboxes/${box}/files`, { path: 'secret.txt', content: 'a-only' })).status, 204);
  const aRun = ended(await readEvents(await startCommand(base, a, box, { argv: ['cat', 'secret.txt'] })));
  assert.equal(aRun.stdout, 'a-only', 'control: A runs in its sandbox');
  const aCmd = await readEvents(await startCommand(base, a, box, { argv: ['true'] }));
  const cmd = (JSON.parse(aCmd[0]?.data ?? '{}') as { id: string }).id;
  const bBox = ((await call(base, b, 'POST', '/v1/sandboxes', {})).json as { id: string }).id;
  assert.equal((await call(base, b, 'POST', '/v1/runs', { code: 'export default 1' })).status, 200, 'control: B runs its own code');

  // B's attempts, each with A's ids.
  const attempts: [string, string, unknown?][] = [
    ['GET', `/v1/sandboxes/${box}`],
    ['GET', `/v1/sandboxes/${box}/files`],
    ['GET', `/v1/sandboxes/${box}/files/content?path=secret.txt`],
    ['PUT', `/v1/sandboxes/${box}/files`, { path: 'secret.txt', content: 'b-was-here' }],
    ['POST', `/v1/sandboxes/${box}/commands`, { argv: ['rm', 'secret.txt'] }],
    ['GET', `/v1/sandboxes/${box}/commands/${cmd}`],
    ['GET', `/v1/sandboxes/${box}/commands/${cmd}/events`],
    ['GET', `/v1/sandboxes/${bBox}/commands/${cmd}`],
    ['DELETE', `/v1/sandboxes/${box}`],
    ['GET', `/v1/audit/${box}`],
    ['GET', `/v1/audit/${aRun.runId}`],
  ];
  for (const [method, path, body] of attempts) {
    const r = await call(base, b, method, path, body);
    assert.equal(r.status, 404, `${method} ${path}: ${JSON.stringify(r.json)}`);
    assert.ok(code(r) === 'NOT_FOUND' || code(r) === 'AUDIT_NOT_FOUND', `${method} ${path}`);
  }
  const bList = await call(base, b, 'GET', '/v1/sandboxes');
  assert.deepEqual((bList.json as { sandboxes: { id: string }[] }).sandboxes.map((s) => s.id), [bBox], "B lists only its own sandbox");
  const bAudit = await call(base, b, 'GET', `/v1/audit?sandbox=${box}`);
  assert.deepEqual((bAudit.json as { records: unknown[] }).records, [], "a filter naming A's sandbox finds nothing for B");
  const bAll = await call(base, b, 'GET', '/v1/audit');
  const tenants = new Set((bAll.json as { records: { event: { tenant: string } }[] }).records.map((r) => r.event.tenant));
  assert.deepEqual([...tenants], ['tenant-b'], "B's audit holds B's records only");

  // A's sandbox is untouched: the file is there with A's content, and nothing of B's ran in it.
  const still = await call(base, a, 'GET', `/v1/sandboxes/${box}/files/content?path=secret.txt`);
  assert.equal((still.json as { content: string }).content, 'a-only');
  const aAudit = await call(base, a, 'GET', `/v1/audit/${box}`);
  const aEvents = (aAudit.json as { records: { event: { kind: string; code?: string } }[] }).records.map((r) => r.event);
  assert.equal(aEvents.filter((e) => e.kind === 'run.started').length, 2, "only A's two commands ran in A's sandbox");
  assert.ok(!aEvents.some((e) => e.code?.includes('rm') === true), "B's rm never started");
  assert.equal((await call(base, a, 'GET', `/v1/sandboxes/${box}`)).status, 200, "control: A still sees its sandbox");
});

test('a sandbox its lifetime destroyed answers 409 SANDBOX_CLOSED, then leaves the list (control: it served files while alive)', async () => {
  await using t = await testServer();
  const base = t.server.url;
  const key = t.key('acme');
  const id = ((await call(base, key, 'POST', '/v1/sandboxes', { policy: { version: 1, limits: { lifetimeMs: 4000 } } })).json as { id: string }).id;
  assert.equal((await call(base, key, 'PUT', `/v1/sandboxes/${id}/files`, { path: 'a.txt', content: 'x' })).status, 204, 'control: alive, it serves files');
  const untilClosed = async (): Promise<{ status: number; json: unknown }> => {
    for (let i = 0; i < 300; i++) {
      const r = await call(base, key, 'GET', `/v1/sandboxes/${id}/files`);
      if (r.status !== 200) return r;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    return assert.fail('the sandbox outlived its lifetime');
  };
  const closed = await untilClosed();
  assert.equal(closed.status, 409, JSON.stringify(closed.json));
  assert.equal(code(closed), 'SANDBOX_CLOSED');
  assert.equal((await call(base, key, 'GET', `/v1/sandboxes/${id}`)).status, 404, 'then it is gone from the table');
  assert.deepEqual(((await call(base, key, 'GET', '/v1/sandboxes')).json as { sandboxes: unknown[] }).sandboxes, []);
});

test('a one-shot run on the container tier, and the audit a page at a time', async () => {
  await using t = await testServer();
  const base = t.server.url;
  const key = t.key('acme');
  const r = await call(base, key, 'POST', '/v1/runs', { tier: 'container', language: 'python', code: 'print(6 * 7)' });
  assert.equal(r.status, 200, JSON.stringify(r.json));
  assert.equal((r.json as { stdout: string }).stdout, '42\n');
  assert.equal((r.json as { tier: string }).tier, 'container');

  const all = ((await call(base, key, 'GET', '/v1/audit')).json as { records: { seq: number }[]; next: number | null });
  assert.ok(all.records.length >= 3, 'the run is in the audit');
  assert.equal(all.next, null, 'one page holds it all');
  const first = (await call(base, key, 'GET', '/v1/audit?limit=2')).json as { records: { seq: number }[]; next: number | null };
  assert.deepEqual(first.records.map((x) => x.seq), all.records.slice(0, 2).map((x) => x.seq));
  assert.equal(first.next, all.records[1]?.seq);
  const second = (await call(base, key, 'GET', `/v1/audit?limit=2&afterSeq=${String(first.next)}`)).json as { records: { seq: number }[] };
  assert.deepEqual(second.records.map((x) => x.seq), all.records.slice(2, 4).map((x) => x.seq), 'the next page follows on');
  const bad = await call(base, key, 'GET', '/v1/audit?since=yesterday');
  assert.equal(bad.status, 400);
  assert.equal(code(bad), 'INVALID_REQUEST');
});
