// Sessions: exec with streaming, stdin and usage; file operations that stay inside the workspace;
// tenants that can't see each other; destroy that leaves nothing.
import assert from 'node:assert/strict';
import { stat } from 'node:fs/promises';
import { test } from 'node:test';
import { AirlockError } from '../../src/core/errors.ts';
import { newId } from '../../src/core/ids.ts';
import { createContainerSandbox } from '../../src/container/index.ts';
import { compilePolicy } from '../../src/policy/compile.ts';
import { MemoryAuditSink } from '../../src/audit/memory-sink.ts';
import { assertNothingLeft, hostUidOf, py, sh, sandboxFixture } from './helpers.ts';

const state = sandboxFixture();

async function rejectsWith(p: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(p, (e: unknown) => e instanceof AirlockError && e.code === code);
}

test('a Python script works in its workspace: files in, output streamed, files out, usage', async () => {
  const { sbx, audit } = await state.box!.make();
  await sbx.writeFile('main.py', 'import sys\nname = sys.stdin.read()\nprint("hello", name)\nopen("out/result.txt", "w").write(name.upper())\n');
  await sbx.writeFile('out/.keep', '');
  const chunks: string[] = [];
  const r = await sbx.exec(['python3', 'main.py'], { stdin: 'world', onStdout: (c) => chunks.push(c) });
  assert.equal(r.status, 'ok', r.stderr);
  assert.equal(r.stdout, 'hello world\n');
  assert.equal(chunks.join(''), r.stdout);
  assert.equal(r.exitCode, 0);
  assert.ok(r.usage.memoryBytes > 0 && r.usage.wallMs > 0);
  assert.equal((await sbx.readFile('out/result.txt')).toString(), 'WORLD');
  const paths = (await sbx.listFiles()).map((e) => e.path).sort();
  assert.deepEqual(paths, ['main.py', 'out', 'out/.keep', 'out/result.txt']);
  const kinds = audit.events.map((e) => e.kind);
  assert.ok(kinds.includes('sandbox.created') && kinds.includes('run.started') && kinds.includes('run.ended'));
});

test('a failing command is a guest error with its exit code; a missing program runs nothing', async () => {
  const { sbx } = await state.box!.make();
  const r = await sh(sbx, 'echo oops >&2; exit 3');
  assert.equal(r.status, 'error');
  assert.equal(r.exitCode, 3);
  assert.equal(r.error?.code, 'GUEST_ERROR');
  assert.equal(r.stderr, 'oops\n');
  const missing = await sbx.exec(['python9', '-c', 'pass']);
  assert.equal(missing.status, 'invalid');
  assert.equal(missing.error?.code, 'COMMAND_NOT_FOUND');
  const control = await sbx.exec(['node', '-e', 'console.log(6 * 7)']);
  assert.equal(control.stdout, '42\n', control.stderr);
});

test('binary output comes back as text with replacement characters, not a crash', async () => {
  const { sbx } = await state.box!.make();
  const r = await py(sbx, 'import sys\nsys.stdout.buffer.write(bytes(range(256)))');
  assert.equal(r.status, 'ok');
  assert.ok(r.stdout.includes('\uFFFD'));
});

test('host file operations refuse "..", absolute paths and symlinks the sandbox planted', async () => {
  const { sbx } = await state.box!.make();
  await rejectsWith(sbx.writeFile('../escape.txt', 'x'), 'PATH_OUTSIDE_WORKSPACE');
  await rejectsWith(sbx.readFile('/etc/passwd'), 'PATH_OUTSIDE_WORKSPACE');
  await rejectsWith(sbx.readFile('a/../../../etc/passwd'), 'PATH_OUTSIDE_WORKSPACE');
  const planted = await sh(sbx, 'ln -s /etc evil && ln -s /etc/passwd link && ln -s /tmp tmplink && echo ok > real.txt');
  assert.equal(planted.status, 'ok', planted.stderr);
  const marker = `airlock-pwned-${newId('run')}`;
  await rejectsWith(sbx.writeFile(`tmplink/${marker}`, 'x'), 'PATH_OUTSIDE_WORKSPACE');
  await rejectsWith(sbx.writeFile('link', 'x'), 'PATH_OUTSIDE_WORKSPACE');
  await rejectsWith(sbx.readFile('evil/passwd'), 'PATH_OUTSIDE_WORKSPACE');
  await rejectsWith(sbx.readFile('link'), 'PATH_OUTSIDE_WORKSPACE');
  // The forbidden effect did not happen: nothing was written through the links on the host.
  await assert.rejects(stat(`/tmp/${marker}`));
  assert.match(await stat('/etc/passwd').then((s) => String(s.size)), /^\d+$/);
  // Control: the plain file is readable, and the links are listed, not followed.
  assert.equal((await sbx.readFile('real.txt')).toString(), 'ok\n');
  const types = Object.fromEntries((await sbx.listFiles()).map((e) => [e.path, e.type]));
  assert.deepEqual(types, { evil: 'symlink', link: 'symlink', tmplink: 'symlink', 'real.txt': 'file' });
});

/** Settles `p` or fails the test after `ms`: a host file operation must never hang. */
function bounded<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} still pending after ${ms} ms`)), ms);
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

test('what the sandbox leaves in its workspace (a FIFO, a directory, names too long, a deep tree) gets coded, recorded errors at once', async () => {
  const { sbx, audit } = await state.box!.make();
  // 400 levels of 10-byte names: deeper than PATH_MAX once under the host's workspace directory.
  // One `mkdir -p`, not 400 processes: made in well under the wall limit however loaded the machine.
  const planted = await sh(sbx, 'P=$(printf "nnnnnnnnn/%.0s" $(seq 400)); mkfifo fifo && mkdir dir && mkdir -p "$P" && echo ok > real.txt');
  assert.equal(planted.status, 'ok', planted.stderr);
  const refused = async (p: Promise<unknown>, what: string): Promise<AirlockError> => {
    const error = await bounded(p.then(() => null, (e: unknown) => e), 5000, what);
    assert.ok(error instanceof AirlockError && error.code === 'INVALID_REQUEST', `${what}: ${String(error)}`);
    assert.doesNotMatch(error.message, /\/run\/airlock|sandboxes\//, `${what} names a host path`);
    return error;
  };
  // A writer opening a FIFO with no reader would block (and hold one of libuv's four threads).
  await refused(sbx.writeFile('fifo', 'x'), 'writeFile on a FIFO');
  await refused(sbx.readFile('fifo'), 'readFile on a FIFO');
  await refused(sbx.writeFile('dir', 'x'), 'writeFile on a directory');
  await refused(sbx.writeFile('a'.repeat(300), 'x'), 'a 300-byte name');
  await refused(sbx.readFile('b'.repeat(300)), 'a 300-byte name to read');
  await refused(sbx.writeFile(`${'c/'.repeat(2500)}f`, 'x'), 'a 5000-byte path');
  const failures = audit.events.filter((e) => e.kind === 'decision' && e.door === 'file' && !e.allow);
  assert.equal(failures.length, 6, JSON.stringify(failures));
  // Nothing half-done: the refused long path made no directories on the way.
  const listed = await bounded(sbx.listFiles(), 5000, 'listFiles over a deep tree');
  assert.ok(!listed.some((e) => e.path === 'c'), 'a refused path left directories behind');
  // Control: the sandbox still works, and everything that can be named is listed.
  await bounded(sbx.writeFile('dir/new.txt', 'fine'), 5000, 'a plain write');
  assert.equal((await sbx.readFile('dir/new.txt')).toString(), 'fine');
  assert.equal((await sh(sbx, 'cat dir/new.txt')).stdout, 'fine');
  const types = new Map(listed.map((e) => [e.path, e.type]));
  assert.equal(types.get('fifo'), 'other');
  assert.equal(types.get('real.txt'), 'file');
  assert.ok(listed.filter((e) => e.path.startsWith('nnnnnnnnn')).length > 250, 'the deep tree is listed as far as a path can name');
});

test("two sandboxes run as different host uids and can't see each other's workspace", async () => {
  const a = await state.box!.make();
  const b = await state.box!.make();
  assert.notEqual(a.uid, b.uid);
  await a.sbx.writeFile('secret.txt', 'tenant A secret');
  const control = await sh(a.sbx, 'cat secret.txt');
  assert.equal(control.stdout, 'tenant A secret');
  const attack = await sh(b.sbx, `cat /run/airlock/sandboxes/${a.sbx.id}/workspace/secret.txt; find / -name secret.txt 2>/dev/null; grep -rs "tenant A" /workspace /tmp`);
  assert.ok(!attack.stdout.includes('tenant A secret'), attack.stdout);
  assert.equal((await b.sbx.listFiles()).length, 0);
});

test('files too large for the limits are refused with FILE_TOO_LARGE', async () => {
  const { sbx } = await state.box!.make({ limits: { fileBytes: 1024 * 1024, workspaceMiB: 2 } });
  await rejectsWith(sbx.writeFile('big.bin', new Uint8Array(1024 * 1024 + 1)), 'FILE_TOO_LARGE');
  await sbx.writeFile('a.bin', new Uint8Array(1000 * 1024));
  await sbx.writeFile('b.bin', new Uint8Array(1000 * 1024));
  await rejectsWith(sbx.writeFile('c.bin', new Uint8Array(1000 * 1024)), 'FILE_TOO_LARGE');
});

test('destroy leaves nothing, is idempotent, and a destroyed sandbox refuses work', async () => {
  const home = state.home!.home;
  const id = newId('sbx');
  const audit = new MemoryAuditSink();
  let uid = 0;
  {
    await using sbx = await createContainerSandbox({ tenant: 'test', sandboxId: id, policy: compilePolicy({ version: 1 }), audit, home });
    uid = await hostUidOf(sbx);
    await sbx.writeFile('x', 'y');
    const r = await sh(sbx, 'setsid sleep 60 & echo started');
    assert.equal(r.stdout, 'started\n');
  }
  await assertNothingLeft(id, uid);
  assert.equal(audit.events.at(-1)?.kind, 'sandbox.destroyed');
  const again = await createContainerSandbox({ tenant: 'test', sandboxId: newId('sbx'), policy: compilePolicy({ version: 1 }), audit, home });
  const againUid = await hostUidOf(again);
  await again.destroy();
  await again.destroy();
  await rejectsWith(again.exec(['true']), 'SANDBOX_CLOSED');
  await assertNothingLeft(again.id, againUid);
});

test('read-only host paths only where granted', async () => {
  const { sbx } = await state.box!.make({ files: [{ path: '/work/main/package.json', at: '/data/package.json' }] });
  const r = await sh(sbx, 'grep -c airlock /data/package.json; echo x >> /data/package.json; echo rc=$?');
  assert.match(r.stdout, /^[1-9]\d*\nrc=[1-9]/);
  const none = await state.box!.make();
  const control = await sh(none.sbx, 'cat /data/package.json /work/main/package.json');
  assert.match(control.stderr, /No such file/);
  await rejectsWith(state.box!.make({ files: [{ path: '/nonexistent-airlock' }] }), 'INVALID_POLICY');
  await rejectsWith(state.box!.make({ files: [{ path: '/usr/share', at: '/workspace/share' }] }), 'INVALID_POLICY');
});

test('the environment is exactly what the policy sets, besides what points TLS clients at the CA bundle; the policy may override those too', async () => {
  const { sbx } = await state.box!.make({ env: { GREETING: 'hi' } });
  const r = await sh(sbx, 'env | sort');
  const ca = '/etc/ssl/certs/ca-certificates.crt';
  assert.equal(r.stdout, `GREETING=hi\nHOME=/workspace\nLANG=C.UTF-8\nNODE_OPTIONS=--use-openssl-ca\nPATH=/usr/local/bin:/usr/bin:/bin\nPIP_CERT=${ca}\nPWD=/workspace\nREQUESTS_CA_BUNDLE=${ca}\nSSL_CERT_FILE=${ca}\nTMPDIR=/tmp\n`);
  const own = await state.box!.make({ env: { NODE_OPTIONS: '--max-old-space-size=64' } });
  assert.match((await sh(own.sbx, 'env')).stdout, /^NODE_OPTIONS=--max-old-space-size=64$/m);
});

test('exec options are checked whole: an unknown or ill-typed option is INVALID_REQUEST naming it, and nothing ran or was recorded (control: the same exec with good options runs)', async () => {
  const { sbx, audit } = await state.box!.make();
  const marker = 'touch ran-anyway';
  const bad: [Record<string, unknown>, RegExp][] = [
    [{ timeout: 50 }, /timeout/],
    [{ runId: 'run_1' }, /runId/],
    [{ timeoutMs: Number.NaN }, /timeoutMs/],
    [{ timeoutMs: -1 }, /timeoutMs/],
    [{ timeoutMs: '100' }, /timeoutMs/],
    [{ stdin: 42 }, /stdin/],
    [{ onStdout: 'print' }, /onStdout/],
  ];
  for (const [options, names] of bad) {
    const before = audit.events.length;
    await assert.rejects(sh(sbx, marker).then(() => sbx.exec(['sh', '-c', marker], options as never)), (e: unknown) => e instanceof AirlockError && e.code === 'INVALID_REQUEST' && names.test(e.message) && /Allowed: stdin/.test(e.message), JSON.stringify(options));
    // The first exec above is the control (it runs and is recorded); the refused one adds nothing.
    assert.equal(audit.events.filter((e) => e.kind === 'run.started').length, audit.events.slice(0, before).filter((e) => e.kind === 'run.started').length + 1, JSON.stringify(options));
  }
  assert.ok((await sbx.listFiles()).some((f) => f.path === 'ran-anyway'), 'control: the good exec ran');
  const good = await sbx.exec(['sh', '-c', 'cat'], { stdin: new TextEncoder().encode('bytes in'), timeoutMs: 5000 });
  assert.equal(good.stdout, 'bytes in', 'control: stdin as bytes and a timeoutMs are taken');
});
