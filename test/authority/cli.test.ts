// `airlock warrant …` through the real CLI process: exit codes from the error table, one JSON
// object with --json, key files private, and each refusal beside the command that succeeds.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';

const MAIN = join(import.meta.dirname, '..', '..', 'src', 'cli', 'main.ts');
const root = mkdtempSync(join(tmpdir(), 'airlock-warrant-cli-'));
after(() => rmSync(root, { recursive: true, force: true }));

interface Ran {
  readonly code: number | null;
  readonly out: string;
  readonly json: Record<string, unknown>;
}

function cli(home: string, args: string[]): Promise<Ran> {
  // Bounded: a CLI that never ends is killed, and its output fails the test.
  const child = spawn(process.execPath, [MAIN, 'warrant', ...args], { env: { ...process.env, AIRLOCK_HOME: home }, stdio: ['ignore', 'pipe', 'ignore'], timeout: 30_000 });
  let out = '';
  child.stdout.on('data', (b: Buffer) => (out += b.toString()));
  return new Promise((resolve) =>
    child.on('exit', (code) => {
      let json: Record<string, unknown> = {};
      try {
        json = JSON.parse(out) as Record<string, unknown>;
      } catch {
        // not JSON: the caller did not ask for --json
      }
      resolve({ code, out, json });
    }),
  );
}

const errorCode = (r: Ran): unknown => (r.json['error'] as { code?: string } | undefined)?.code;
const GRANTS = JSON.stringify([{ tool: 'mail.*', ops: ['read'], resources: ['mail:thread/*'] }]);

async function homeWithRoot(): Promise<{ home: string; kid: string }> {
  const home = mkdtempSync(join(root, 'h-'));
  const made = await cli(home, ['keygen', '--trust', '--json']);
  assert.equal(made.code, 0, made.out);
  return { home, kid: String(made.json['kid']) };
}

test('keygen writes a private key file only its owner can read, and --trust trusts its public key', async () => {
  const { home, kid } = await homeWithRoot();
  const key = join(home, 'warrants', 'keys', `${kid}.key`);
  assert.equal(statSync(key).mode & 0o777, 0o600);
  assert.equal(statSync(join(home, 'warrants', 'keys')).mode & 0o777, 0o700);
  assert.match(readFileSync(key, 'utf8'), /BEGIN PRIVATE KEY/);
  assert.ok(existsSync(join(home, 'warrants', 'trusted', `${kid}.pub`)));
  const again = await cli(home, ['keygen', '--out', join(home, 'warrants', 'keys', kid), '--json']);
  assert.equal(again.code, 2, 'an existing key file is never overwritten');
  assert.equal(readFileSync(key, 'utf8').includes('PRIVATE'), true);
});

test('issue, inspect, verify; a one-character change, another tenant or an expired token are refused', async () => {
  const { home, kid } = await homeWithRoot();
  const issued = await cli(home, ['issue', '--key', kid, '--tenant', 'acme', '--ttl', '1h', '--grants', GRANTS, '--json']);
  assert.equal(issued.code, 0, issued.out);
  const token = String(issued.json['token']);
  const file = join(home, 'token');
  writeFileSync(file, token);
  const inspected = await cli(home, ['inspect', file, '--json']);
  assert.equal(inspected.json['verified'], false);
  assert.equal((inspected.json['links'] as { tenant: string }[])[0]?.tenant, 'acme');
  const ok = await cli(home, ['verify', '--tenant', 'acme', file, '--json']);
  assert.equal(ok.code, 0, ok.out);
  assert.equal(ok.json['valid'], true);
  const at = 40;
  const changed = token.slice(0, at) + (token[at] === 'A' ? 'B' : 'A') + token.slice(at + 1);
  const bad = await cli(home, ['verify', '--tenant', 'acme', changed, '--json']);
  assert.equal(bad.code, 2);
  assert.equal(errorCode(bad), 'WARRANT_INVALID');
  const other = await cli(home, ['verify', '--tenant', 'globex', file, '--json']);
  assert.equal(errorCode(other), 'WARRANT_INVALID');
  const brief = await cli(home, ['issue', '--key', kid, '--tenant', 'acme', '--ttl', '1ms', '--grants', GRANTS]);
  assert.equal(brief.code, 0);
  // A process start takes far longer than a millisecond: by the time verify runs it has expired.
  const expired = await cli(home, ['verify', '--tenant', 'acme', brief.out.trim(), '--json']);
  assert.equal(expired.code, 3);
  assert.equal(errorCode(expired), 'WARRANT_EXPIRED');
});

test('attenuate narrows; a widening child is refused and no token is printed; revoking the child leaves the parent valid', async () => {
  const { home, kid } = await homeWithRoot();
  const parent = String((await cli(home, ['issue', '--key', kid, '--tenant', 'acme', '--ttl', '1h', '--grants', GRANTS, '--json'])).json['token']);
  const wide = await cli(home, ['attenuate', parent, '--grants', JSON.stringify([{ tool: 'mail.*', ops: ['read', 'delete'] }]), '--json']);
  assert.equal(wide.code, 2);
  assert.equal(errorCode(wide), 'WARRANT_WIDENING');
  assert.doesNotMatch(wide.out, /aw1\./, 'no child token was printed');
  const narrow = await cli(home, ['attenuate', parent, '--ttl', '10m', '--grants', JSON.stringify([{ tool: 'mail.read', ops: ['read'], resources: ['mail:thread/7'] }]), '--json']);
  assert.equal(narrow.code, 0, narrow.out);
  const child = String(narrow.json['token']);
  const verified = await cli(home, ['verify', '--tenant', 'acme', child, '--json']);
  assert.equal(verified.json['depth'], 1);
  const childId = String(verified.json['id']);
  const revoked = await cli(home, ['revoke', childId, '--json']);
  assert.equal(revoked.code, 0);
  assert.match(readFileSync(join(home, 'warrants', 'revoked'), 'utf8'), new RegExp(childId));
  const refused = await cli(home, ['verify', '--tenant', 'acme', child, '--json']);
  assert.equal(refused.code, 3);
  assert.equal(errorCode(refused), 'WARRANT_REVOKED');
  assert.equal((await cli(home, ['verify', '--tenant', 'acme', parent, '--json'])).code, 0, 'control: the parent is not revoked');
  assert.equal((await cli(home, ['revoke', 'not-an-id', '--json'])).code, 2);
});

test('key rotation: both kids verify while trusted; the removed one is refused, the new one is not', async () => {
  const { home, kid: old } = await homeWithRoot();
  const next = String((await cli(home, ['keygen', '--trust', '--json'])).json['kid']);
  const byOld = String((await cli(home, ['issue', '--key', old, '--tenant', 'acme', '--ttl', '1h', '--grants', GRANTS, '--json'])).json['token']);
  const byNew = String((await cli(home, ['issue', '--key', next, '--tenant', 'acme', '--ttl', '1h', '--grants', GRANTS, '--json'])).json['token']);
  assert.equal((await cli(home, ['verify', '--tenant', 'acme', byOld, '--json'])).code, 0);
  assert.equal((await cli(home, ['verify', '--tenant', 'acme', byNew, '--json'])).code, 0);
  rmSync(join(home, 'warrants', 'trusted', `${old}.pub`));
  const refused = await cli(home, ['verify', '--tenant', 'acme', byOld, '--json']);
  assert.equal(refused.code, 2);
  assert.equal(errorCode(refused), 'WARRANT_KEY_UNTRUSTED');
  assert.equal((await cli(home, ['verify', '--tenant', 'acme', byNew, '--json'])).code, 0, 'control');
});

test('a token bound to a holder verifies only with that holder\'s proof over the challenge', async () => {
  const { home, kid } = await homeWithRoot();
  const holder = join(home, 'agent');
  assert.equal((await cli(home, ['keygen', '--out', holder, '--json'])).code, 0);
  const token = String((await cli(home, ['issue', '--key', kid, '--tenant', 'acme', '--ttl', '1h', '--grants', GRANTS, '--holder', `${holder}.pub`, '--json'])).json['token']);
  const bare = await cli(home, ['verify', '--tenant', 'acme', token, '--json']);
  assert.equal(bare.code, 3);
  assert.equal(errorCode(bare), 'WARRANT_PROOF_REQUIRED');
  const proof = String((await cli(home, ['prove', token, '--key', `${holder}.key`, '--challenge', 'nonce-1', '--json'])).json['signature']);
  const proven = await cli(home, ['verify', '--tenant', 'acme', token, '--challenge', 'nonce-1', '--proof', proof, '--json']);
  assert.equal(proven.code, 0, proven.out);
  assert.equal(proven.json['kind'], 'bound');
  const replayed = await cli(home, ['verify', '--tenant', 'acme', token, '--challenge', 'nonce-2', '--proof', proof, '--json']);
  assert.equal(errorCode(replayed), 'WARRANT_PROOF_REQUIRED');
  // The holder narrows it with its own key.
  const child = await cli(home, ['attenuate', token, '--key', `${holder}.key`, '--ttl', '5m', '--json']);
  assert.equal(child.code, 0, child.out);
  assert.equal((await cli(home, ['verify', '--tenant', 'acme', String(child.json['token']), '--json'])).json['depth'], 1);
});
