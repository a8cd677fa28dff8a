// network.ca: CA certificates a policy names are checked at compile time (paths when the sandbox
// is made: test/container/workbench.test.ts); anything but certificates is refused with its path.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { AirlockError } from '../../src/core/errors.ts';
import { pemCertificates } from '../../src/policy/ca.ts';
import { compilePolicy } from '../../src/policy/compile.ts';

const dir = mkdtempSync(join(tmpdir(), 'airlock-ca-'));
const made = spawnSync('/usr/bin/openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', `${dir}/k.pem`, '-out', `${dir}/c.pem`, '-days', '1', '-subj', '/CN=airlock ca test'], { encoding: 'utf8' });
assert.equal(made.status, 0, made.stderr);
const CERT = readFileSync(`${dir}/c.pem`, 'utf8');
const KEY = readFileSync(`${dir}/k.pem`, 'utf8');
rmSync(dir, { recursive: true, force: true });

function problems(ca: unknown): { path: string; message: string }[] {
  try {
    compilePolicy({ version: 1, network: { routes: [], ca } });
  } catch (error) {
    assert.ok(error instanceof AirlockError && error.code === 'INVALID_POLICY', String(error));
    return error.details?.['problems'] as { path: string; message: string }[];
  }
  return [];
}

test('a policy may name CA certificates inline or by absolute path', () => {
  assert.deepEqual(problems([CERT]), []);
  assert.deepEqual(problems([`# a comment\n${CERT}\n${CERT}`, '/etc/airlock/mirror-ca.pem']), []);
  assert.equal((pemCertificates(`${CERT}${CERT}`) as string[]).length, 2);
});

test('a private key, another PEM block, no certificate, a bad certificate or an odd path is refused with its path', () => {
  const got = problems([`${CERT}${KEY}`, KEY, 'hello', CERT.split('\n').filter((_, i) => i !== 2).join('\n'), '/etc/../shadow', '-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n']);
  assert.deepEqual(got.map((p) => p.path), ['network.ca.0', 'network.ca.1', 'network.ca.2', 'network.ca.3', 'network.ca.4', 'network.ca.5']);
  assert.match(got[0]?.message ?? '', /private key/);
  assert.match(got[1]?.message ?? '', /private key/);
  assert.match(got[2]?.message ?? '', /no PEM certificate/);
  assert.match(got[3]?.message ?? '', /not a valid X\.509 certificate/);
  assert.match(got[4]?.message ?? '', /normalised/);
  assert.match(got[5]?.message ?? '', /"PUBLIC KEY" block/);
  assert.deepEqual(problems([]).map((p) => p.path), ['network.ca']);
});
