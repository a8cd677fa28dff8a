// Limits: memory (swap off), pids, CPU, wall time, open files, file size, workspace size, output.
// Each hostile run sits beside a control, ends with its status, and leaves the host untouched.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { processesOf, py, sh, sandboxFixture } from './helpers.ts';

const state = sandboxFixture();

test('a memory bomb is OOM-killed (status memory); a small allocation works', async () => {
  const { sbx } = await state.box!.make({ limits: { memoryMiB: 48 } });
  const control = await py(sbx, 'x = bytearray(8 << 20); print(len(x))');
  assert.equal(control.stdout, `${8 << 20}\n`, control.stderr);
  const bomb = await py(sbx, 'x = []\nwhile True: x.append(bytearray(4 << 20))');
  assert.equal(bomb.status, 'memory');
  assert.equal(bomb.error?.code, 'MEMORY_LIMIT');
  assert.ok(bomb.usage.memoryBytes <= 48 * 1024 * 1024 + (1 << 20), String(bomb.usage.memoryBytes));
});

test('a fork bomb is bounded by pids and stopped; the sandbox still works afterwards', async () => {
  const { sbx, uid } = await state.box!.make({ limits: { pids: 32, wallMs: 3000 } });
  const bomb = await sh(sbx, 'b() { b | b & }; b; sleep 5', 1500);
  assert.ok(['timeout', 'error'].includes(bomb.status), bomb.status);
  assert.deepEqual(await processesOf(uid), []);
  const control = await sh(sbx, 'echo alive');
  assert.equal(control.stdout, 'alive\n');
});

test('the wall timeout kills the whole tree, double-forked and setsid children included', async () => {
  const { sbx, uid } = await state.box!.make();
  const r = await sh(sbx, '(sleep 60 &) ; setsid sh -c "sleep 60" & nohup sleep 60 >/dev/null 2>&1 & sleep 60', 300);
  assert.equal(r.status, 'timeout');
  assert.equal(r.error?.code, 'WALL_TIMEOUT');
  assert.deepEqual(await processesOf(uid), []);
  // A daemon left by a command that exits at once is gone too.
  const d = await sh(sbx, 'setsid sleep 60 & (sleep 60 &) ; echo done');
  assert.equal(d.status, 'ok');
  assert.deepEqual(await processesOf(uid), []);
});

test('CPU time is limited (CPU_TIMEOUT) while an idle run of the same length is not', async () => {
  const { sbx } = await state.box!.make({ limits: { cpuMs: 300, wallMs: 4000 } });
  const control = await sh(sbx, 'sleep 0.4; echo slept');
  assert.equal(control.status, 'ok');
  const spin = await py(sbx, 'while True: pass');
  assert.equal(spin.status, 'timeout');
  assert.equal(spin.error?.code, 'CPU_TIMEOUT');
});

test('open files are limited (EMFILE); a few files open fine', async () => {
  const { sbx } = await state.box!.make({ limits: { openFiles: 32 } });
  const r = await py(sbx, 'fs = []\ntry:\n    while len(fs) < 1000: fs.append(open("/dev/null"))\nexcept OSError as e:\n    print("stopped", e.errno, len(fs))');
  const m = /^stopped 24 (\d+)$/.exec(r.stdout.trim());
  assert.ok(m !== null, r.stdout + r.stderr);
  assert.ok(Number(m[1]) < 32 && Number(m[1]) > 5);
});

test('one file is limited in size (SIGXFSZ); a smaller file is written', async () => {
  const { sbx } = await state.box!.make({ limits: { fileBytes: 1024 * 1024 } });
  const control = await sh(sbx, 'head -c 500000 /dev/zero > small && wc -c < small');
  assert.equal(control.stdout.trim(), '500000');
  const big = await sh(sbx, 'head -c 3000000 /dev/zero > big; echo rc=$?; wc -c < big');
  assert.match(big.stdout, /rc=[1-9]/);
  assert.ok(Number(big.stdout.trim().split('\n').at(-1)) <= 1024 * 1024);
});

test('a disk filler stops at the workspace size; the host disk is untouched', async () => {
  const { sbx } = await state.box!.make({ limits: { workspaceMiB: 4, memoryMiB: 64 } });
  const r = await sh(sbx, 'head -c 8000000 /dev/zero > fill; echo rc=$?; df -k /workspace | tail -1');
  assert.match(r.stdout, /rc=[1-9]/);
  assert.match(r.stderr, /No space left/);
  const files = await sbx.listFiles();
  assert.ok((files[0]?.size ?? 0) <= 4 * 1024 * 1024);
});

test('output beyond outputBytes is cut and the run killed; output under it is whole, and so is the next exec', async () => {
  const { sbx } = await state.box!.make({ limits: { outputBytes: 1000 } });
  const control = await sh(sbx, 'head -c 900 /dev/zero | tr "\\0" a');
  assert.equal(control.stdout.length, 900);
  const r = await sh(sbx, 'yes');
  assert.equal(r.status, 'killed');
  assert.equal(r.error?.code, 'OUTPUT_LIMIT');
  assert.ok(r.stdout.length <= 1000);
  // The stop's cgroup backstop fired 200 ms later, whatever ran by then: it killed the next exec.
  const next = await sh(sbx, 'sleep 0.4; echo after');
  assert.deepEqual([next.status, next.stdout], ['ok', 'after\n'], next.stderr);
});

// Loopback sockets whose buffers are never read: on cgroup v1 their memory was charged to no cgroup,
// so a 48 MiB sandbox could pin gigabytes of the host's shared tcp_mem (the guest stops at 256 MiB).
const TCP_FILL = `
import socket, time
l = socket.socket(); l.bind(('127.0.0.1', 0)); l.listen(512)
held, total, deadline = [l], 0, time.time() + 5
try:
    while total < (256 << 20) and time.time() < deadline:
        a = socket.create_connection(l.getsockname()); b, _ = l.accept()
        b.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 25)
        a.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 22); a.setblocking(False)
        held += [a, b]
        while True:
            try: total += a.send(b'x' * 65536)
            except BlockingIOError: break
except OSError: pass
print(total >> 20)
`;

const TCP_TRANSFER = `
import socket, threading
l = socket.socket(); l.bind(('127.0.0.1', 0)); l.listen(1)
c = socket.create_connection(l.getsockname()); s, _ = l.accept()
t = threading.Thread(target=lambda: c.sendall(b'y' * (8 << 20))); t.start()
got = 0
while got < (8 << 20): got += len(s.recv(1 << 20))
t.join(); print(got)
`;

test('socket buffers count against the memory limit; a loopback transfer inside it works', async () => {
  const { sbx } = await state.box!.make({ limits: { memoryMiB: 48, wallMs: 15_000 } });
  const control = await py(sbx, TCP_TRANSFER);
  assert.equal(control.stdout.trim(), String(8 << 20), control.stderr);
  const r = await py(sbx, TCP_FILL);
  const queuedMiB = Number(r.stdout.trim());
  // The sandbox's own sockets stall at its limit (or it is OOM-killed); the host's pool is untouched.
  // The fill did run: it queued megabytes before the limit stopped it (262 MiB before the fix).
  if (r.status === 'ok') assert.ok(queuedMiB >= 8 && queuedMiB <= 2 * 48, `queued ${queuedMiB} MiB in unread socket buffers`);
  else assert.equal(r.status, 'memory', `${r.status} ${r.stderr}`);
});

test('/dev/shm is capped like /tmp (it was a tmpfs of no size under bwrap); a small file there works', async () => {
  const { sbx } = await state.box!.make({ limits: { memoryMiB: 256 } });
  const control = await sh(sbx, 'head -c 1000000 /dev/zero > /dev/shm/small && wc -c < /dev/shm/small');
  assert.equal(control.stdout.trim(), '1000000', control.stderr);
  // Files of 4 MB each (under limits.fileBytes), 64 MB in all: only the mount's own size stops them.
  const r = await sh(sbx, 'for i in $(seq 16); do head -c 4000000 /dev/zero > /dev/shm/f$i || break; done; du -sk /dev/shm | cut -f1');
  assert.ok(Number(r.stdout.trim()) <= 16 * 1024 + 64, `${r.stdout} ${r.stderr}`);
  assert.match(r.stderr, /No space left/);
});
