// A one-shot isolate run loads only what it uses: not the other commands, the HTTP server, the MCP
// code, the egress gateway (node:http) or the container tier. Code that fetches over a granted
// route loads the gateway at its first fetch (control: the check sees modules that are loaded).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

const ROOT = join(import.meta.dirname, '..', '..');
const dir = mkdtempSync(join(tmpdir(), 'airlock-lazy-'));

/** The modules one `airlock run` resolved, from the sources. */
function loadedBy(args: readonly string[]): string[] {
  const log = join(dir, `modules-${String(Math.random()).slice(2)}.log`);
  const r = spawnSync(process.execPath, ['--import', join(ROOT, 'test', 'fixtures', 'log-modules.ts'), join(ROOT, 'src', 'cli', 'main.ts'), 'run', '--json', ...args], {
    encoding: 'utf8',
    env: { ...process.env, AIRLOCK_HOME: join(dir, 'home'), AIRLOCK_TEST_MODULE_LOG: log },
    timeout: 60_000,
  });
  assert.equal((JSON.parse(r.stdout) as { status: string }).status, 'ok', r.stderr);
  return readFileSync(log, 'utf8').split('\n');
}

test('an isolate run does not load the server, MCP, egress gateway or container code; a fetch over a route loads the gateway', () => {
  const file = join(dir, 'f.js');
  writeFileSync(file, 'export default 1');
  const plain = loadedBy([file]);
  assert.ok(plain.some((u) => u.endsWith('/src/runtime/airlock.ts')), 'control: the runtime was loaded and seen');
  const unused = [/\/src\/server\//, /\/src\/mcp\//, /\/src\/container\/launch\.ts$/, /\/src\/container\/pool\.ts$/, /\/src\/egress\/gateway\.ts$/, /^node:http$/, /\/src\/cli\/(serve|gateway|demo|warrant|audit)\.ts$/];
  for (const pattern of unused) assert.deepEqual(plain.filter((u) => pattern.test(u)), [], String(pattern));
  const fetching = join(dir, 'fetch.js');
  writeFileSync(fetching, "await fetch('http://127.0.0.1:9/').catch(() => 0); export default 1");
  const routed = loadedBy(['--allow-net', '127.0.0.1:9', fetching]);
  assert.ok(routed.some((u) => u.endsWith('/src/egress/gateway.ts')));
  assert.ok(routed.includes('node:http'));
});
