// `invalid` means refused before anything ran; a SyntaxError the guest raises while it runs is its
// own error. And neither the CLI nor the library prints runtime warnings on stderr.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { testAirlock } from '../support/airlock.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const MAIN = join(ROOT, 'src', 'cli', 'main.ts');

test('a SyntaxError raised while the guest runs is error/GUEST_ERROR (control: a syntax error in the code is invalid/SYNTAX_ERROR, and nothing ran)', async () => {
  await using airlock = testAirlock();
  const runtime = [
    `console.log('ran'); async function f() { eval('1 = 1'); } f(); export default 1`,
    `console.log('ran'); async function f() { eval('1 = 1'); } void f(); await 0; export default 2`,
    `console.log('ran'); export default new Function('1 = ')`,
  ];
  for (const code of runtime) {
    const r = await airlock.run({ tenant: 'status', code });
    assert.equal(r.stdout, 'ran\n', `the guest ran before it threw: ${JSON.stringify(r)}`);
    assert.equal(r.status, 'error', JSON.stringify(r));
    assert.equal(r.error?.code, 'GUEST_ERROR');
    assert.match(r.error.message, /SyntaxError/);
  }
  const refused = await airlock.run({ tenant: 'status', code: `console.log('ran');\nconst = 1;` });
  assert.equal(refused.status, 'invalid');
  assert.equal(refused.error?.code, 'SYNTAX_ERROR');
  assert.equal(refused.stdout, '', 'refused before running: nothing printed');
});

function run(argv: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; out: string; err: string }> {
  const child = spawn(argv[0] ?? 'node', argv.slice(1), { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 });
  let out = '';
  let err = '';
  child.stdout.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr.on('data', (b: Buffer) => (err += b.toString()));
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, out, err })));
}

test('airlock run prints nothing on stderr for a clean run of each language (control: a failing run does print there)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'airlock-quiet-'));
  const env = { ...process.env, AIRLOCK_HOME: join(dir, 'home') };
  writeFileSync(join(dir, 'a.ts'), 'const n: number = 6 * 7;\nexport default n;\n');
  writeFileSync(join(dir, 'a.mjs'), 'export default 1;\n');
  writeFileSync(join(dir, 'a.py'), 'print(1)\n');
  for (const file of ['a.ts', 'a.mjs', 'a.py']) {
    for (const json of [['--json'], []]) {
      const r = await run([process.execPath, MAIN, 'run', ...json, join(dir, file)], env);
      assert.equal(r.code, 0, `${file}: ${r.out}${r.err}`);
      // Human output ends with one status line on stderr; nothing else may be there.
      const expected = json.length > 0 ? '' : r.err.replace(/^airlock: ok \([^)]*\)\n$/, '');
      assert.equal(expected, '', `${file} ${json.join('')}: stderr holds ${JSON.stringify(r.err)}`);
    }
  }
  writeFileSync(join(dir, 'bad.ts'), 'throw new Error("boom");\n');
  const failed = await run([process.execPath, MAIN, 'run', join(dir, 'bad.ts')], env);
  assert.equal(failed.code, 1);
  assert.match(failed.err, /GUEST_ERROR/, 'control: stderr is captured');
});

test('the library prints no runtime warning either (TypeScript is stripped without an ExperimentalWarning)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'airlock-quiet-lib-'));
  const script = join(dir, 'use.ts');
  writeFileSync(script, [
    `import { createAirlock } from ${JSON.stringify(join(ROOT, 'src', 'index.ts'))};`,
    `await using airlock = createAirlock({ home: ${JSON.stringify(join(dir, 'home'))} });`,
    `const r = await airlock.run({ language: 'ts', code: 'const n: number = 2; export default n' });`,
    `process.stdout.write(JSON.stringify(r.result));`,
    // Control: a warning this process raises itself still reaches stderr (nothing was silenced).
    `if (process.argv[2] === 'control') process.emitWarning('a warning of our own', 'ExperimentalWarning');`,
  ].join('\n'));
  const r = await run([process.execPath, script], process.env);
  assert.equal(r.out, '2');
  assert.equal(r.err, '');
  const control = await run([process.execPath, script, 'control'], process.env);
  assert.equal(control.out, '2');
  assert.match(control.err, /ExperimentalWarning: a warning of our own/);
});
