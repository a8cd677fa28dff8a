// The chain invariants of docs/warrant-format.md §5 and §7, each attacked beside a valid control:
// the attack is refused with its code, and the control (the same chain, made correctly) verifies.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { authorize } from '../../src/authority/authorize.ts';
import { encodeToken } from '../../src/authority/envelope.ts';
import { generateSigningKey } from '../../src/authority/keys.ts';
import { attenuateWarrant, mintWarrant } from '../../src/authority/mint.ts';
import { proveHolder } from '../../src/authority/proof.ts';
import { verifyWarrant, type VerifyOptions } from '../../src/authority/verify.ts';
import { forgeLink, forgeRawLink, HOUR, linksOf, NOW, payloadOf, READ_MAIL, rootToken, throwsCode, tokenOf, world, type World } from './helpers.ts';

const hashOf = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');
const call = (tool: string, op: string, thread = '7') => ({ tool, op, resources: [`mail:thread/${thread}`], args: { threadId: thread } });

/** root (holder host) → child (holder sub), as a bearer token carrying sub's key. */
function child(w: World, root = rootToken(w), grants = [{ tool: 'mail.read', ops: ['read'], resources: ['mail:thread/7'] }]): string {
  const bound = attenuateWarrant(verifyWarrant(root, w.options), { signer: w.host, holder: w.sub.publicKey, now: NOW, expiresAt: NOW + HOUR / 2, grants });
  return tokenOf(linksOf(bound), w.sub);
}

/** A child payload re-signed after `edit`, appended to `root`: what a forger holding `signer` makes. */
function forgedChild(w: World, root: string, edit: (p: Record<string, unknown>) => void, signer = w.host): string {
  const links = linksOf(child(w, root));
  const payload = payloadOf(links[1]!);
  edit(payload);
  return tokenOf([links[0]!, forgeLink(signer, payload)], w.sub);
}

test('read mail, never write, delete or move: each denial names the level and grant, beside the allowed read', () => {
  const w = world();
  const verified = verifyWarrant(rootToken(w), w.options);
  assert.deepEqual(authorize(verified, call('mail.read', 'read')), { allow: true });
  for (const [tool, op] of [['mail.write', 'write'], ['mail.delete', 'delete'], ['mail.move', 'move'], ['mail.read', 'write']] as const) {
    const denied = authorize(verified, call(tool, op));
    assert.equal(denied.allow, false, `${tool} ${op}`);
    assert.equal(denied.code, 'WARRANT_DENIED');
    assert.equal(denied.level, 0);
    assert.equal(denied.grant, 0);
    assert.equal(denied.warrantId, verified.id);
    assert.match(denied.message, new RegExp(`"${op}".*allows ops read`));
  }
  const calendar = authorize(verified, { tool: 'cal.read', op: 'read', resources: [], args: {} });
  assert.equal(calendar.allow, false);
  assert.ok(calendar.grant === undefined, 'no grant of the level names the tool: none is blamed');
});

test('a child narrows: what it names is allowed; what its parent allows but it does not, and anything its parent lacks, is denied', () => {
  const w = world();
  const verified = verifyWarrant(child(w), w.options);
  assert.equal(verified.depth, 1);
  assert.deepEqual(authorize(verified, call('mail.read', 'read', '7')), { allow: true });
  const other = authorize(verified, call('mail.read', 'read', '1'));
  assert.ok(!other.allow && other.level === 1 && other.grant === 0, JSON.stringify(other));
  // A child that asks for more than its parent: attenuate() refuses it…
  throwsCode(() => attenuateWarrant(verifyWarrant(rootToken(w), w.options), { signer: w.host, now: NOW, expiresAt: NOW + HOUR, grants: [{ tool: 'mail.*', ops: ['read', 'delete'] }] }), 'WARRANT_WIDENING');
  // …and made anyway (signed by the holder, past attenuate's check), it gets nothing its chain lacks.
  const greedy = verifyWarrant(forgedChild(w, rootToken(w), (p) => (p['grants'] = [{ tool: '**', ops: ['*'] }])), w.options);
  const deleted = authorize(greedy, call('mail.delete', 'delete'));
  assert.ok(!deleted.allow && deleted.level === 0, JSON.stringify(deleted));
  assert.deepEqual(authorize(greedy, call('mail.read', 'read')), { allow: true }, 'control: what the root grants still passes');
});

test('reordered or dropped links are refused; the chain in order verifies', () => {
  const w = world();
  const mid = verifyWarrant(child(w), w.options);
  const third = attenuateWarrant(mid, { now: NOW, expiresAt: NOW + HOUR / 4 });
  const [a, b, c] = linksOf(third);
  assert.equal(verifyWarrant(third, w.options).depth, 2, 'control');
  const proof = { kind: 'bound' } as const;
  throwsCode(() => verifyWarrant(encodeToken([a!, c!, b!], proof), w.options), 'WARRANT_INVALID', /not by its parent's holder/);
  throwsCode(() => verifyWarrant(encodeToken([a!, c!], proof), w.options), 'WARRANT_INVALID', /not by its parent's holder/);
  throwsCode(() => verifyWarrant(encodeToken([b!, a!, c!], proof), w.options), 'WARRANT_KEY_UNTRUSTED');
});

test('a link spliced from another chain is refused (its parent hash names another link); on its own chain it verifies', () => {
  const w = world();
  const rootA = rootToken(w);
  const rootB = rootToken(w);
  const childOfB = child(w, rootB);
  assert.equal(verifyWarrant(childOfB, w.options).depth, 1, 'control');
  const spliced = tokenOf([linksOf(rootA)[0]!, linksOf(childOfB)[1]!], w.sub);
  throwsCode(() => verifyWarrant(spliced, w.options), 'WARRANT_INVALID', /does not name the link before it/);
});

test("a link whose issuer is not its parent's holder is refused; signed by the holder it verifies", () => {
  const w = world();
  const root = rootToken(w);
  assert.equal(verifyWarrant(forgedChild(w, root, () => undefined), w.options).depth, 1, 'control: the holder signs');
  const byOther = forgedChild(w, root, (p) => (p['iss'] = w.other.kid), w.other);
  throwsCode(() => verifyWarrant(byOther, w.options), 'WARRANT_INVALID', /not by its parent's holder/);
  // The holder's kid in the envelope but another key's signature: the signature fails.
  const links = linksOf(forgedChild(w, root, () => undefined));
  const resigned = forgeLink(w.other, payloadOf(links[1]!));
  const lying = tokenOf([links[0]!, { ...resigned, kid: w.host.kid, bytes: resigned.bytes, preimage: links[1]!.preimage }], w.sub);
  throwsCode(() => verifyWarrant(lying, w.options), 'WARRANT_INVALID');
  throwsCode(() => attenuateWarrant(verifyWarrant(root, w.options), { signer: w.other, now: NOW, expiresAt: NOW + 1000 }), 'WARRANT_INVALID', /only the chain's holder/);
});

test('depth only grows, up to the limit: a link past maxDepth, or raising it, is refused; within it verifies', () => {
  const w = world();
  const root = rootToken(w, { maxDepth: 1 });
  const one = verifyWarrant(child(w, root), w.options);
  assert.equal(one.depth, 1, 'control: depth 1 under maxDepth 1');
  throwsCode(() => attenuateWarrant(one, { now: NOW, expiresAt: NOW + 1000 }), 'WARRANT_WIDENING', /past it/);
  // Forged past attenuate(): depth 2 under a limit of 1.
  const links = linksOf(child(w, root));
  const deep = forgeLink(w.sub, { ...payloadOf(links[1]!), id: 'wr_AAAAAAAAAAAAAAAAAAAAAA', iss: w.sub.kid, depth: 2, parent: hashOf(links[1]!.bytes) });
  throwsCode(() => verifyWarrant(tokenOf([...links, deep], w.sub), w.options), 'WARRANT_INVALID', /past the chain's limit/);
  throwsCode(() => verifyWarrant(forgedChild(w, root, (p) => (p['maxDepth'] = 3)), w.options), 'WARRANT_INVALID', /raises the depth limit/);
  throwsCode(() => verifyWarrant(forgedChild(w, root, (p) => (p['depth'] = 2)), w.options), 'WARRANT_INVALID', /says depth 2/);
  throwsCode(() => mintWarrant({ signer: w.root, tenant: 'acme', now: NOW, expiresAt: NOW + 1, grants: [], maxDepth: 9 }), 'INVALID_REQUEST', /maxDepth/);
});

test('expiry only shrinks: a child expiring after its parent is refused; one expiring before verifies', () => {
  const w = world();
  const root = rootToken(w);
  assert.equal(verifyWarrant(forgedChild(w, root, (p) => (p['exp'] = NOW + HOUR)), w.options).expiresAt, NOW + HOUR, 'control: equal expiry');
  throwsCode(() => verifyWarrant(forgedChild(w, root, (p) => (p['exp'] = NOW + HOUR + 1)), w.options), 'WARRANT_INVALID', /expires after its parent/);
  throwsCode(() => attenuateWarrant(verifyWarrant(root, w.options), { now: NOW, expiresAt: NOW + HOUR + 1 }), 'WARRANT_WIDENING', /expiry only shrinks/);
});

test('expiry is checked against the caller\'s clock, at every link', () => {
  const w = world();
  const token = child(w);
  const at = (now: number): VerifyOptions => ({ ...w.options, now });
  assert.equal(verifyWarrant(token, at(NOW + HOUR / 2 - 1)).depth, 1, 'control: a millisecond before');
  throwsCode(() => verifyWarrant(token, at(NOW + HOUR / 2)), 'WARRANT_EXPIRED');
  assert.equal(verifyWarrant(rootToken(w), at(NOW + HOUR / 2)).depth, 0, 'the root lives on after its child');
  throwsCode(() => verifyWarrant(token, at(NOW - 61_000)), 'WARRANT_INVALID', /issued in the future/);
});

test('the tenant is bound in the root: another tenant is refused, and a child cannot restate it', () => {
  const w = world();
  const token = rootToken(w);
  assert.equal(verifyWarrant(token, w.options).tenant, 'acme', 'control');
  throwsCode(() => verifyWarrant(token, { ...w.options, tenant: 'globex' }), 'WARRANT_INVALID', /tenant "acme", not "globex"/);
  throwsCode(() => verifyWarrant(forgedChild(w, token, (p) => (p['tenant'] = 'globex')), { ...w.options, tenant: 'globex' }), 'WARRANT_INVALID');
});

test('revocation by warrant id refuses every chain holding that link; others still verify', () => {
  const w = world();
  const root = rootToken(w);
  const token = child(w, root);
  const ids = verifyWarrant(token, w.options).ids;
  const revokeChild = { ...w.options, revoked: new Set([ids[1]!]) };
  throwsCode(() => verifyWarrant(token, revokeChild), 'WARRANT_REVOKED');
  assert.equal(verifyWarrant(root, revokeChild).depth, 0, 'control: the parent is not revoked');
  throwsCode(() => verifyWarrant(root, { ...w.options, revoked: new Set([ids[0]!]) }), 'WARRANT_REVOKED');
  throwsCode(() => verifyWarrant(token, { ...w.options, revoked: new Set([ids[0]!]) }), 'WARRANT_REVOKED', /revoked/);
});

test('key rotation: the old kid verifies while trusted, beside the new one; removed, it is refused', () => {
  const w = world();
  const next = generateSigningKey();
  const byOld = rootToken(w);
  const byNew = mintWarrant({ signer: next, tenant: 'acme', now: NOW, expiresAt: NOW + HOUR, grants: READ_MAIL });
  const both = { ...w.options, trustedKeys: new Map([[w.root.kid, w.root.publicKey], [next.kid, next.publicKey]]) };
  assert.equal(verifyWarrant(byOld, both).rootKid, w.root.kid);
  assert.equal(verifyWarrant(byNew, both).rootKid, next.kid);
  const rotated = { ...w.options, trustedKeys: new Map([[next.kid, next.publicKey]]) };
  throwsCode(() => verifyWarrant(byOld, rotated), 'WARRANT_KEY_UNTRUSTED');
  assert.equal(verifyWarrant(byNew, rotated).rootKid, next.kid, 'control');
  // A trusted key filed under another key's id is not that key.
  throwsCode(() => verifyWarrant(byOld, { ...w.options, trustedKeys: new Map([[w.root.kid, next.publicKey]]) }), 'WARRANT_KEY_UNTRUSTED', /another key/);
});

test('no link can be dropped: a shortened chain lacks its leaf holder\'s key; the whole chain verifies', () => {
  const w = world();
  const token = child(w);
  assert.equal(verifyWarrant(token, w.options).depth, 1, 'control');
  const [root] = linksOf(token);
  // The child's bearer key kept, its link dropped: the parent's holder is host, whose key is not there.
  throwsCode(() => verifyWarrant(tokenOf([root!], w.sub), w.options), 'WARRANT_INVALID', /links were removed/);
  // Presented as bound instead, with a proof made by the only key the thief has.
  const bound = encodeToken([root!], { kind: 'bound' });
  const chainHash = hashOf(root!.bytes);
  throwsCode(() => verifyWarrant(bound, w.options), 'WARRANT_PROOF_REQUIRED');
  throwsCode(() => verifyWarrant(bound, { ...w.options, proof: proveHolder(chainHash, w.sub, 'nonce-1') }), 'WARRANT_PROOF_REQUIRED', /not holder/);
  assert.equal(verifyWarrant(bound, { ...w.options, proof: proveHolder(chainHash, w.host, 'nonce-1') }).depth, 0, 'control: the real holder may use the parent');
});

test('a bound token verifies only with its holder\'s proof over the challenge given', () => {
  const w = world();
  const token = mintWarrant({ signer: w.root, holder: w.sub.publicKey, tenant: 'acme', now: NOW, expiresAt: NOW + HOUR, grants: READ_MAIL });
  const chainHash = hashOf(linksOf(token)[0]!.bytes);
  throwsCode(() => verifyWarrant(token, w.options), 'WARRANT_PROOF_REQUIRED');
  const proof = proveHolder(chainHash, w.sub, 'challenge-42');
  const verified = verifyWarrant(token, { ...w.options, proof });
  assert.equal(verified.bearer, null);
  throwsCode(() => verifyWarrant(token, { ...w.options, proof: { ...proof, challenge: 'challenge-43' } }), 'WARRANT_PROOF_REQUIRED');
  throwsCode(() => verifyWarrant(token, { ...w.options, proof: proveHolder(chainHash, w.other, 'challenge-42') }), 'WARRANT_PROOF_REQUIRED');
  // The holder attenuates with its own key; without it, a bound token cannot be attenuated.
  throwsCode(() => attenuateWarrant(verified, { now: NOW, expiresAt: NOW + 1000 }), 'INVALID_REQUEST', /bound/);
  const sub = verifyWarrant(attenuateWarrant(verified, { signer: w.sub, now: NOW, expiresAt: NOW + 1000 }), w.options);
  assert.equal(sub.depth, 1);
  assert.notEqual(sub.bearer, null);
});

test('a "__proto__" key, which schema parsing would drop with its constraint, is refused at mint and at verify', () => {
  const w = world();
  const where = JSON.parse('{"__proto__": {"eq": "inbox"}, "folder": {"eq": "inbox"}}') as Record<string, unknown>;
  const grants = [{ tool: 'mail.read', ops: ['read'], where }] as unknown as typeof READ_MAIL;
  throwsCode(() => mintWarrant({ signer: w.root, tenant: 'acme', now: NOW, expiresAt: NOW + HOUR, grants }), 'INVALID_REQUEST', /__proto__/);
  // Signed anyway by the root key: the verifier refuses it rather than dropping the constraint.
  const links = linksOf(rootToken(w));
  const payload = { ...payloadOf(links[0]!), grants: [{ tool: 'mail.read', ops: ['read'], where }] };
  assert.match(JSON.stringify(payload), /__proto__/);
  throwsCode(() => verifyWarrant(tokenOf([forgeRawLink(w.root, JSON.stringify(payload))], w.host), w.options), 'WARRANT_INVALID', /__proto__/);
  const control = { ...payloadOf(links[0]!), grants: [{ tool: 'mail.read', ops: ['read'], where: { folder: { eq: 'inbox' } } }] };
  assert.equal(verifyWarrant(tokenOf([forgeRawLink(w.root, JSON.stringify(control))], w.host), w.options).depth, 0, 'control');
});
