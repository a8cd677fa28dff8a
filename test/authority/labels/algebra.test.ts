// Seeded property tests of the label algebra and the check: join is a semilattice join, labels
// only rise, the check is monotone in the content label, and the warrant's flow rules only narrow
// as levels are added. Each property reports how many cases went each way, so a vacuous pass
// (everything allowed, or everything denied) fails.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkSink, compileFlowRules, Label, runPrincipals, type Atom, type FlowLevel } from '../../../src/authority/labels/index.ts';
import { ME, prng } from './world.ts';

const SEED = 0x1abe15;
const N = 3000;
const SOURCES = ['mail:thread/a', 'mail:thread/b', 'drive:file/c', 'web:page/d', 'chat:channel/e'];
const PRINCIPALS = ['ann', 'bob', 'cat', 'dan', 'eve', ME];

function gen(seed: number) {
  const r = prng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const subset = <T>(xs: readonly T[], p: number): T[] => xs.filter(() => r() < p);
  const atom = (): Atom => ({
    source: pick(SOURCES),
    readers: r() < 0.2 ? '*' : new Set(subset(PRINCIPALS, 0.6)),
    integrity: r() < 0.3 ? 'untrusted' : 'trusted',
  });
  const label = (): Label => Label.of(Array.from({ length: Math.floor(r() * 4) }, atom));
  const level = (): FlowLevel => ({
    ...(r() < 0.5 ? { declassify: [{ from: [pick([...SOURCES, 'mail:*', '*'])], to: [pick([...PRINCIPALS, '*'])] }] } : {}),
    ...(r() < 0.4 ? { endorse: [{ tool: 'send', argument: 'to', values: subset(PRINCIPALS, 0.5).concat('x') }] } : {}),
    ...(r() < 0.3 ? { waive: [{ tool: pick(['send', 'other']), argument: 'to' }] } : {}),
  });
  const levels = (): FlowLevel[] => Array.from({ length: Math.floor(r() * 3) }, level);
  return { r, pick, subset, label, levels };
}

test('join is commutative, associative and idempotent; each side flows to the join', () => {
  const g = gen(SEED);
  let nonEmpty = 0;
  for (let i = 0; i < N; i++) {
    const [a, b, c] = [g.label(), g.label(), g.label()];
    assert.equal(a.join(b).canonical(), b.join(a).canonical());
    assert.equal(a.join(b).join(c).canonical(), a.join(b.join(c)).canonical());
    assert.equal(a.join(a).canonical(), a.canonical());
    assert.ok(a.flowsTo(a.join(b)) && b.flowsTo(a.join(b)), 'a label went down in a join');
    assert.ok(Label.fromJson(JSON.parse(a.canonical())).equals(a), 'the canonical form round-trips');
    assert.equal(Label.joinAll([a, b, c]).canonical(), a.join(b).join(c).canonical());
    if (a.size > 0 && b.size > 0) nonEmpty++;
  }
  assert.ok(nonEmpty > N / 3, `only ${nonEmpty} cases joined two non-empty labels`);
});

test('the check is monotone: a bigger content label never allows what a smaller one denied', () => {
  const g = gen(SEED + 1);
  const who = runPrincipals({ user: [ME] });
  const counts = { bothAllow: 0, bothDeny: 0, smallAllowsBigDenies: 0 };
  for (let i = 0; i < N; i++) {
    const small = g.label();
    const big = small.join(g.label());
    const rules = compileFlowRules(g.levels());
    const audience = g.subset([...PRINCIPALS, '*'], 0.3);
    const controls = [{ argument: 'to', values: g.subset([...PRINCIPALS, 'x'], 0.4), malformed: false }];
    const base = { tool: 'send', run: Label.empty(), handles: [], carried: Label.empty(), audience, controls, who, rules };
    const s = checkSink({ ...base, run: small });
    const b = checkSink({ ...base, run: big });
    // A handle in a control argument counts as the run's own label; a carried object or a handle
    // in another argument counts for confidentiality only. Each position is monotone too.
    assert.equal(checkSink({ ...base, handles: [{ argument: 'to', label: big }] }).allow, b.allow);
    for (const place of [(l: Label) => ({ carried: l }), (l: Label) => ({ handles: [{ argument: 'body', label: l }] })]) {
      const bigThere = checkSink({ ...base, ...place(big) });
      if (bigThere.allow) assert.ok(checkSink({ ...base, ...place(small) }).allow, 'a bigger carried or handle label allowed more');
      if (b.allow) assert.ok(bigThere.allow, 'content the run never saw was judged more strictly than what it read');
    }
    if (b.allow) {
      assert.ok(s.allow, `the bigger label was allowed where the smaller was denied: ${big.canonical()} ⊒ ${small.canonical()}`);
      counts.bothAllow++;
    } else if (s.allow) counts.smallAllowsBigDenies++;
    else counts.bothDeny++;
  }
  process.stderr.write(`monotonicity over ${N} seeded cases: ${JSON.stringify(counts)}\n`);
  for (const [k, v] of Object.entries(counts)) assert.ok(v > N / 20, `${k}: only ${v} cases, the property is close to vacuous`);
});

test('flow rules only narrow: adding a level to a chain never releases, endorses or waives more', () => {
  const g = gen(SEED + 2);
  const counts = { parentAllows: 0, childAllows: 0, narrowed: 0 };
  for (let i = 0; i < N; i++) {
    // A chain has its root; what is added below it is a child level.
    const parentLevels = [g.levels()[0] ?? {}, ...g.levels()];
    const parent = compileFlowRules(parentLevels);
    const child = compileFlowRules([...parentLevels, ...g.levels().slice(0, 1)]);
    const source = g.pick(SOURCES);
    const principal = g.pick([...PRINCIPALS, '*']);
    const asks: [boolean, boolean][] = [
      [parent.releases(source, principal), child.releases(source, principal)],
      [parent.endorses('send', 'to', principal), child.endorses('send', 'to', principal)],
      [parent.waives('send', 'to'), child.waives('send', 'to')],
    ];
    for (const [p, c] of asks) {
      if (c) assert.ok(p, 'a child level widened the chain');
      if (p) counts.parentAllows++;
      if (c) counts.childAllows++;
      if (p && !c) counts.narrowed++;
    }
  }
  process.stderr.write(`flow-rule attenuation over ${N} seeded chains: ${JSON.stringify(counts)}\n`);
  for (const [k, v] of Object.entries(counts)) assert.ok(v > N / 50, `${k}: only ${v} cases`);
});

test('a root that omits a field allows none of it, whatever a child states', () => {
  const wide = { declassify: [{ from: ['*'], to: ['*'] }], endorse: [{ tool: '*', argument: '*', values: ['x'] }], waive: [{ tool: '*', argument: '*' }] };
  const child = compileFlowRules([{}, wide]);
  assert.equal(child.releases('mail:thread/a', 'eve'), false);
  assert.equal(child.endorses('send', 'to', 'x'), false);
  assert.equal(child.waives('send', 'to'), false);
  const root = compileFlowRules([wide, {}]);
  assert.equal(root.releases('mail:thread/a', 'eve'), true);
  assert.equal(root.endorses('send', 'to', 'x'), true);
  assert.equal(root.waives('send', 'to'), true);
  assert.equal(compileFlowRules([]).releases('a', 'b'), false);
  assert.throws(() => compileFlowRules([{ declassify: [{ from: ['*'], to: ['*'], extra: 1 }] }]), { code: 'INVALID_REQUEST' });
});

test('same source read twice: readers intersect and integrity drops, in either order', () => {
  const early = Label.of([{ source: 'drive:file/c', readers: new Set(['ann', 'bob']), integrity: 'trusted' }]);
  const late = Label.of([{ source: 'drive:file/c', readers: new Set(['ann', 'bob', 'eve']), integrity: 'untrusted' }]);
  for (const l of [early.join(late), late.join(early)]) {
    assert.deepEqual(l.toJSON(), [{ source: 'drive:file/c', readers: ['ann', 'bob'], integrity: 'untrusted' }]);
  }
  // `*` is the top of readers: meeting it changes nothing; the literal `*` is never a set member.
  assert.deepEqual(early.join(Label.of([{ source: 'drive:file/c', readers: '*', integrity: 'trusted' }])).toJSON(), early.toJSON());
  assert.deepEqual(Label.of([{ source: 's', readers: new Set(['*']), integrity: 'trusted' }]).toJSON(), [{ source: 's', readers: [], integrity: 'trusted' }]);
});
