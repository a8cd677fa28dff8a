/**
 * The seccomp allowlists, as data: WORKER_PROFILE for the isolate tier's worker process (Node 24 +
 * isolated-vm) and CONTAINER_PROFILE for the container tier's userland (python3, node, sh and their
 * children). Both default to EPERM. Tests and `airlock check` read these lists directly.
 *
 * Never allowed in either: namespaces (unshare, setns, clone with CLONE_NEW*), mounts, ptrace,
 * process_vm_*, keyrings, bpf, perf_event_open, io_uring, kernel AIO, userfaultfd, kexec, module loading.
 * In containers, the calls that flush the host disk's cache (sync, fsync and kin) are skipped: they
 * return 0 without running (FLUSHING_SYSCALLS).
 * Some calls answer ENOSYS instead of EPERM so libraries fall back to what the filter can check:
 * clone3 (its flags sit behind a pointer; glibc then uses clone, whose flags are arg0),
 * io_uring_setup (libuv then uses epoll and its thread pool) and, in containers, io_setup (kernel
 * AIO draws on a host-wide pool no cgroup divides).
 */
import type { SeccompCondition, SeccompProfile, SeccompRule } from './seccomp.ts';

// Constants from the x86_64 Linux UAPI headers.
const AF_UNIX = 1;
const AF_INET = 2;
const AF_INET6 = 10;
const AF_NETLINK = 16;
const NETLINK_ROUTE = 0;
const SOCK_STREAM = 1;
const SOCK_DGRAM = 2;
/** The socket type without SOCK_NONBLOCK / SOCK_CLOEXEC. */
const SOCK_TYPE_MASK = 0xf;
/** CLONE_NEWNS | NEWCGROUP | NEWUTS | NEWIPC | NEWUSER | NEWPID | NEWNET (Docker's mask). */
export const CLONE_NAMESPACE_FLAGS = 0x7e020000;
const CLONE_THREAD = 0x10000;
const TIOCSTI = 0x5412;
const TIOCLINUX = 0x541c;
const PR_SET_NAME = 15;
const SIGKILL = 9;
const PR_GET_NAME = 16;

const ALLOW = { kind: 'allow' } as const;
const ENOSYS = { kind: 'errno', errno: 'ENOSYS' } as const;

function allow(names: readonly string[]): SeccompRule[] {
  return names.map((syscall) => ({ syscall, action: ALLOW, when: [] }));
}

function allowIf(syscall: string, why: string, ...alternatives: (readonly SeccompCondition[])[]): SeccompRule[] {
  return alternatives.map((when) => ({ syscall, action: ALLOW, when, why }));
}

interface Cube {
  readonly mask: number;
  readonly value: number;
}

function subsumes(outer: Cube, inner: Cube): boolean {
  return (outer.mask & inner.mask) >>> 0 === outer.mask && (inner.value & outer.mask) >>> 0 === outer.value;
}

/**
 * The 32-bit words NOT in `forbidden`, as a union of (word & mask) == value patterns.
 * Why: libseccomp cannot express "allow except X" safely (see seccomp.ts), and a plain `ne`
 * compares all 64 bits while the kernel reads ioctl's cmd as 32 bits, so 0x1_0000_5412 would pass
 * a `ne 0x5412` rule and still be TIOCSTI. Masks here never touch the upper word.
 */
export function lowWordNotIn(forbidden: readonly number[]): Cube[] {
  let cubes: Cube[] = [{ mask: 0, value: 0 }];
  for (const v of forbidden) {
    const next: Cube[] = [];
    for (const c of cubes) {
      if ((v & c.mask) >>> 0 !== c.value) {
        next.push(c); // already excludes v
        continue;
      }
      for (let bit = 0; bit < 32; bit++) {
        const b = (1 << bit) >>> 0;
        if ((c.mask & b) === 0) next.push({ mask: (c.mask | b) >>> 0, value: (c.value | (~v & b)) >>> 0 });
      }
    }
    // Drop patterns another one already covers (keep the first of equal ones).
    cubes = next.filter((c, i) => !next.some((d, j) => j !== i && subsumes(d, c) && (!subsumes(c, d) || j < i)));
  }
  return cubes;
}

const SAFE_IOCTL = lowWordNotIn([TIOCSTI, TIOCLINUX]).map((c): readonly SeccompCondition[] => [{ arg: 1, op: 'masked_eq', mask: c.mask, value: c.value }]);

const NO_NAMESPACES: SeccompCondition = { arg: 0, op: 'masked_eq', mask: CLONE_NAMESPACE_FLAGS, value: 0 };

function socketType(family: number, type: number): readonly SeccompCondition[] {
  return [
    { arg: 0, op: 'eq', value: family },
    { arg: 1, op: 'masked_eq', mask: SOCK_TYPE_MASK, value: type },
  ];
}

/**
 * What a worker did under strace (test/os/fixtures/worker-workload.ts: isolates, modules,
 * WebAssembly, timeouts, a heap bomb, timers, the host socket on fd 3, a unix socket to the host,
 * async fs, worker threads), plus the few a rarer path needs (each named below).
 */
const WORKER_SYSCALLS = [
  // memory (V8 heaps and JIT code)
  'mmap', 'munmap', 'mprotect', 'madvise', 'brk', 'mremap',
  // threads and their synchronisation
  'futex', 'set_robust_list', 'rseq', 'set_tid_address', 'gettid', 'sched_getaffinity', 'sched_yield',
  'sched_getparam', 'sched_getscheduler',
  'exit', 'exit_group',
  // bwrap's pid-1 init runs under the same filter and reaps with wait4 (the worker has no children)
  'wait4',
  // signals: rt_sigreturn / restart_syscall for any handled signal, tgkill for abort()
  'rt_sigprocmask', 'rt_sigaction', 'rt_sigreturn', 'restart_syscall', 'tgkill',
  // files: loading node's modules and isolated-vm's addon
  'openat', 'read', 'pread64', 'write', 'writev', 'readv', 'close', 'fstat', 'newfstatat', 'statx',
  'fcntl', 'access', 'readlink', 'getcwd', 'getdents64',
  // the event loop and its wake-ups
  'epoll_create1', 'epoll_ctl', 'epoll_pwait', 'eventfd2', 'pipe2',
  // the host channel (an inherited unix socket) and unix sockets to the host
  'connect', 'getsockopt', 'getsockname', 'shutdown',
  // time and identity
  'clock_gettime', 'clock_getres', 'clock_nanosleep', 'nanosleep', 'gettimeofday', 'getrusage',
  'getpid', 'getuid', 'getgid', 'geteuid', 'getegid', 'capget', 'uname', 'sysinfo', 'getrandom',
  'arch_prctl',
  // bwrap installs the filter and then execs node: the exec happens under the filter.
  'execve',
] as const;

/** The isolate tier's worker: Node 24 + isolated-vm, nothing beyond what that needs. */
export const WORKER_PROFILE: SeccompProfile = {
  name: 'worker',
  defaultAction: { kind: 'errno', errno: 'EPERM' },
  rules: [
    ...allow(WORKER_SYSCALLS),
    ...allowIf('clone', 'threads only: a new process or namespace is refused', [{ arg: 0, op: 'masked_eq', mask: CLONE_NAMESPACE_FLAGS | CLONE_THREAD, value: CLONE_THREAD }]),
    ...allowIf('socket', 'AF_UNIX only: the worker has no network', [{ arg: 0, op: 'eq', value: AF_UNIX }]),
    ...allowIf('ioctl', 'what libuv asks of its fds: TCGETS, TIOCGWINSZ, FIONBIO, FIONCLEX, FIOCLEX',
      ...[0x5401, 0x5413, 0x5421, 0x5450, 0x5451].map((cmd): readonly SeccompCondition[] => [{ arg: 1, op: 'masked_eq', mask: 0xffffffff, value: cmd }])),
    ...allowIf('prctl', 'thread names only', [{ arg: 0, op: 'eq', value: PR_SET_NAME }], [{ arg: 0, op: 'eq', value: PR_GET_NAME }]),
    ...allowIf('prlimit64', 'its own limits only (node raises RLIMIT_NOFILE to the hard limit)', [{ arg: 0, op: 'eq', value: 0 }]),
    ...allowIf('kill', "SIGKILL to its own process group only: the backstop's way to end the worker (isolate/backstop.ts)", [
      { arg: 0, op: 'eq', value: 0 },
      { arg: 1, op: 'eq', value: SIGKILL },
    ]),
    { syscall: 'clone3', action: ENOSYS, when: [], why: 'glibc falls back to clone, whose flags the filter can read' },
    { syscall: 'io_uring_setup', action: ENOSYS, when: [], why: 'libuv falls back to epoll and its thread pool' },
  ],
};

/**
 * Docker's default allowlist (moby profiles/seccomp/default.json) for x86_64, without: ptrace,
 * process_vm_*, io_uring_*, fanotify_mark, name_to_handle_at, memfd_secret, process_mrelease,
 * modify_ldt, epoll_*_old, and the calls that need a capability Docker does not grant by default.
 */
const CONTAINER_SYSCALLS = [
  'accept', 'accept4', 'access', 'adjtimex', 'alarm', 'bind', 'brk', 'capget', 'capset', 'chdir', 'chmod',
  'chown', 'clock_adjtime', 'clock_getres', 'clock_gettime', 'clock_nanosleep', 'close', 'close_range',
  'connect', 'copy_file_range', 'creat', 'dup', 'dup2', 'dup3', 'epoll_create', 'epoll_create1', 'epoll_ctl',
  'epoll_pwait', 'epoll_pwait2', 'epoll_wait', 'eventfd', 'eventfd2', 'execve', 'execveat', 'exit', 'exit_group',
  'faccessat', 'faccessat2', 'fadvise64', 'fallocate', 'fchdir', 'fchmod', 'fchmodat', 'fchown', 'fchownat',
  'fcntl', 'fgetxattr', 'flistxattr', 'flock', 'fork', 'fremovexattr', 'fsetxattr', 'fstat',
  'fstatfs', 'ftruncate', 'futex', 'futex_waitv', 'futimesat', 'getcpu', 'getcwd', 'getdents',
  'getdents64', 'getegid', 'geteuid', 'getgid', 'getgroups', 'getitimer', 'getpeername', 'getpgid', 'getpgrp',
  'getpid', 'getppid', 'getpriority', 'getrandom', 'getresgid', 'getresuid', 'getrlimit', 'get_robust_list',
  'getrusage', 'getsid', 'getsockname', 'getsockopt', 'get_thread_area', 'gettid', 'gettimeofday', 'getuid',
  'getxattr', 'inotify_add_watch', 'inotify_init', 'inotify_init1', 'inotify_rm_watch',
  'ioprio_get', 'ioprio_set', 'kill',
  'landlock_add_rule', 'landlock_create_ruleset', 'landlock_restrict_self', 'lchown', 'lgetxattr', 'link',
  'linkat', 'listen', 'listxattr', 'llistxattr', 'lremovexattr', 'lseek', 'lsetxattr', 'lstat', 'madvise',
  'membarrier', 'memfd_create', 'mincore', 'mkdir', 'mkdirat', 'mknod', 'mknodat', 'mlock', 'mlock2',
  'mlockall', 'mmap', 'mprotect', 'mq_getsetattr', 'mq_notify', 'mq_open', 'mq_timedreceive', 'mq_timedsend',
  'mq_unlink', 'mremap', 'msgctl', 'msgget', 'msgrcv', 'msgsnd', 'munlock', 'munlockall', 'munmap',
  'nanosleep', 'newfstatat', 'open', 'openat', 'openat2', 'pause', 'pidfd_open', 'pidfd_send_signal', 'pipe',
  'pipe2', 'pkey_alloc', 'pkey_free', 'pkey_mprotect', 'poll', 'ppoll', 'prctl', 'pread64', 'preadv',
  'preadv2', 'prlimit64', 'pselect6', 'pwrite64', 'pwritev', 'pwritev2', 'read', 'readahead', 'readlink',
  'readlinkat', 'readv', 'recvfrom', 'recvmmsg', 'recvmsg', 'remap_file_pages', 'removexattr', 'rename',
  'renameat', 'renameat2', 'restart_syscall', 'rmdir', 'rseq', 'rt_sigaction', 'rt_sigpending',
  'rt_sigprocmask', 'rt_sigqueueinfo', 'rt_sigreturn', 'rt_sigsuspend', 'rt_sigtimedwait',
  'rt_tgsigqueueinfo', 'sched_getaffinity', 'sched_getattr', 'sched_getparam', 'sched_get_priority_max',
  'sched_get_priority_min', 'sched_getscheduler', 'sched_rr_get_interval', 'sched_setaffinity',
  'sched_setattr', 'sched_setparam', 'sched_setscheduler', 'sched_yield', 'seccomp', 'select', 'semctl',
  'semget', 'semop', 'semtimedop', 'sendfile', 'sendmmsg', 'sendmsg', 'sendto', 'setfsgid', 'setfsuid',
  'setgid', 'setgroups', 'setitimer', 'setpgid', 'setpriority', 'setregid', 'setresgid', 'setresuid',
  'setreuid', 'setrlimit', 'set_robust_list', 'setsid', 'setsockopt', 'set_thread_area', 'set_tid_address',
  'setuid', 'setxattr', 'shmat', 'shmctl', 'shmdt', 'shmget', 'shutdown', 'sigaltstack', 'signalfd',
  'signalfd4', 'splice', 'stat', 'statfs', 'statx', 'symlink', 'symlinkat', 'sync_file_range',
  'sysinfo', 'tee', 'tgkill', 'time', 'timer_create', 'timer_delete', 'timer_getoverrun',
  'timer_gettime', 'timer_settime', 'timerfd_create', 'timerfd_gettime', 'timerfd_settime', 'times', 'tkill',
  'truncate', 'umask', 'uname', 'unlink', 'unlinkat', 'utime', 'utimensat', 'utimes', 'vfork', 'vmsplice',
  'wait4', 'waitid', 'write', 'writev', 'arch_prctl',
] as const;

/**
 * Calls that ask the host's disks to flush their caches. In a sandbox every writable file system is
 * a tmpfs (workspace, /tmp, /dev/shm: nothing there can be made more durable), and host paths are
 * bound read-only; yet sync(2), and syncfs, fsync or fdatasync on any descriptor of a host ext4
 * file (a read-only one will do), and msync(MS_SYNC) of a mapping of one, each sent the host's
 * disk a cache flush: measured, 2,000 sync() calls in 0.16 s made 2,000 device flushes, which
 * every tenant's fsync (the audit log's durable commits among them) then queued behind. These
 * calls are skipped: they return 0 without running, which is what they achieve on a tmpfs. (msync
 * without MS_SYNC does nothing on Linux but check its arguments; a skipped one checks nothing.)
 * sync_file_range stays allowed: it starts writeback of a file's own dirty pages and flushes no
 * cache, and a sandbox can dirty only tmpfs pages.
 */
const FLUSHING_SYSCALLS = ['sync', 'syncfs', 'fsync', 'fdatasync', 'msync'] as const;

/** The container tier's userland: a general Linux allowlist without the kernel's riskiest doors. */
export const CONTAINER_PROFILE: SeccompProfile = {
  name: 'container',
  defaultAction: { kind: 'errno', errno: 'EPERM' },
  rules: [
    ...allow(CONTAINER_SYSCALLS),
    ...allowIf('clone', 'processes and threads, never new namespaces', [NO_NAMESPACES]),
    ...allowIf('socket', 'unix, and TCP/UDP over IPv4/IPv6 (no raw, packet or other families); NETLINK_ROUTE for glibc getaddrinfo',
      [{ arg: 0, op: 'eq', value: AF_UNIX }],
      socketType(AF_INET, SOCK_STREAM), socketType(AF_INET, SOCK_DGRAM),
      socketType(AF_INET6, SOCK_STREAM), socketType(AF_INET6, SOCK_DGRAM),
      [{ arg: 0, op: 'eq', value: AF_NETLINK }, { arg: 2, op: 'eq', value: NETLINK_ROUTE }]),
    ...allowIf('socketpair', 'unix only', [{ arg: 0, op: 'eq', value: AF_UNIX }]),
    ...allowIf('ioctl', 'everything but TIOCSTI and TIOCLINUX (terminal input injection)', ...SAFE_IOCTL),
    ...allowIf('personality', "Docker's harmless personalities (query, PER_LINUX, UNAME26, PER_LINUX32)",
      ...[0, 0x8, 0x20000, 0x20008, 0xffffffff].map((p): readonly SeccompCondition[] => [{ arg: 0, op: 'eq', value: p }])),
    { syscall: 'clone3', action: ENOSYS, when: [], why: 'glibc falls back to clone, whose flags the filter can read' },
    { syscall: 'io_uring_setup', action: ENOSYS, when: [], why: 'libuv falls back to epoll and its thread pool' },
    {
      syscall: 'io_setup',
      action: ENOSYS,
      when: [],
      why: "kernel AIO contexts come from one host-wide pool (fs.aio-max-nr) that no cgroup or namespace divides, so one sandbox could take every other's; callers fall back to threads, and io_submit and the rest are useless without a context",
    },
    ...FLUSHING_SYSCALLS.map((syscall): SeccompRule => ({
      syscall,
      action: { kind: 'skip' },
      when: [],
      why: "returns 0 without running: each call flushed the host disk's cache, which no cgroup divides, and a sandbox's writable files are all on tmpfs, where it does nothing",
    })),
  ],
};

/** Syscall names that no airlock profile may allow (checked by the tests and `airlock check`). */
export const FORBIDDEN_SYSCALLS = [
  'unshare', 'setns', 'mount', 'umount2', 'pivot_root', 'chroot', 'fsopen', 'fsconfig', 'fsmount', 'fspick',
  'move_mount', 'open_tree', 'mount_setattr', 'ptrace', 'process_vm_readv', 'process_vm_writev', 'keyctl',
  'add_key', 'request_key', 'bpf', 'perf_event_open', 'io_uring_setup', 'io_uring_enter', 'io_uring_register',
  'io_setup', 'userfaultfd', 'kexec_load', 'kexec_file_load', 'init_module', 'finit_module', 'delete_module', 'clone3',
  'open_by_handle_at', 'reboot', 'swapon', 'swapoff', 'syslog', 'iopl', 'ioperm', 'quotactl', 'acct',
] as const;

/** The names a profile lets through (with or without conditions), sorted. */
export function allowedSyscalls(profile: SeccompProfile): string[] {
  return [...new Set(profile.rules.filter((r) => r.action.kind === 'allow').map((r) => r.syscall))].sort();
}
