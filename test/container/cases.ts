// Hostile cases as data (STYLE.md §13): each is an attack beside a control that uses the same
// mechanism the allowed way, so a case can't pass because the mechanism never worked. `host` sets
// up what the attack aims at (a canary file, a listening socket) and reports whether it was reached.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:net';
import { readFile, realpath, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { ExecResult } from '../../src/container/index.ts';

export interface Probe {
  readonly lang: 'py' | 'sh';
  readonly code: string;
}

export interface HostHook {
  /** Placeholders ({{CANARY}}, {{PORT}}, …) substituted into the probes. */
  readonly vars: Readonly<Record<string, string>>;
  /** Asserts the host saw nothing of the attack; then removes what it made. */
  readonly finish: () => Promise<void>;
}

export interface HostileCase {
  readonly name: string;
  readonly host?: () => Promise<HostHook>;
  readonly attack: Probe;
  readonly attackDenied: (r: ExecResult) => void;
  readonly control: Probe;
  readonly controlWorks: (r: ExecResult) => void;
}

/** Python that calls a raw syscall and prints "rc errno". */
const syscall = (nr: number, args = '0, 0, 0, 0') =>
  `import ctypes\nlibc = ctypes.CDLL(None, use_errno=True)\nrc = libc.syscall(${nr}, ${args})\nprint(rc, ctypes.get_errno())`;

const refusedSyscall = (r: ExecResult) => {
  const [rc] = r.stdout.trim().split(' ');
  assert.equal(rc, '-1', `syscall should fail: ${r.stdout} ${r.stderr}`);
};

const okExit = (r: ExecResult) => assert.equal(r.status, 'ok', `${r.stdout}\n${r.stderr}`);

/**
 * Python that reads each named kernel information file (and every top-level /proc entry outside
 * the kept few) and prints those that gave bytes or listed entries. Absent or unreadable is fine.
 */
const KERNEL_INFO_PROBE = `import os
named = """/proc/acpi /proc/asound /proc/interrupts /proc/kcore /proc/keys /proc/latency_stats
/proc/sched_debug /proc/scsi /proc/timer_list /proc/timer_stats /sys/firmware /sys/devices/virtual/powercap
/sys/devices/system/cpu/cpu0/thermal_throttle /proc/bus /proc/fs /proc/irq /proc/sysrq-trigger
/proc/iomem /proc/ioports /proc/config.gz /proc/kallsyms /proc/modules /proc/kmsg /proc/buddyinfo
/proc/slabinfo /proc/vmallocinfo /proc/pagetypeinfo /proc/zoneinfo /proc/kpagecount /proc/kpageflags
/proc/kpagecgroup /proc/softirqs /proc/cmdline /proc/key-users /proc/mtrr /proc/dma /proc/diskstats
/proc/partitions /proc/swaps /proc/locks /proc/driver /proc/pressure /proc/program_cpu /sys/kernel /sys/class""".split()
kept = set("self thread-self mounts net cpuinfo meminfo stat loadavg uptime vmstat version sys sysvipc tty filesystems cgroups crypto devices misc consoles execdomains".split())
every = ["/proc/" + n for n in os.listdir("/proc") if not n.isdigit() and n not in kept]
exposed = []
for p in sorted(set(named + every)):
    try:
        if os.path.isdir(p):
            if os.listdir(p): exposed.append(p)
        else:
            with open(p, "rb") as f:
                if f.read(4096): exposed.append(p)
    except OSError:
        pass
print("checked", len(set(named + every)))
print("exposed", exposed)`;

async function tcpServer(host: string): Promise<{ server: Server; port: number; seen: () => number }> {
  let count = 0;
  const server = createServer((s) => {
    count++;
    s.destroy();
  });
  await new Promise<void>((res) => server.listen(0, host, res));
  const address = server.address();
  assert.ok(address !== null && typeof address === 'object');
  return { server, port: address.port, seen: () => count };
}

/** Cache flushes the disk under `path` has completed (field 16 of its whole disk's block stat). */
async function diskFlushes(path: string): Promise<number> {
  const { dev } = await stat(path);
  const sys = await realpath(`/sys/dev/block/${Math.floor(dev / 256) & 0xfff}:${(dev & 0xff) | ((dev >> 12) & 0xfff00)}`);
  const disk = await stat(join(sys, 'partition')).then(() => dirname(sys), () => sys);
  const field = (await readFile(join(disk, 'stat'), 'utf8')).trim().split(/\s+/)[15];
  assert.ok(field !== undefined, `${disk}/stat has no flush count (Linux 5.5+)`);
  return Number(field);
}

/** Per attack: this many rounds of sync, syncfs, fsync, fdatasync and msync(MS_SYNC). */
const FLUSH_ROUNDS = 3000;

export const HOSTILE_CASES: readonly HostileCase[] = [
  {
    // Each of these sent the host's disk a cache flush, and every tenant's fsync queued behind them.
    name: "sync, fsync and kin can't flush the host disk's cache; the workspace's files still work",
    host: async () => {
      // The count is live: the host's own sync(1) calls move it (each flushes every disk).
      const before = await diskFlushes('/usr');
      for (let i = 0; i < 5; i++) assert.equal(spawnSync('sync').status, 0, 'sync(1) ran on the host');
      const start = await diskFlushes('/usr');
      assert.ok(start - before >= 5, `the host's 5 syncs moved the flush count by ${start - before}`);
      return {
        vars: { ROUNDS: String(FLUSH_ROUNDS) },
        finish: async () => {
          // Two attacks ran: 2 × 5 × FLUSH_ROUNDS calls, each a flush before. A quarter of that
          // leaves room for what the rest of the machine flushed meanwhile.
          const flushes = (await diskFlushes('/usr')) - start;
          assert.ok(flushes < (2 * 5 * FLUSH_ROUNDS) / 4, `the disk flushed ${flushes} times while the sandboxes made up to ${2 * 5 * FLUSH_ROUNDS} flushing calls`);
        },
      };
    },
    attack: {
      lang: 'py',
      code: 'import ctypes, mmap, os, sys\nlibc = ctypes.CDLL(None, use_errno=True)\nfd = os.open(sys.executable, os.O_RDONLY)\nm = mmap.mmap(fd, 4096, mmap.MAP_SHARED, mmap.PROT_READ)\nrcs = set()\nfor _ in range({{ROUNDS}}):\n    os.sync()\n    rcs.add(libc.syncfs(fd))\n    os.fsync(fd)\n    os.fdatasync(fd)\n    m.flush()\nprint(sorted(rcs))',
    },
    attackDenied: (r) => assert.equal(r.stdout.trim(), '[0]', `${r.status} ${r.stderr}`),
    control: { lang: 'py', code: 'import os\nfd = os.open("f", os.O_RDWR | os.O_CREAT)\nos.write(fd, b"kept")\nos.fsync(fd)\nos.close(fd)\nprint(open("f").read())' },
    controlWorks: (r) => assert.equal(r.stdout, 'kept\n', r.stderr),
  },
  {
    name: '/proc/1/environ holds nothing of the host',
    host: () => {
      process.env['AIRLOCK_CANARY'] = `canary-${randomUUID()}`;
      return Promise.resolve({ vars: { CANARY: process.env['AIRLOCK_CANARY'] }, finish: () => Promise.resolve() });
    },
    attack: { lang: 'sh', code: 'cat /proc/1/environ /proc/*/environ 2>/dev/null | tr "\\0" "\\n"; env' },
    attackDenied: (r) => assert.ok(!r.stdout.includes('canary-') && !r.stdout.includes('AIRLOCK_CANARY'), r.stdout),
    control: { lang: 'sh', code: 'tr "\\0" "\\n" < /proc/self/environ' },
    controlWorks: (r) => assert.match(r.stdout, /^HOME=\/workspace$/m),
  },
  {
    name: '/etc/shadow is absent; /etc is synthetic',
    attack: { lang: 'sh', code: 'cat /etc/shadow; cat /etc/machine-id; grep -c . /etc/hosts; grep root /etc/passwd' },
    attackDenied: (r) => {
      assert.match(r.stderr, /\/etc\/shadow: No such file/);
      assert.match(r.stderr, /\/etc\/machine-id: No such file/);
      // The host's passwd gives root the home /root; the synthetic one does not.
      assert.ok(!r.stdout.includes(':/root:'), r.stdout);
    },
    control: { lang: 'sh', code: 'grep sandbox /etc/passwd' },
    controlWorks: (r) => assert.match(r.stdout, /^sandbox:x:1000:1000/m),
  },
  {
    // The kernel information files OCI runtimes mask (runc/moby's maskedPaths and readonlyPaths),
    // more that leak the host here, and — the class — every top-level /proc entry but the few kept.
    name: "procfs and sysfs show nothing of the host's hardware, kernel, disks or other tenants",
    attack: { lang: 'py', code: KERNEL_INFO_PROBE },
    attackDenied: (r) => {
      assert.equal(r.status, 'ok', r.stderr);
      assert.match(r.stdout, /^checked \d+/m, r.stdout);
      assert.match(r.stdout, /^exposed \[\]$/m, r.stdout);
    },
    control: { lang: 'py', code: 'print(open("/proc/self/status").read().count("Uid:"), len(open("/proc/cpuinfo").read()) > 0, len(open("/proc/meminfo").read()) > 0)' },
    controlWorks: (r) => assert.equal(r.stdout, '1 True True\n', r.stderr),
  },
  {
    name: "the host's home is not there",
    host: async () => {
      const file = `/root/.airlock-canary-${randomUUID()}`;
      await writeFile(file, 'host secret');
      return { vars: { FILE: file }, finish: () => rm(file, { force: true }) };
    },
    attack: { lang: 'sh', code: 'cat {{FILE}}; ls /root /home; ls -a / ' },
    attackDenied: (r) => {
      assert.ok(!r.stdout.includes('host secret'));
      assert.match(r.stderr, /\/root.*No such file/);
      assert.ok(!/^(home|root|sys|run)$/m.test(r.stdout), r.stdout);
    },
    control: { lang: 'sh', code: 'echo mine > own && cat own' },
    controlWorks: (r) => assert.equal(r.stdout, 'mine\n'),
  },
  {
    name: '.. and absolute paths inside the sandbox reach only its own view',
    attack: { lang: 'sh', code: 'cat ../../../../etc/shadow; ls ../../../run ../../../sys 2>&1; cat /proc/1/root/etc/shadow' },
    attackDenied: (r) => assert.ok(!/root:/.test(r.stdout), r.stdout),
    control: { lang: 'sh', code: 'cd .. && ls' },
    controlWorks: (r) => assert.match(r.stdout, /^workspace$/m),
  },
  {
    name: 'a hardlink to a system file is refused (the workspace is its own file system)',
    attack: { lang: 'sh', code: 'ln /usr/bin/python3 hl; ln /etc/passwd hl2; ls' },
    attackDenied: (r) => {
      assert.match(r.stderr, /Invalid cross-device link|Operation not permitted|Read-only/);
      assert.ok(!/^hl/m.test(r.stdout), r.stdout);
    },
    control: { lang: 'sh', code: 'echo a > f && ln f g && cat g' },
    controlWorks: (r) => assert.equal(r.stdout, 'a\n'),
  },
  {
    name: 'mount is refused',
    attack: { lang: 'sh', code: 'mount -t tmpfs none /tmp; echo rc=$?; ' },
    attackDenied: (r) => assert.match(r.stdout, /rc=[1-9]/),
    control: { lang: 'sh', code: 'grep -c " /workspace " /proc/self/mounts' },
    controlWorks: (r) => assert.equal(r.stdout.trim(), '1'),
  },
  {
    name: 'ptrace is refused',
    attack: { lang: 'py', code: syscall(101, '16, 1, 0, 0') }, // PTRACE_ATTACH to pid 1
    attackDenied: refusedSyscall,
    control: { lang: 'py', code: syscall(39) }, // getpid
    controlWorks: (r) => assert.ok(Number(r.stdout.split(' ')[0]) > 0, r.stdout),
  },
  {
    name: 'unshare (new namespaces) is refused',
    attack: { lang: 'sh', code: 'unshare -U true; echo u=$?; unshare -n true; echo n=$?; unshare -m true; echo m=$?' },
    attackDenied: (r) => assert.match(r.stdout, /u=[1-9][0-9]*\nn=[1-9][0-9]*\nm=[1-9]/),
    control: { lang: 'sh', code: 'true; echo t=$?' },
    controlWorks: (r) => assert.equal(r.stdout, 't=0\n'),
  },
  { name: 'keyctl is refused', attack: { lang: 'py', code: syscall(250, '0, 0, 0, 0') }, attackDenied: refusedSyscall, control: { lang: 'py', code: syscall(39) }, controlWorks: okExit },
  { name: 'add_key is refused', attack: { lang: 'py', code: syscall(248, 'b"user", b"k", b"v", 1, -4') }, attackDenied: refusedSyscall, control: { lang: 'py', code: syscall(39) }, controlWorks: okExit },
  { name: 'bpf is refused', attack: { lang: 'py', code: syscall(321, '0, 0, 0, 0') }, attackDenied: refusedSyscall, control: { lang: 'py', code: syscall(39) }, controlWorks: okExit },
  { name: 'perf_event_open is refused', attack: { lang: 'py', code: syscall(298, '0, 0, -1, -1, 0') }, attackDenied: refusedSyscall, control: { lang: 'py', code: syscall(39) }, controlWorks: okExit },
  { name: 'io_uring_setup is refused', attack: { lang: 'py', code: syscall(425, '8, 0') }, attackDenied: refusedSyscall, control: { lang: 'py', code: syscall(39) }, controlWorks: okExit },
  {
    // Kernel AIO contexts come from one host-wide pool: taking it all failed every other tenant's io_setup.
    name: "io_setup can't drain the host-wide AIO pool; plain file I/O works",
    attack: {
      lang: 'py',
      code: 'import ctypes\nlibc = ctypes.CDLL(None, use_errno=True)\nnr = lambda: int(open("/proc/sys/fs/aio-nr").read())\nbefore = nr()\nctx = ctypes.c_ulong(0)\nrcs = set()\nfor _ in range(16):\n    ctx.value = 0\n    rcs.add((libc.syscall(206, 8192, ctypes.byref(ctx)), ctypes.get_errno()))\nprint(sorted(rcs), nr() - before)',
    },
    attackDenied: (r) => assert.equal(r.stdout.trim(), '[(-1, 38)] 0', r.stderr),
    control: { lang: 'py', code: 'import os\nfd = os.open("f", os.O_RDWR | os.O_CREAT)\nos.pwrite(fd, b"abc", 4096)\nprint(os.pread(fd, 3, 4096))' },
    controlWorks: (r) => assert.equal(r.stdout, "b'abc'\n"),
  },
  {
    name: 'raw and packet sockets are refused',
    attack: {
      lang: 'py',
      code: 'import socket\nfor fam, kind, proto in [(socket.AF_INET, socket.SOCK_RAW, 1), (socket.AF_PACKET, socket.SOCK_RAW, 0), (socket.AF_INET6, socket.SOCK_RAW, 58)]:\n    try:\n        socket.socket(fam, kind, proto); print("opened")\n    except OSError as e:\n        print("refused", e.errno)',
    },
    attackDenied: (r) => assert.deepEqual(r.stdout.trim().split('\n').map((l) => l.split(' ')[0]), ['refused', 'refused', 'refused']),
    control: { lang: 'py', code: 'import socket\nsocket.socket(socket.AF_INET, socket.SOCK_STREAM); print("opened")' },
    controlWorks: (r) => assert.equal(r.stdout, 'opened\n'),
  },
  {
    name: "the host's abstract unix sockets are unreachable",
    host: async () => {
      const name = `airlock-test-${randomUUID()}`;
      let count = 0;
      const server = createServer((s) => {
        count++;
        s.destroy();
      });
      await new Promise<void>((res) => server.listen(`\0${name}`, res));
      return {
        vars: { NAME: name },
        finish: async () => {
          await new Promise<void>((res) => server.close(() => res()));
          assert.equal(count, 0, 'the host server saw a connection from the sandbox');
        },
      };
    },
    attack: { lang: 'py', code: 'import socket\ns = socket.socket(socket.AF_UNIX)\ntry:\n    s.connect("\\0{{NAME}}"); print("connected")\nexcept OSError as e:\n    print("refused", e.errno)' },
    attackDenied: (r) => assert.match(r.stdout, /^refused/),
    control: {
      lang: 'py',
      code: 'import socket\nl = socket.socket(socket.AF_UNIX); l.bind("\\0own"); l.listen()\nc = socket.socket(socket.AF_UNIX); c.connect("\\0own"); print("connected")',
    },
    controlWorks: (r) => assert.equal(r.stdout, 'connected\n'),
  },
  {
    name: "the host's 127.0.0.1 is unreachable",
    host: async () => {
      const t = await tcpServer('127.0.0.1');
      return {
        vars: { PORT: String(t.port) },
        finish: async () => {
          await new Promise<void>((res) => t.server.close(() => res()));
          assert.equal(t.seen(), 0, 'the host server saw a connection from the sandbox');
        },
      };
    },
    attack: { lang: 'py', code: 'import socket\ntry:\n    socket.create_connection(("127.0.0.1", {{PORT}}), 2); print("connected")\nexcept OSError as e:\n    print("refused", e.errno)' },
    attackDenied: (r) => assert.match(r.stdout, /^refused/),
    control: {
      lang: 'py',
      code: 'import socket\nl = socket.socket(); l.bind(("127.0.0.1", 0)); l.listen()\nsocket.create_connection(l.getsockname(), 2); print("connected")',
    },
    controlWorks: (r) => assert.equal(r.stdout, 'connected\n'),
  },
  {
    name: 'the metadata address 169.254.169.254 is unreachable',
    attack: { lang: 'py', code: 'import socket\ntry:\n    socket.create_connection(("169.254.169.254", 80), 2); print("connected")\nexcept OSError as e:\n    print("refused", e.errno)' },
    attackDenied: (r) => assert.match(r.stdout, /^refused/),
    control: { lang: 'py', code: 'import socket\nprint(socket.gethostname())' },
    controlWorks: (r) => assert.equal(r.stdout, 'sandbox\n'),
  },
];
