// A checkout in a private directory: the worker's files are mirrored where its unprivileged uid
// can bind them; a public checkout is bound in place. The private directory itself stays private.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, statSync, writeFileSync, mkdirSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { mirrored, reachableByOthers, VIEWS_DIR } from '../../src/isolate/view-mirror.ts';

test('files under a 0700 directory are mirrored, readable by others; public ones are used in place', () => {
  const secret = mkdtempSync(join(tmpdir(), 'airlock-private-'));
  chmodSync(secret, 0o700);
  mkdirSync(join(secret, 'lib'));
  writeFileSync(join(secret, 'lib', 'a.ts'), `export const a = ${Date.now()};`);
  const pub = join(import.meta.dirname, 'view-mirror.test.ts');
  assert.equal(reachableByOthers(join(secret, 'lib', 'a.ts')), false, 'control: the file is out of reach');
  assert.equal(reachableByOthers(pub), reachableByOthers(import.meta.dirname + '/x'));
  const from = mirrored([join(secret, 'lib'), pub]);
  const copy = from.get(join(secret, 'lib'))!;
  assert.ok(copy.startsWith(`${VIEWS_DIR}/`), copy);
  assert.equal(reachableByOthers(join(copy, 'a.ts')), true);
  assert.equal(readFileSync(join(copy, 'a.ts'), 'utf8'), readFileSync(join(secret, 'lib', 'a.ts'), 'utf8'));
  if (reachableByOthers(pub)) assert.equal(from.get(pub), pub);
  assert.equal(statSync(secret).mode & 0o777, 0o700, 'the private directory was not widened');
});
