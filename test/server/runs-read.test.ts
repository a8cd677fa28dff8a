// GET /v1/runs, /v1/runs/{id} and /v1/runs/events read the key's tenant's runs back from the audit
// log, and nothing of another tenant's: each attack (tenant B asks for A's run, lists, filters,
// follows the event stream) is paired with the control that A sees its own, and the assertions
// are on the bytes B received.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { codeInfo } from '../../src/core/errors.ts';
import { call, testServer, type TestServer } from './helpers.ts';

/** A run that is denied one egress request (no network is reached: the host is not granted). */
const POLICY = { version: 1, network: { routes: [{ host: 'allowed.example' }] } };
const code = (marker: string): string =>
  `export default async () => { try { await fetch('https://denied-${marker}.example/x') } catch (e) { console.log('denied ${marker}') } return '${marker}' }`;

interface Decision {
  seq: number;
  door: string;
  target: string;
  verdict: string;
  code: string | null;
  reason: string | null;
  label: string[] | null;
}
interface Detail {
  id: string;
  status: string;
  denials: number;
  deniedCodes: string[];
  code: string | null;
  decisions: Decision[];
  output: { stdout: string; stderr: string; result: string | null } | null;
  policy: { routes: { host: string }[] } | null;
}

async function runAs(t: TestServer, key: string, marker: string): Promise<string> {
  const r = await call(t.server.url, key, 'POST', '/v1/runs', { code: code(marker), policy: POLICY });
  assert.equal(r.status, 200, JSON.stringify(r.json));
  return (r.json as { id: string }).id;
}

/** Reads a stream's raw text until `done` says so (or `ms` passes: the caller asserts what came). */
async function readUntil(res: Response, done: (text: string) => boolean, ms = 60_000): Promise<string> {
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let text = '';
  const deadline = Date.now() + ms;
  while (!done(text) && Date.now() < deadline) {
    const next = await Promise.race([reader.read(), new Promise<'late'>((resolve) => setTimeout(() => resolve('late'), Math.max(1, deadline - Date.now())))]);
    if (next === 'late' || next.done) break;
    text += next.value;
  }
  await reader.cancel();
  return text;
}

function events(text: string): { event: string; id: string; data: Record<string, unknown> }[] {
  return text
    .split('\n\n')
    .filter((block) => block.includes('event: '))
    .map((block) => {
      const line = (name: string): string => block.split('\n').find((l) => l.startsWith(`${name}: `))?.slice(name.length + 2) ?? '';
      return { event: line('event'), id: line('id'), data: JSON.parse(line('data')) as Record<string, unknown> };
    });
}

function openStream(t: TestServer, key: string, headers: Record<string, string> = {}, query = ''): Promise<Response> {
  return fetch(`${t.server.url}/v1/runs/events${query}`, { headers: { authorization: `Bearer ${key}`, ...headers } });
}

test("a run is listed and shown to its own tenant, with each decision's code and reason exactly as the audit recorded them", async () => {
  await using t = await testServer();
  const a = t.key('acme');
  const id = await runAs(t, a, 'alpha');

  const list = await call(t.server.url, a, 'GET', '/v1/runs');
  assert.equal(list.status, 200);
  const page = list.json as { runs: { id: string; status: string; denials: number; deniedCodes: string[] }[]; next: string | null };
  assert.deepEqual(page.runs.map((r) => r.id), [id]);
  assert.equal(page.next, null);
  assert.equal(page.runs.at(0)?.denials, 1);
  assert.deepEqual(page.runs.at(0)?.deniedCodes, ['EGRESS_NOT_GRANTED']);

  const shown = await call(t.server.url, a, 'GET', `/v1/runs/${id}`);
  assert.equal(shown.status, 200, JSON.stringify(shown.json));
  const detail = shown.json as Detail;
  assert.equal(detail.status, 'ok');
  assert.equal(detail.code, code('alpha'));
  assert.deepEqual(detail.policy?.routes.map((r) => r.host), ['allowed.example']);
  assert.deepEqual(detail.output, { stdout: 'denied alpha\n', stderr: '', result: '"alpha"' });

  // The decision as listed is the record as stored: its code the recorded error code (egress
  // records it beside its finer reason, HOST_NOT_GRANTED), its reason the recorded message.
  const recorded = (await t.records()).filter((r) => r.event.kind === 'decision' && r.event.run === id);
  assert.equal(recorded.length, 1);
  const [record] = recorded;
  assert.ok(record !== undefined && record.event.kind === 'decision');
  assert.deepEqual(detail.decisions, [
    { seq: record.seq, at: record.at, door: 'egress', target: record.event.subject, verdict: 'deny', code: record.event.detail?.['code'], reason: record.event.detail?.['message'], label: null },
  ]);
  assert.equal(detail.decisions.at(0)?.code, 'EGRESS_NOT_GRANTED');
  assert.equal(record.event.reason, 'HOST_NOT_GRANTED');
});

test("another tenant's key gets 404 for the run, exactly as for a run that does not exist, and lists and filters none of it", async () => {
  await using t = await testServer();
  const a = t.key('acme');
  const b = t.key('bravo');
  const idA = await runAs(t, a, 'alpha');
  const idB = await runAs(t, b, 'bravo');

  // Control: A reads its own run.
  assert.equal((await call(t.server.url, a, 'GET', `/v1/runs/${idA}`)).status, 200);

  // Attack: B asks for A's run by id. The answer is the one for an id that never existed.
  const asked = await fetch(`${t.server.url}/v1/runs/${idA}`, { headers: { authorization: `Bearer ${b}` } });
  const askedText = await asked.text();
  const missingId = `run_${'0'.repeat(8)}-0000-0000-0000-${'0'.repeat(12)}`;
  const missing = await fetch(`${t.server.url}/v1/runs/${missingId}`, { headers: { authorization: `Bearer ${b}` } });
  const missingText = await missing.text();
  assert.equal(asked.status, 404);
  assert.equal(missing.status, 404);
  assert.equal(askedText.replace(idA, '<id>'), missingText.replace(missingId, '<id>'));
  assert.ok(!askedText.includes('alpha') && !askedText.includes('EGRESS'), askedText);

  // B's list, unfiltered and filtered by what A's run has, holds B's run only: no byte of A's.
  for (const query of ['', '?code=EGRESS_NOT_GRANTED', '?status=ok', '?tier=isolate', '?limit=200']) {
    const res = await fetch(`${t.server.url}/v1/runs${query}`, { headers: { authorization: `Bearer ${b}` } });
    const text = await res.text();
    assert.equal(res.status, 200, text);
    assert.ok(!text.includes(idA), `B's list ${query} names A's run: ${text}`);
    assert.deepEqual((JSON.parse(text) as { runs: { id: string }[] }).runs.map((r) => r.id), [idB], query);
  }
  // Control of the filters: they do select (A's run has the denial; a code nobody has selects none).
  const none = await call(t.server.url, a, 'GET', '/v1/runs?code=TOOL_NOT_GRANTED');
  assert.deepEqual((none.json as { runs: unknown[] }).runs, []);
  const denied = await call(t.server.url, a, 'GET', '/v1/runs?code=EGRESS_NOT_GRANTED&status=ok');
  assert.deepEqual((denied.json as { runs: { id: string }[] }).runs.map((r) => r.id), [idA]);
});

test("the event stream carries the key's tenant's runs live, never another tenant's (asserted on the bytes), and resumes from a seq", async () => {
  await using t = await testServer();
  const a = t.key('acme');
  const b = t.key('bravo');
  const streamA = await openStream(t, a);
  const streamB = await openStream(t, b);
  assert.equal(streamA.status, 200);
  assert.match(streamA.headers.get('content-type') ?? '', /^text\/event-stream/);
  // A's run ends before B's starts: had A's events leaked to B's stream, they came first.
  const idA = await runAs(t, a, 'alpha');
  const idB = await runAs(t, b, 'bravo');
  const [textA, textB] = await Promise.all([
    readUntil(streamA, (text) => text.includes('event: run.ended')),
    readUntil(streamB, (text) => text.includes('event: run.ended')),
  ]);
  // Control: A's stream has A's run starting and ending, with its summary.
  const seenA = events(textA);
  assert.deepEqual(seenA.map((e) => [e.event, e.data['id']]), [['run.started', idA], ['run.ended', idA]]);
  assert.equal(seenA.at(1)?.data['denials'], 1);
  assert.equal(seenA.at(0)?.data['status'], 'running');
  // Attack: B's bytes hold B's run only, nothing of A's.
  assert.deepEqual(events(textB).map((e) => [e.event, e.data['id']]), [['run.started', idB], ['run.ended', idB]]);
  assert.ok(!textB.includes(idA) && !textB.includes('alpha'), textB);
  assert.ok(!textA.includes(idB), textA);

  // Resume after A's run.started: A's run.ended comes again, and nothing of B's.
  const startedSeq = seenA.at(0)?.id ?? '';
  const resumed = await readUntil(await openStream(t, a, { 'last-event-id': startedSeq }), (text) => text.includes('event: run.ended'));
  assert.deepEqual(events(resumed).map((e) => [e.event, e.data['id'], e.id]), [['run.ended', idA, seenA.at(1)?.id]]);
  // B replaying the whole log from seq 0 gets its own two events and no byte of A's.
  const replayB = await readUntil(await openStream(t, b, {}, '?afterSeq=0'), (text) => text.includes('event: run.ended'));
  assert.deepEqual(events(replayB).map((e) => [e.event, e.data['id']]), [['run.started', idB], ['run.ended', idB]]);
  assert.ok(!replayB.includes(idA), replayB);
});

test('event streams are bounded per API key; another key, and the same key once a stream closed, still get one', async () => {
  await using t = await testServer({ streamsPerKey: 1 });
  const a = t.key('acme');
  const b = t.key('bravo');
  const first = new AbortController();
  const held = await fetch(`${t.server.url}/v1/runs/events`, { headers: { authorization: `Bearer ${a}` }, signal: first.signal });
  assert.equal(held.status, 200);
  const refused = await call(t.server.url, a, 'GET', '/v1/runs/events');
  assert.equal(refused.status, 429);
  assert.equal((refused.json as { error: { code: string } }).error.code, 'RATE_LIMITED');
  // Control: the limit is per key.
  const other = new AbortController();
  const elsewhere = await fetch(`${t.server.url}/v1/runs/events`, { headers: { authorization: `Bearer ${b}` }, signal: other.signal });
  assert.equal(elsewhere.status, 200);
  other.abort();
  // Once A's stream is closed its slot comes back (bounded polling: the server hears the close).
  first.abort();
  let again = 0;
  for (let i = 0; i < 100 && again !== 200; i++) {
    const probe = new AbortController();
    const res = await fetch(`${t.server.url}/v1/runs/events`, { headers: { authorization: `Bearer ${a}` }, signal: probe.signal });
    again = res.status;
    probe.abort();
    if (again !== 200) await new Promise((resolve) => setTimeout(resolve, 50));
  }
  assert.equal(again, 200);
});

test('bad list and stream queries are coded INVALID_REQUEST errors that say what to send', async () => {
  await using t = await testServer();
  const a = t.key('acme');
  for (const query of ['?limit=0', '?limit=999', '?since=yesterday', '?until=2026-02-30', '?code=lowercase', '?status=done', '?before=x']) {
    const r = await call(t.server.url, a, 'GET', `/v1/runs${query}`);
    assert.equal(r.status, 400, query);
    const error = (r.json as { error: { code: string; message: string; hint: string } }).error;
    assert.equal(error.code, 'INVALID_REQUEST', query);
    assert.ok(error.message.length > 20, error.message);
    assert.equal(error.hint, codeInfo('INVALID_REQUEST').hint);
  }
  const stream = await call(t.server.url, a, 'GET', '/v1/runs/events?afterSeq=-1');
  assert.equal(stream.status, 400);
  // Control: a well-formed query answers.
  assert.equal((await call(t.server.url, a, 'GET', '/v1/runs?limit=1&since=2026-01-01&status=ok')).status, 200);
});
