// Seeded property tests of attenuation soundness (STYLE.md §15): whatever a child chain accepts,
// its parent chain accepts, for children made any way at all (attenuate() or forged past it); and
// the widening check and glob containment answer "covered" only when it is so. Each reports how
// many generated calls were accepted and denied, and requires both, so it can't pass vacuously.
// WARRANT_SEED=<n> replays another seed.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { authorize } from '../../src/authority/authorize.ts';
import { compileGlob, globCovers } from '../../src/authority/glob.ts';
import { compileGrants, missOf, type WarrantCall } from '../../src/authority/grants.ts';
import { grantCovers } from '../../src/authority/widening.ts';
import { attenuateWarrant, mintWarrant } from '../../src/authority/mint.ts';
import type { GrantDoc } from '../../src/authority/payload.ts';
import { verifyWarrant, type VerifiedWarrant } from '../../src/authority/verify.ts';
import { AirlockError } from '../../src/core/errors.ts';
import { createHash } from 'node:crypto';
import { forgeLink, HOUR, linksOf, NOW, payloadOf, tokenOf, world, type World } from './helpers.ts';
import { prng } from '../support/prng.ts';

const SEED = Number(process.env['WARRANT_SEED'] ?? 0x5eed);

class Gen {
  readonly next: () => number;
  constructor(seed: number) {
    this.next = prng(seed);
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }
  some<T>(items: readonly T[], min: number, max: number): T[] {
    const n = min + this.int(max - min + 1);
    return [...new Set(Array.from({ length: n }, () => this.pick(items)))];
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
}

const TOOLS = ['mail.read', 'mail.send', 'mail.delete', 'mail.move', 'mail.drafts.read', 'cal.read', 'cal.create', 'pay.send'];
const TOOL_GLOBS = [...TOOLS, 'mail.*', 'cal.*', '*.read', 'mail.**', '**', '*.send', 'pay.*', '*.*'];
const OPS = ['read', 'write', 'delete', 'send', 'move'];
const RESOURCES = ['mail:thread/1', 'mail:thread/2', 'mail:thread/3', 'mail:to/a@x.com', 'mail:to/b@y.com', 'cal:day/2026-01-01', 'cal:day/*', 'pay:acct/42'];
const RESOURCE_GLOBS = ['mail:thread/*', 'mail:thread/1', 'mail:thread/2', 'mail:**', 'mail:to/*@x.com', 'mail:to/*', 'cal:day/*', 'cal:day/2026-01-01', '**', 'pay:acct/42', 'pay:**', 'mail:*/1'];
const FOLDERS = ['inbox', 'sent', 'archive'];
const WHERE: ((g: Gen) => [string, Record<string, unknown>])[] = [
  (g) => ['amount', { lte: g.int(100) }],
  (g) => ['amount', { gte: g.int(100) }],
  (g) => ['folder', { in: g.some(FOLDERS, 1, 3) }],
  (g) => ['folder', { eq: g.pick(FOLDERS) }],
  (g) => ['folder', { ne: g.pick(FOLDERS) }],
  () => ['to[]', { glob: '*@x.com' }],
  () => ['subject', { contains: 'hi' }],
  (g) => ['flag', { eq: g.chance(0.5) }],
];

function grant(g: Gen): GrantDoc {
  const where = g.chance(0.5) ? Object.fromEntries(Array.from({ length: 1 + g.int(2) }, () => g.pick(WHERE)(g))) : undefined;
  return {
    tool: g.pick(TOOL_GLOBS),
    ops: g.chance(0.15) ? ['*'] : g.some(OPS, 1, 3),
    ...(g.chance(0.6) && { resources: g.some(RESOURCE_GLOBS, 1, 3) }),
    ...(where !== undefined && { where }),
  };
}

/** A grant derived from one of the parent's, changed a little: narrower, equal or wider. */
function nearby(g: Gen, parent: GrantDoc): GrantDoc {
  const out: Record<string, unknown> = { ...parent };
  if (g.chance(0.5)) out['tool'] = g.pick(TOOL_GLOBS);
  if (g.chance(0.5)) out['ops'] = g.some(parent.ops.includes('*') ? OPS : [...parent.ops, ...(g.chance(0.3) ? [g.pick(OPS)] : [])], 1, 2);
  if (g.chance(0.4)) out['resources'] = g.some(RESOURCE_GLOBS, 1, 2);
  if (g.chance(0.3)) delete out['resources'];
  if (g.chance(0.4)) out['where'] = Object.fromEntries([g.pick(WHERE)(g)]);
  if (g.chance(0.2)) delete out['where'];
  return out as GrantDoc;
}

function args(g: Gen): Record<string, unknown> {
  const a: Record<string, unknown> = {};
  if (g.chance(0.8)) a['amount'] = g.int(120);
  if (g.chance(0.8)) a['folder'] = g.pick([...FOLDERS, 'spam']);
  if (g.chance(0.7)) a['to'] = g.some(['a@x.com', 'b@x.com', 'c@y.com'], 0, 2);
  if (g.chance(0.7)) a['subject'] = g.pick(['hi there', 'hello', 'oh hi', 'report']);
  if (g.chance(0.6)) a['flag'] = g.chance(0.5);
  return a;
}

/** A call, often aimed at one of the given grants so that acceptances are common. */
function callFor(g: Gen, aims: readonly GrantDoc[]): WarrantCall {
  const aim = aims.length > 0 && g.chance(0.7) ? g.pick(aims) : null;
  const tools = aim === null ? TOOLS : TOOLS.filter((t) => compileGlob(aim.tool, '.').test(t));
  const ops = aim === null || aim.ops.includes('*') ? OPS : aim.ops;
  const globs = aim?.resources;
  const pool = globs === undefined ? RESOURCES : RESOURCES.filter((r) => globs.some((p) => compileGlob(p, '/').test(r)));
  return { tool: g.pick(tools.length > 0 ? tools : TOOLS), op: g.pick(ops), resources: g.some(pool.length > 0 ? pool : RESOURCES, 0, 2), args: args(g) };
}

/** A child of `parent` with these grants: by attenuate() when it agrees, else forged past it (signed by the holder all the same). */
function childOf(w: World, parent: VerifiedWarrant, grants: GrantDoc[]): { token: string; forged: boolean } {
  try {
    return { token: attenuateWarrant(parent, { now: NOW, expiresAt: parent.expiresAt, grants }), forged: false };
  } catch (error) {
    assert.ok(error instanceof AirlockError && error.code === 'WARRANT_WIDENING', String(error));
  }
  const leaf = parent.links.at(-1)!;
  const signer = parent.bearer!;
  const payload = { ...payloadOf(leaf), id: `wr_${createHash('sha256').update(JSON.stringify(grants)).digest('base64url').slice(0, 22)}`, iss: signer.kid, holder: { kid: w.sub.kid, key: w.sub.publicKey.export({ format: 'jwk' }).x }, depth: parent.depth + 1, parent: createHash('sha256').update(leaf.bytes).digest('hex'), grants };
  delete (payload as Record<string, unknown>)['tenant'];
  return { token: tokenOf([...parent.links, forgeLink(signer, payload)], w.sub), forged: true };
}

test(`attenuation soundness: whatever a child (or grandchild) accepts, its parent accepts (seed ${SEED})`, () => {
  const g = new Gen(SEED);
  const w = world();
  const counts = { chains: 0, forged: 0, accepted: 0, denied: 0, parentOnly: 0 };
  for (let round = 0; round < 150; round++) {
    const rootGrants = Array.from({ length: 1 + g.int(3) }, () => grant(g));
    const root = verifyWarrant(tokenOf(linksOf(mintWarrant({ signer: w.root, holder: w.host.publicKey, tenant: 'acme', now: NOW, expiresAt: NOW + HOUR, grants: rootGrants })), w.host), w.options);
    let parent = root;
    let parentGrants = rootGrants;
    for (let depth = 1; depth <= 2; depth++) {
      const childGrants = Array.from({ length: 1 + g.int(3) }, () => (g.chance(0.7) ? nearby(g, g.pick(parentGrants)) : grant(g)));
      const made = childOf(w, parent, childGrants);
      const child = verifyWarrant(made.token, w.options);
      counts.chains++;
      if (made.forged) counts.forged++;
      for (let i = 0; i < 40; i++) {
        const call = callFor(g, [...childGrants, ...parentGrants]);
        const byChild = authorize(child, call).allow;
        const byParent = authorize(parent, call).allow;
        if (byChild) {
          counts.accepted++;
          assert.ok(byParent, `seed ${SEED}: the child accepted ${JSON.stringify(call)} but its parent did not`);
          // Every ancestor accepts too.
          assert.ok(authorize(root, call).allow, `seed ${SEED}: the root did not accept ${JSON.stringify(call)}`);
        } else {
          counts.denied++;
          if (byParent) counts.parentOnly++;
        }
      }
      parent = child;
      parentGrants = childGrants;
    }
  }
  process.stdout.write(`# attenuation soundness, seed ${SEED}: ${JSON.stringify(counts)}\n`);
  assert.ok(counts.accepted > 100 && counts.denied > 100, JSON.stringify(counts));
  assert.ok(counts.parentOnly > 100, 'children really narrowed: many calls their parent allows are denied');
  assert.ok(counts.forged > 20 && counts.forged < counts.chains, 'both forged and attenuate()-made children were checked');
});

test(`the widening check is sound: a grant it calls covered accepts nothing its parent grant refuses (seed ${SEED})`, () => {
  const g = new Gen(SEED + 1);
  const counts = { pairs: 0, covered: 0, accepted: 0, denied: 0 };
  for (let round = 0; round < 3000; round++) {
    const parent = grant(g);
    const child = g.chance(0.8) ? nearby(g, parent) : grant(g);
    counts.pairs++;
    if (!grantCovers(parent, child)) continue;
    counts.covered++;
    const [p, c] = compileGrants([parent, child]);
    for (let i = 0; i < 20; i++) {
      const call = callFor(g, [child]);
      if (missOf(c!, call) === null) {
        counts.accepted++;
        assert.equal(missOf(p!, call), null, `seed ${SEED}: ${JSON.stringify(child)} was called covered by ${JSON.stringify(parent)} but accepts ${JSON.stringify(call)}`);
      } else counts.denied++;
    }
  }
  process.stdout.write(`# widening check, seed ${SEED}: ${JSON.stringify(counts)}\n`);
  assert.ok(counts.covered > 100 && counts.covered < counts.pairs, JSON.stringify(counts));
  assert.ok(counts.accepted > 100 && counts.denied > 100, JSON.stringify(counts));
});

test(`glob containment is sound over every short string (seed ${SEED})`, () => {
  const g = new Gen(SEED + 2);
  const strings: string[] = [''];
  for (let len = 1, layer = ['']; len <= 5; len++) {
    layer = layer.flatMap((s) => ['a', 'b', '/'].map((c) => s + c));
    strings.push(...layer);
  }
  const counts = { pairs: 0, covered: 0, checked: 0 };
  for (let round = 0; round < 2000; round++) {
    const glob = (): string => Array.from({ length: 1 + g.int(4) }, () => g.pick(['a', 'b', '/', '*', '**', 'ab'])).join('');
    const parent = glob();
    const child = glob();
    counts.pairs++;
    if (!globCovers(parent, child, '/')) continue;
    counts.covered++;
    const [p, c] = [compileGlob(parent, '/'), compileGlob(child, '/')];
    for (const s of strings) {
      if (!c.test(s)) continue;
      counts.checked++;
      assert.ok(p.test(s), `seed ${SEED}: ${child} called covered by ${parent}, but ${JSON.stringify(s)} matches only the child`);
    }
  }
  process.stdout.write(`# glob containment, seed ${SEED}: ${JSON.stringify(counts)}\n`);
  assert.ok(counts.covered > 100 && counts.covered < counts.pairs && counts.checked > 1000, JSON.stringify(counts));
});

/** The backtracking RegExp a glob would be: the reference, safe on short strings only. */
function referenceRegExp(pattern: string, sep: '/' | null): RegExp {
  const star = sep === null ? '[\\s\\S]*' : '[^/]*';
  const body = pattern
    .split(/(\*+)/)
    .filter((p) => p !== '')
    .map((p) => (p.startsWith('*') ? (p.length === 1 ? star : '[\\s\\S]*') : p.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&')))
    .join('');
  return new RegExp(`^${body}$`);
}

test(`the linear glob matcher agrees with the regular expression it stands for (seed ${SEED})`, () => {
  const g = new Gen(SEED + 3);
  let matched = 0;
  let checked = 0;
  for (let round = 0; round < 3000; round++) {
    const pattern = Array.from({ length: 1 + g.int(6) }, () => g.pick(['a', 'b', '/', '*', '**', 'ab', '.', 'é'])).join('');
    const sep = g.chance(0.7) ? '/' : null;
    const ours = compileGlob(pattern, sep);
    const reference = referenceRegExp(pattern, sep);
    for (let i = 0; i < 30; i++) {
      const text = Array.from({ length: g.int(8) }, () => g.pick(['a', 'b', '/', '.', 'é', 'ab'])).join('');
      checked++;
      const expected = reference.test(text);
      if (expected) matched++;
      assert.equal(ours.test(text), expected, `seed ${SEED}: ${JSON.stringify(pattern)} (sep ${String(sep)}) on ${JSON.stringify(text)}`);
    }
  }
  assert.ok(matched > 1000 && matched < checked - 1000, `${matched} of ${checked} matched`);
});

test('a glob written by a delegate cannot hold the host: a pathological pattern over a long argument answers', () => {
  const w = world();
  const root = verifyWarrant(tokenOf(linksOf(mintWarrant({ signer: w.root, holder: w.host.publicKey, tenant: 'acme', now: NOW, expiresAt: NOW + HOUR, grants: [{ tool: 'mail.send', ops: ['send'] }] })), w.host), w.options);
  // A backtracking engine takes exponential time on this pattern against a run of "a"s.
  const evil = `${'*a'.repeat(40)}*c`;
  const { token } = childOf(w, root, [{ tool: 'mail.send', ops: ['send'], resources: [evil], where: { body: { glob: evil } } }]);
  const child = verifyWarrant(token, w.options);
  const long = 'a'.repeat(100_000);
  assert.equal(authorize(child, { tool: 'mail.send', op: 'send', resources: [long], args: { body: long } }).allow, false);
  assert.equal(authorize(child, { tool: 'mail.send', op: 'send', resources: [`${'a'.repeat(40)}c`], args: { body: `${'a'.repeat(40)}c` } }).allow, true, 'control: the pattern still matches what it names');
});
