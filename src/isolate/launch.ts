/**
 * The worker's second layer, as one ordered list of bubblewrap arguments:
 *   1. fresh namespaces: user, pid, ipc, uts, mount, cgroup, and an empty network namespace;
 *   2. a root of nothing but the read-only worker view and a private tmpfs;
 *   3. no capabilities, a new session (no terminal injection), die with the parent;
 *   4. the seccomp allowlist, compiled by libseccomp, read from an inherited fd;
 *   5. an empty environment.
 * The host runs this as the worker's own unprivileged uid, inside the worker's cgroup.
 */
import type { WorkerView } from './worker-view.ts';

/** The fd on which bwrap reads the seccomp program: index 4 of the stdio array in worker-process.ts. */
export const SECCOMP_FD = 4;
/** The fd of the host↔worker socket inside the worker. */
export const CHANNEL_FD = 3;

export function workerArgv(view: WorkerView, options: { defaultMemoryMiB: number }): string[] {
  const argv = ['--unshare-all', '--unshare-user', '--disable-userns'];
  // Mounts first, binds after: a bind below /tmp (a checkout in /tmp) must land on top of the tmpfs.
  argv.push('--tmpfs', '/', '--proc', '/proc', '--dev', '/dev', '--tmpfs', '/tmp');
  for (const [from, to] of view.binds) argv.push('--ro-bind', from, to);
  argv.push('--remount-ro', '/');
  argv.push('--cap-drop', 'ALL', '--new-session', '--die-with-parent', '--clearenv', '--chdir', '/tmp');
  argv.push('--seccomp', String(SECCOMP_FD));
  // The worker's own V8 heap is small; guests live in isolates with their own limits.
  argv.push('--', view.node, '--max-old-space-size=96', '--disable-warning=ExperimentalWarning', view.entry, String(options.defaultMemoryMiB));
  return argv;
}
