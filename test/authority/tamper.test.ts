// Every single-byte change of a real token is refused, exhaustively: each position of a two-link
// bearer token's text, set to each of the 255 other byte values. The unchanged token verifies.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AirlockError } from '../../src/core/errors.ts';
import { attenuateWarrant } from '../../src/authority/mint.ts';
import { verifyWarrant } from '../../src/authority/verify.ts';
import { HOUR, NOW, rootToken, throwsCode, world } from './helpers.ts';

// ~65,000 of the changes reach an Ed25519 verification: seconds on an idle machine, minutes on a
// crowded one, so this test has its own generous time limit instead of the runner's.
test('every single-byte change of a two-link token is refused with a warrant code', { timeout: 900_000 }, () => {
  const w = world();
  // Small grants keep the token short (the cost is one verification per base64url change).
  const parent = verifyWarrant(rootToken(w, { grants: [{ tool: 'mail.*', ops: ['read'] }] }), w.options);
  const token = attenuateWarrant(parent, { now: NOW, expiresAt: NOW + HOUR / 2, grants: [{ tool: 'mail.read', ops: ['read'] }] });
  assert.equal(verifyWarrant(token, w.options).depth, 1, 'control: the token as minted verifies');
  const bytes = Buffer.from(token, 'latin1');
  const codes = new Map<string, number>();
  let tried = 0;
  for (let at = 0; at < bytes.length; at++) {
    const original = bytes[at]!;
    for (let value = 0; value < 256; value++) {
      if (value === original) continue;
      bytes[at] = value;
      tried++;
      try {
        verifyWarrant(bytes.toString('latin1'), w.options);
        assert.fail(`setting byte ${at} to ${value} still verified`);
      } catch (error) {
        assert.ok(error instanceof AirlockError && error.code.startsWith('WARRANT_'), `byte ${at} = ${value}: ${String(error)}`);
        const kind = /not a well-formed token/.test(error.message) ? 'framing' : /signature does not verify/.test(error.message) ? 'signature' : error.code;
        codes.set(kind, (codes.get(kind) ?? 0) + 1);
      }
    }
    bytes[at] = original;
  }
  assert.equal(tried, bytes.length * 255);
  // Most base64url-preserving changes get past the framing and are caught by the signature.
  assert.ok((codes.get('signature') ?? 0) > bytes.length * 40, JSON.stringify([...codes]));
  process.stdout.write(`# ${tried} single-byte changes of a ${bytes.length}-character token, all refused: ${JSON.stringify(Object.fromEntries(codes))}\n`);
});

test('a token whose last base64url character carries stray bits is refused, though it decodes to the same bytes', () => {
  const w = world();
  // Tool names of growing length until the envelope is not a multiple of 3 bytes (so the last character has spare bits).
  let token = '';
  for (let n = 1; token === '' || (token.length - 4) % 4 === 0; n++) token = rootToken(w, { grants: [{ tool: 'm'.repeat(n), ops: ['read'] }] });
  assert.equal(verifyWarrant(token, w.options).depth, 0, 'control');
  const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  const last = B64.indexOf(token.at(-1)!);
  const spare = (token.length - 4) % 4 === 2 ? 0b1111 : 0b11;
  const twin = token.slice(0, -1) + B64[last ^ 1]!;
  assert.ok((last & spare) === 0 && Buffer.from(twin.slice(4), 'base64url').equals(Buffer.from(token.slice(4), 'base64url')), 'the twin text decodes to the very same bytes');
  throwsCode(() => verifyWarrant(twin, w.options), 'WARRANT_INVALID', /not canonical/);
});
