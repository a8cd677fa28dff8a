// A guest that floods the gateway with requests it is not granted, each with a long path, must
// not grow the host's heap and audit log without end: every denial spends the sandbox's (or run's)
// budget, limits.denials; past it the gateway refuses that sandbox at once (LIMIT_DENIALS) and
// records no more, and tells its owner so the run can be stopped. What is recorded holds bounded
// copies of what the guest chose (cut, marked, hashed whole).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, test } from 'node:test';
import { AirlockError } from '../../src/core/errors.ts';
import type { EgressGateway } from '../../src/egress/gateway.ts';
import type { MemoryAuditSink } from '../../src/audit/memory-sink.ts';
import { compilePolicy } from '../../src/policy/compile.ts';
import { decisions, newGateway, rawProxy, startUpstream, viaProxy, type Upstream } from './helpers.ts';

const LIMIT = 20;
const state: { up: Upstream; gateway: EgressGateway; audit: MemoryAuditSink } = {} as never;

before(async () => {
  state.up = await startUpstream();
  Object.assign(state, newGateway({ resolve: () => Promise.resolve([]) }));
});

after(async () => {
  await state.gateway.close();
  await state.up.close();
});

function ctx(sandbox: string, spent: { count: number }) {
  const policy = compilePolicy({
    version: 1,
    limits: { denials: LIMIT },
    network: { routes: [{ name: 'up', host: '127.0.0.1', scheme: 'http', port: state.up.port, methods: ['GET'], paths: ['/ok'] }] },
  });
  return { tenant: 'acme', sandbox, policy, onDenialsSpent: () => (spent.count += 1) };
}

const networkEventsOf = (sandbox: string): Record<string, unknown>[] => decisions(state.audit).filter((d) => d['sandbox'] === sandbox);
const longPath = (i: number): string => `/ok/${'a'.repeat(12_000)}/${i}`;

test('proxy door: a flood of denied requests spends the budget, then the sandbox is refused at once and recorded no more', async () => {
  const spent = { count: 0 };
  const sock = (await state.gateway.socketFor(ctx('sbx_flood', spent))).path;
  const host = { host: `127.0.0.1:${state.up.port}` };
  const seenBefore = state.up.seen.length;
  // Control, within the budget: a granted request passes and a denied one is recorded as itself.
  assert.equal((await viaProxy(sock, 'GET', `http://127.0.0.1:${state.up.port}/ok/first`, host)).status, 200);
  const first = await viaProxy(sock, 'POST', `http://127.0.0.1:${state.up.port}${longPath(0)}`, host);
  assert.equal(first.headers['x-airlock-error'], 'EGRESS_NOT_GRANTED');
  // The flood: denied methods with long paths, denied hosts, and garbage that is not HTTP at all.
  const codes: string[] = [];
  for (let i = 1; i <= 200; i++) {
    const r = await viaProxy(sock, 'POST', `http://127.0.0.1:${state.up.port}${longPath(i)}`, host);
    codes.push(String(r.headers['x-airlock-error']));
  }
  for (let i = 0; i < 20; i++) await rawProxy(sock, 'NOT HTTP\r\n\r\n');
  assert.equal(codes.at(-1), 'LIMIT_DENIALS', 'past the budget the sandbox is refused at once');
  assert.equal(spent.count, 1, 'its owner was told once, to stop what runs');
  // Once spent, even a granted request is refused: the upstream sees nothing more from it.
  const granted = await viaProxy(sock, 'GET', `http://127.0.0.1:${state.up.port}/ok/after`, host);
  assert.equal(granted.headers['x-airlock-error'], 'LIMIT_DENIALS');
  assert.deepEqual(state.up.seen.slice(seenBefore).map((s) => s.url), ['/ok/first']);
  // The record: the allowed request, the budget's denials, and the one that spent it; no more.
  const events = networkEventsOf('sbx_flood');
  assert.equal(events.filter((e) => e['decision'] === 'deny').length, LIMIT + 1);
  assert.equal(events.at(-1)?.['reason'], 'LIMIT_DENIALS');
  // Each recorded path is a bounded copy, marked, with the hash of the whole.
  const denied = events.find((e) => e['reason'] === 'METHOD_NOT_GRANTED');
  const path = String(denied?.['path']);
  assert.ok(path.length < 400, `the recorded path is ${path.length} chars`);
  assert.ok(path.endsWith(`sha256 ${createHash('sha256').update(longPath(0)).digest('hex')}]`), path.slice(-120));
  assert.ok(JSON.stringify(events).length < 64 * 1024, `the whole flood left ${JSON.stringify(events).length} bytes of record`);
});

test('isolate door: the same budget holds for fetch, per run; another sandbox of the tenant keeps its own', async () => {
  const spent = { count: 0 };
  const flood = ctx('sbx_fetch_flood', spent);
  const answers: string[] = [];
  for (let i = 0; i < 100; i++) {
    await state.gateway.fetch(flood, { method: 'DELETE', url: `http://127.0.0.1:${state.up.port}${longPath(i)}`, headers: [] }).then(
      () => answers.push('ok'),
      (e: unknown) => answers.push(e instanceof AirlockError ? e.code : String(e)),
    );
  }
  assert.equal(answers.at(-1), 'LIMIT_DENIALS');
  assert.equal(spent.count, 1);
  assert.equal(networkEventsOf('sbx_fetch_flood').length, LIMIT + 1);
  // Control: a fresh sandbox of the same tenant is not touched by the other's flood.
  const other = await state.gateway.fetch(ctx('sbx_fresh', { count: 0 }), { method: 'GET', url: `http://127.0.0.1:${state.up.port}/ok/fresh`, headers: [] });
  assert.equal(other.status, 200);
  assert.equal(state.up.seen.at(-1)?.url, '/ok/fresh');
});
