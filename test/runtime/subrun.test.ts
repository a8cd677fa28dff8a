// Delegation from inside the guest, through the public API: `subrun(code, { attenuate, input,
// return })` and `unwrap(handle)`. A sub-agent gets only what its chain grants; what a child read
// reaches its parent with its value (or stays behind a handle until unwrapped or used at a sink);
// the guest never holds a token. Each denial beside its allowed control; effects checked on the
// world (the handler never ran, nothing went to the outsider).
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { AuditEventBody } from '../../src/audit/event.ts';
import { MemoryAuditSink } from '../../src/audit/memory-sink.ts';
import { generateSigningKey } from '../../src/authority/keys.ts';
import { mintWarrant } from '../../src/authority/mint.ts';
import type { GrantDoc } from '../../src/authority/payload.ts';
import { createAirlock, type PolicyDocument } from '../../src/index.ts';

const ME = 'me@corp.example';
const ANN = 'ann@corp.example';
const BOB = 'bob@corp.example';
const EVE = 'eve@evil.example';
const BODY = 'revenue is 4.2M, do not share';
const root = generateSigningKey();
const trustedKeys = new Map([[root.kid, root.publicKey]]);

function world(): { effects: string[]; outbox: { to: string[]; body: unknown }[]; tools: Record<string, unknown>; policy: PolicyDocument } {
  const thread = { id: 't1', messages: [{ from: ANN, to: [ME, BOB], body: BODY }] };
  const effects: string[] = [];
  const outbox: { to: string[]; body: unknown }[] = [];
  const tools = {
    'mail.read': {
      handler: (a: unknown) => (effects.push(`read ${JSON.stringify(a)}`), thread),
      operation: 'read',
      resources: ['mail:thread/{threadId}'],
      labels: { reveals: [{ kind: 'mail:thread', id: 'id', readers: ['messages[].from', 'messages[].to[]'], authors: ['messages[].from'] }] },
    },
    'mail.delete': {
      handler: (a: unknown) => (effects.push(`delete ${JSON.stringify(a)}`), true),
      operation: 'delete',
      resources: ['mail:thread/{threadId}'],
      labels: { reveals: [] },
    },
    'mail.send': {
      handler: (a: unknown) => {
        const { to, body } = a as { to: string[]; body: unknown };
        outbox.push({ to, body });
        effects.push(`send ${JSON.stringify(to)}`);
        return { id: `m${outbox.length}` };
      },
      operation: 'send',
      labels: { reveals: [], sink: { audience: [{ from: 'argument', path: 'to[]' }], control: ['to[]'] } },
    },
  };
  const any = { type: 'object' };
  const policy: PolicyDocument = {
    version: 1,
    tools: { 'mail.read': { operation: 'read', args: any }, 'mail.delete': { operation: 'delete', args: any }, 'mail.send': { operation: 'send', args: any } },
    limits: { subruns: 4, wallMs: 20_000, cpuMs: 5_000 },
  };
  return { effects, outbox, tools, policy };
}

function airlockFor(w: ReturnType<typeof world>, audit = new MemoryAuditSink()): ReturnType<typeof createAirlock> {
  return createAirlock({
    home: mkdtempSync(join(tmpdir(), 'airlock-test-')),
    audit,
    tools: w.tools as never,
    warrants: { trustedKeys },
    labels: { principals: () => ({ user: [ME], trusted: [ANN, BOB] }) },
    // One worker per lane: a parent holds its worker while its child runs on the next lane's.
    isolate: { workersPerTenant: 1 },
  });
}

const mint = (grants: GrantDoc[]): string => mintWarrant({ signer: root, tenant: 'acme', now: Date.now(), expiresAt: Date.now() + 3_600_000, grants });
const ALL: GrantDoc[] = [{ tool: 'mail.*', ops: ['read', 'delete', 'send'] }];
// The guest answers with what its body returns, or the code of the error it got.
const guest = (body: string): string => `let r; try { r = await (async () => { ${body} })(); } catch (e) { r = e.code ?? String(e); } export default r;`;
const lit = (code: string): string => JSON.stringify(code);
const READ_CHILD = lit("export default async () => (await tools.mail.read({ threadId: 't1' })).messages[0].body;");
const runsStarted = (audit: MemoryAuditSink): Extract<AuditEventBody, { kind: 'run.started' }>[] => audit.events.flatMap((e) => (e.kind === 'run.started' ? [e] : []));

test('a sub-agent that asks for more than its parent is refused and nothing of it ran; a narrower one runs', async () => {
  const w = world();
  const audit = new MemoryAuditSink();
  await using airlock = airlockFor(w, audit);
  const readOnly = mint([{ tool: 'mail.*', ops: ['read'], resources: ['mail:thread/*'] }]);
  const wider = guest(`return await subrun(${lit("await tools.mail.delete({ threadId: 't1' }); export default 'deleted';")}, { attenuate: { grants: [{ tool: 'mail.*', ops: ['read', 'delete'] }] } });`);
  const refused = await airlock.run({ tenant: 'acme', code: wider, policy: w.policy, warrant: readOnly });
  assert.equal(refused.result, 'WARRANT_WIDENING', JSON.stringify(refused));
  assert.deepEqual(refused.violations.map((v) => v.code), ['WARRANT_WIDENING']);
  assert.deepEqual(w.effects, [], 'no handler ran');
  assert.equal(runsStarted(audit).length, 1, 'no child run started');
  // Control: a child asking for less runs, under a warrant of its own.
  const narrower = guest(`return await subrun(${READ_CHILD}, { attenuate: { grants: [{ tool: 'mail.read', ops: ['read'], resources: ['mail:thread/t1'] }] } });`);
  const ran = await airlock.run({ tenant: 'acme', code: narrower, policy: w.policy, warrant: readOnly });
  assert.equal(ran.result, BODY, JSON.stringify(ran));
  assert.deepEqual(w.effects, ['read {"threadId":"t1"}']);
  // Without a warrant there is nothing to attenuate: refused, coded; without attenuate the child runs under the policy.
  const unwarranted = await airlock.run({ tenant: 'acme', code: narrower, policy: w.policy });
  assert.equal(unwarranted.result, 'SUBRUN_DENIED');
  const plain = await airlock.run({ tenant: 'acme', code: guest(`return await subrun(${READ_CHILD});`), policy: w.policy });
  assert.equal(plain.result, BODY, JSON.stringify(plain));
  // Not granted by the policy: no `subrun` at all, and the door itself is refused.
  const closed = await airlock.run({ tenant: 'acme', code: guest('return typeof subrun;'), policy: { ...w.policy, limits: { subruns: 0 } } });
  assert.equal(closed.result, 'undefined');
});

test("a narrower child can't do what its parent can: the child's delete is denied and its handler never ran; the parent's own delete goes through", async () => {
  const w = world();
  const audit = new MemoryAuditSink();
  await using airlock = airlockFor(w, audit);
  const code = guest(`
    const child = await subrun(${lit("let r; try { r = await tools.mail.delete({ threadId: 't1' }); } catch (e) { r = e.code; } export default r;")},
      { attenuate: { grants: [{ tool: 'mail.read', ops: ['read'], resources: ['mail:thread/*'] }] } });
    const own = await tools.mail.delete({ threadId: 't2' });
    return [child, own];`);
  const r = await airlock.run({ tenant: 'acme', code, policy: w.policy, warrant: mint(ALL) });
  assert.deepEqual(r.result, ['WARRANT_DENIED', true], JSON.stringify(r));
  assert.deepEqual(w.effects, ['delete {"threadId":"t2"}'], "only the parent's delete reached the handler");
  // The audit: the child is a run of its own, under a warrant of its own, linked to its parent.
  const [parent, child] = runsStarted(audit);
  assert.ok(parent !== undefined && child !== undefined);
  assert.equal(child.parent, parent.run);
  assert.equal(parent.parent, undefined);
  assert.match(child.warrant?.id ?? '', /^wr_/);
  assert.notEqual(child.warrant?.id, parent.warrant?.id);
  assert.notEqual(child.sandbox, parent.sandbox);
  const lifecycle = audit.events.filter((e) => e.sandbox === child.sandbox).map((e) => e.kind);
  assert.deepEqual(lifecycle, ['sandbox.created', 'run.started', 'decision', 'run.ended', 'sandbox.destroyed']);
  const denial = audit.events.find((e) => e.kind === 'decision' && !e.allow);
  assert.equal(denial?.run, child.run, 'the denial is on the child');
  const started = audit.events.find((e) => e.kind === 'decision' && e.subject === '@subrun');
  assert.deepEqual(started?.kind === 'decision' ? [started.run, started.detail] : null, [parent.run, { child: child.run, warrant: child.warrant?.id }]);
});

test("a child's return value carries its label into the parent: sent to an outsider it is denied, to a reader it goes", async () => {
  const w = world();
  await using airlock = airlockFor(w);
  const send = (to: string): string => guest(`const body = await subrun(${READ_CHILD}); await tools.mail.send({ to: [${lit(to)}], body }); return 'sent';`);
  const leak = await airlock.run({ tenant: 'acme', code: send(EVE), policy: w.policy });
  assert.equal(leak.result, 'LABEL_CONFIDENTIALITY', JSON.stringify(leak));
  assert.deepEqual(leak.label, [{ source: 'mail:thread/t1', readers: [ANN, BOB, ME].sort(), integrity: 'trusted' }]);
  assert.deepEqual(w.outbox, [], 'nothing went to the outsider');
  const reply = await airlock.run({ tenant: 'acme', code: send(ANN), policy: w.policy });
  assert.equal(reply.result, 'sent', JSON.stringify(reply));
  assert.deepEqual(w.outbox, [{ to: [ANN], body: BODY }]);
});

test("a child starts from its parent's label: what the parent read can't be laundered through a child's send", async () => {
  const w = world();
  await using airlock = airlockFor(w);
  const childSends = (to: string): string => lit(`export default async (body) => (await tools.mail.send({ to: [${JSON.stringify(to)}], body })).id;`);
  const launder = (to: string): string => guest(`const t = await tools.mail.read({ threadId: 't1' }); return await subrun(${childSends(to)}, { input: t.messages[0].body });`);
  const leak = await airlock.run({ tenant: 'acme', code: launder(EVE), policy: w.policy });
  assert.equal(leak.result, 'LABEL_CONFIDENTIALITY', JSON.stringify(leak));
  assert.deepEqual(w.outbox, [], 'nothing went to the outsider');
  const reply = await airlock.run({ tenant: 'acme', code: launder(ANN), policy: w.policy });
  assert.equal(reply.result, 'm1', JSON.stringify(reply));
  assert.deepEqual(w.outbox, [{ to: [ANN], body: BODY }]);
});

test("a handle: the parent's label stays empty; the handle sent to an outsider is denied, to a reader the handler gets the value; unwrap joins", async () => {
  const w = world();
  await using airlock = airlockFor(w);
  // Read through a function: the asserts below narrow a property they compare with [].
  const recipients = (): string[][] => w.outbox.map((m) => m.to);
  const handleThen = (rest: string): string => guest(`const h = await subrun(${READ_CHILD}, { return: 'handle' }); ${rest}`);
  const held = await airlock.run({ tenant: 'acme', code: handleThen('return h;'), policy: w.policy });
  assert.match(String(held.result), /^hdl_[0-9a-f-]{36}$/, JSON.stringify(held));
  assert.deepEqual(held.label, [], "holding the handle leaves the parent's label empty");
  const leak = await airlock.run({ tenant: 'acme', code: handleThen(`await tools.mail.send({ to: [${lit(EVE)}], body: h }); return 'sent';`), policy: w.policy });
  assert.equal(leak.result, 'LABEL_CONFIDENTIALITY', JSON.stringify(leak));
  assert.deepEqual(w.outbox, [], 'nothing went to the outsider');
  const toReader = await airlock.run({ tenant: 'acme', code: handleThen(`await tools.mail.send({ to: [${lit(ANN)}], body: h }); return 'sent';`), policy: w.policy });
  assert.equal(toReader.result, 'sent', JSON.stringify(toReader));
  assert.deepEqual(w.outbox, [{ to: [ANN], body: BODY }], 'the handler received the value, not the handle id');
  assert.deepEqual(toReader.label, [], "using a handle at a sink leaves the run's label as it was");
  // Without unwrap, the parent is clean: it may send its own words to anyone.
  const clean = await airlock.run({ tenant: 'acme', code: handleThen(`await tools.mail.send({ to: [${lit(EVE)}], body: 'hello' }); return 'sent';`), policy: w.policy });
  assert.equal(clean.result, 'sent', JSON.stringify(clean));
  // unwrap gives the value and joins the label: after it, the same send is denied.
  const unwrapped = await airlock.run({ tenant: 'acme', code: handleThen(`const v = await unwrap(h); if (v !== ${lit(BODY)}) return 'wrong value'; await tools.mail.send({ to: [${lit(EVE)}], body: 'hello' }); return 'sent';`), policy: w.policy });
  assert.equal(unwrapped.result, 'LABEL_CONFIDENTIALITY', JSON.stringify(unwrapped));
  assert.deepEqual(unwrapped.label?.map((a) => a.source), ['mail:thread/t1']);
  assert.deepEqual(recipients(), [[ANN], [EVE]], 'only the clean send reached the outsider');
  // A made-up handle is refused, coded.
  const forged = await airlock.run({ tenant: 'acme', code: guest("return await unwrap('hdl_00000000-0000-0000-0000-000000000000');"), policy: w.policy });
  assert.equal(forged.result, 'TOOL_ARGS_INVALID');
});

test('the guest never sees a token: nothing a parent or child can reach holds one', async () => {
  const w = world();
  await using airlock = airlockFor(w);
  const warrant = mint(ALL);
  // Everything the guests can look at: their globals' values, what subrun answers, its refusals' messages.
  const look = "const seen = []; for (const k of Object.getOwnPropertyNames(globalThis)) { try { seen.push(k, String(globalThis[k])); } catch {} }";
  const child = lit(`${look} export default (i) => JSON.stringify([seen, i]);`);
  const code = `${look}
    const out = [seen];
    out.push(await subrun(${child}, { input: { x: 1 }, attenuate: { grants: [{ tool: 'mail.read', ops: ['read'] }] } }));
    out.push(await subrun(${child}, { input: { y: 2 }, return: 'handle' }));
    out.push(await unwrap(out[2]));
    try { await subrun(${child}, { attenuate: { grants: [{ tool: '**', ops: ['admin'] }] } }); } catch (e) { out.push(e.message, e.stack); }
    try { await subrun('export default 1', { attenuate: { grants: [{ tool: 'mail.read', ops: ['read'] }] }, extra: 1 }); } catch (e) { out.push(e.message); }
    console.log(JSON.stringify(out));
    export default JSON.stringify(out);`;
  const r = await airlock.run({ tenant: 'acme', code, policy: w.policy, warrant });
  assert.equal(r.status, 'ok', JSON.stringify(r));
  const visible = JSON.stringify([r.result, r.stdout, r.stderr, r.error, r.violations]);
  assert.ok(visible.includes('asks for more'), 'the widening was refused');
  const out = JSON.parse(r.result as string) as unknown[];
  assert.deepEqual((JSON.parse(out[1] as string) as unknown[])[1], { x: 1 }, 'the child ran and answered');
  assert.match(String(out[2]), /^hdl_/);
  assert.deepEqual((JSON.parse(out[3] as string) as unknown[])[1], { y: 2 }, 'unwrap gave the value behind the handle');
  assert.equal(visible.includes('aw1.'), false, 'no token in anything the guest saw');
  assert.equal(visible.includes(warrant.slice(4, 40)), false);
});

test('sub-runs are bounded: by policy.limits.subruns, by nesting depth, and they spend the tool-call budget of the whole tree', async () => {
  const w = world();
  await using airlock = airlockFor(w);
  const twice = guest(`const a = await subrun('export default 1'); let b; try { b = await subrun('export default 2'); } catch (e) { b = e.code; } return [a, b];`);
  const capped = await airlock.run({ tenant: 'acme', code: twice, policy: { ...w.policy, limits: { subruns: 1 } } });
  assert.deepEqual(capped.result, [1, 'SUBRUN_DENIED'], JSON.stringify(capped));
  // Control: with room for two, both run.
  const both = await airlock.run({ tenant: 'acme', code: twice, policy: { ...w.policy, limits: { subruns: 2 } } });
  assert.deepEqual(both.result, [1, 2], JSON.stringify(both));
  // Nesting: each level starts one more; the fifth level is refused (SUBRUN_MAX_DEPTH = 4).
  const nest = (n: number): string => (n === 0 ? 'export default 0' : `let r; try { r = await subrun(${lit(nest(n - 1))}); } catch (e) { r = e.code; } export default [${n}, r];`);
  const deep = await airlock.run({ tenant: 'acme', code: nest(5), policy: w.policy });
  assert.deepEqual(deep.result, [5, [4, [3, [2, [1, 'SUBRUN_DENIED']]]]], JSON.stringify(deep));
  // The children's calls spend the parent's budget: 3 calls in all, the child's read is the 3rd.
  const budget = guest(`await tools.mail.read({ threadId: 't1' }); return await subrun(${lit("let r; try { r = (await tools.mail.read({ threadId: 't1' })).id; } catch (e) { r = e.code; } export default r;")});`);
  const spent = await airlock.run({ tenant: 'acme', code: budget, policy: { ...w.policy, limits: { subruns: 1, toolCalls: 2 } } });
  assert.equal(spent.result, 'LIMIT_TOOL_CALLS', JSON.stringify(spent));
  const room = await airlock.run({ tenant: 'acme', code: budget, policy: { ...w.policy, limits: { subruns: 1, toolCalls: 3 } } });
  assert.equal(room.result, 't1', JSON.stringify(room));
});

test('a handle whose value holds a __proto__ key is refused at the tool and the handler never ran (control: a plain one goes through)', async () => {
  const w = world();
  await using airlock = airlockFor(w);
  const child = (value: string): string => lit(`export default JSON.parse(${JSON.stringify(value)});`);
  const send = (value: string): string => guest(`const h = await subrun(${child(value)}, { return: 'handle' }); return await tools.mail.send({ to: [${JSON.stringify(ANN)}], body: h });`);
  const polluting = await airlock.run({ tenant: 'acme', code: send('{"__proto__": {"polluted": true}, "text": "x"}'), policy: w.policy });
  assert.equal(polluting.result, 'TOOL_ARGS_INVALID', JSON.stringify(polluting));
  assert.deepEqual(w.outbox, [], 'the handler never ran');
  assert.equal(({} as { polluted?: boolean }).polluted, undefined);
  const plain = await airlock.run({ tenant: 'acme', code: send('{"text": "x"}'), policy: w.policy });
  assert.deepEqual(plain.result, { id: 'm1' }, JSON.stringify(plain));
  assert.deepEqual(w.outbox, [{ to: [ANN], body: { text: 'x' } }], 'the handler received the value, not the handle');
});

test("a parent's wall time begins when it holds its worker: a parent that waited longer than its wallMs for one still starts its child (control: a parent out of time is refused)", async () => {
  // The tenant's one worker is held by a run blocked in a tool call until the parent has waited
  // past its whole wallMs: what a queue under load does. Waiting is not the parent's wall time.
  const gate = Promise.withResolvers<undefined>();
  const tools = { hold: { handler: async () => (await gate.promise, 'released'), operation: 'read', resources: [] } };
  await using airlock = createAirlock({ home: mkdtempSync(join(tmpdir(), 'airlock-test-')), tools, isolate: { workersPerTenant: 1 } });
  const holdPolicy: PolicyDocument = { version: 1, tools: { hold: { operation: 'read', args: {} } }, limits: { wallMs: 60_000 } };
  const holding = airlock.run({ tenant: 'acme', code: 'export default await tools.hold({})', policy: holdPolicy });
  const policy: PolicyDocument = { version: 1, limits: { subruns: 1, wallMs: 1_000, cpuMs: 1_000 } };
  const parent = airlock.run({ tenant: 'acme', code: guest(`return await subrun(${lit('export default 7')});`), policy });
  await new Promise((resolve) => setTimeout(resolve, 1_500));
  gate.resolve(undefined);
  assert.equal((await holding).result, 'released');
  const r = await parent;
  assert.equal(r.result, 7, `the child ran: ${JSON.stringify(r)}`);
  // Control: a parent that spent its own wall time before asking is refused, coded.
  const late = await airlock.run({ tenant: 'acme', code: guest(`const t = Date.now(); while (Date.now() - t < 990) {} return await subrun(${lit('export default 7')});`), policy: { version: 1, limits: { subruns: 1, wallMs: 1_000, cpuMs: 1_000 } } });
  assert.ok(late.result === 'SUBRUN_DENIED' || late.error?.code === 'WALL_TIMEOUT', JSON.stringify(late));
});
