// A host that was handed inheritable fds by its parent must not pass them into any sandbox: the
// launchers close them before exec (src/os/fds.ts, joinAndExec).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

test('fds (one-digit and not) a careless parent leaked to the host reach neither an isolate worker nor a container', async () => {
  const file = openSync('/etc/hostname', 'r');
  const stdio: ('ignore' | 'pipe' | 'inherit' | number)[] = ['ignore', 'pipe', 'inherit'];
  for (let i = 3; i <= 40; i++) stdio.push(i === 7 || i === 40 ? file : 'ignore');
  const child = spawn(process.execPath, [join(import.meta.dirname, '..', 'fixtures', 'leaky-host.ts'), mkdtempSync(join(tmpdir(), 'airlock-leaky-'))], { stdio });
  closeSync(file);
  let out = '';
  child.stdout?.on('data', (b: Buffer) => (out += b.toString()));
  const code = await new Promise((r) => child.on('exit', r));
  assert.equal(code, 0, out);
  const seen = JSON.parse(out) as { host: string[]; worker: string[]; container: string[] };
  const leaked = (fds: string[]): string[] => fds.filter((t) => t.includes('/etc/hostname'));
  assert.equal(leaked(seen.host).length, 2, 'control: the host did inherit the file twice (fds 7 and 40)');
  assert.deepEqual(leaked(seen.worker), [], `worker fds: ${seen.worker.join(' ')}`);
  assert.deepEqual(leaked(seen.container), [], `container fds: ${seen.container.join(' ')}`);
  assert.ok(seen.worker.length > 3 && seen.container.length >= 3, 'control: the fd lists were read');
});
