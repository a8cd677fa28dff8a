/**
 * The default driver: Debian's bubblewrap, run as the sandbox's unprivileged host uid. It makes
 * every namespace new (user, pid, network, ipc, uts, mount, cgroup), forbids nested user
 * namespaces, drops every capability, sets no_new_privs, loads the seccomp program from fd 3 and
 * builds the view of mounts.ts on a read-only root, with procfs' host entries masked (procfs.ts).
 * Its arguments, the policy's environment among them, reach it on a pipe (--args), never on a
 * command line another user could read.
 */
import { constants as fsc } from 'node:fs';
import { access, readFile } from 'node:fs/promises';
import { assertNever } from '../../core/assert.ts';
import { AirlockError } from '../../core/errors.ts';
import { WORKSPACE } from '../mounts.ts';
import type { SandboxSpec } from '../spec.ts';
import type { Driver, DriverCommand, DriverStatus } from './driver.ts';

export interface BwrapOptions {
  readonly bwrapPath?: string;
  /** Where sysctls are read (tests point it at a fake /proc/sys). */
  readonly procSys?: string;
}

function shQuote(s: string): string {
  return `'${s.replaceAll("'", `'\\''`)}'`;
}

const SECCOMP_FD = 3;
const STATUS_FD = 4;
const ARGS_FD = 5;

/**
 * Right after the sandbox's own /proc is mounted (each bind makes bwrap re-read the mount table,
 * so the fewer mounts there are yet, the cheaper): a file is covered by the host's /dev/null,
 * which bwrap binds nodev, so it can't even be opened; a directory by an empty read-only tmpfs.
 */
function procMaskArgs(masks: SandboxSpec['linux']['maskedPaths']): string[] {
  return masks.flatMap((m) => (m.kind === 'file' ? ['--ro-bind', '/dev/null', m.path] : ['--perms', '0555', '--size', '4096', '--tmpfs', m.path, '--remount-ro', m.path]));
}

/** The bwrap argv for a spec; pure, so tests can read it. */
export function bwrapArgs(spec: SandboxSpec): string[] {
  return [...bwrapOptions(spec), '--', ...bwrapCommand(spec)];
}

/** Everything before the `--`: namespaces, ids, environment, mounts. */
function bwrapOptions(spec: SandboxSpec): string[] {
  const a: string[] = ['--unshare-user', '--disable-userns'];
  for (const ns of spec.linux.namespaces) {
    switch (ns.type) {
      case 'user':
      case 'mount':
        break; // user is above; mount is always new in bwrap
      case 'pid':
        a.push('--unshare-pid');
        break;
      case 'network':
        a.push('--unshare-net');
        break;
      case 'ipc':
        a.push('--unshare-ipc');
        break;
      case 'uts':
        a.push('--unshare-uts', '--hostname', spec.hostname);
        break;
      case 'cgroup':
        a.push('--unshare-cgroup');
        break;
      default:
        assertNever(ns.type, 'namespace');
    }
  }
  a.push('--uid', String(spec.process.user.uid), '--gid', String(spec.process.user.gid));
  // The command is pid 1 of its namespace: no reaper of bwrap's own is left as a zombie for the host's
  // init, and when the command ends the kernel kills everything else in the namespace.
  a.push('--as-pid-1', '--die-with-parent', '--new-session', '--cap-drop', 'ALL', '--clearenv');
  for (const kv of spec.process.env) {
    const i = kv.indexOf('=');
    a.push('--setenv', kv.slice(0, i), kv.slice(i + 1));
  }
  a.push('--seccomp', String(SECCOMP_FD), '--json-status-fd', String(STATUS_FD));
  for (const m of spec.mounts) {
    switch (m.type) {
      case 'bind': {
        const view = spec.airlock.workspace.viewPath;
        const source = m.destination === WORKSPACE && view !== null ? view : m.source;
        a.push(m.options[0] === 'ro' ? '--ro-bind' : '--bind', source, m.destination);
        break;
      }
      case 'tmpfs':
        a.push('--size', String(m.sizeBytes), '--tmpfs', m.destination);
        break;
      case 'proc':
        a.push('--proc', m.destination, ...procMaskArgs(spec.linux.maskedPaths));
        break;
      case 'dev':
        a.push('--dev', m.destination);
        break;
      default:
        assertNever(m, 'mount');
    }
  }
  for (const l of spec.airlock.links) a.push('--symlink', l.target, l.path);
  a.push('--remount-ro', '/', '--chdir', spec.process.cwd);
  return a;
}

/** The command after the `--`. */
function bwrapCommand(spec: SandboxSpec): string[] {
  const sidecar = spec.airlock.network.sidecar;
  // The sidecar shares the sandbox's namespaces, cgroup and limits; it dies with the command.
  const wrap = sidecar === null ? [] : ['/bin/sh', '-c', `${sidecar.map(shQuote).join(' ')} & exec "$@"`, 'airlock-sidecar'];
  return [...wrap, ...spec.process.args];
}

/**
 * bwrap's --json-status-fd: `{"child-pid": N, …}` once the sandbox exists, `{"exit-code": N}`
 * only once the command itself ran (so its absence means set-up failed).
 */
export function readBwrapStatus(text: string): DriverStatus {
  const pid = /"child-pid"\s*:\s*(\d+)/.exec(text)?.[1];
  const exit = /"exit-code"\s*:\s*(\d+)/.exec(text)?.[1];
  return { started: exit !== undefined, ...(exit === undefined ? {} : { exitCode: Number(exit) }), ...(pid === undefined ? {} : { childPid: Number(pid) }) };
}

/** @example const driver = bwrapDriver(); await driver.preflight(); */
export function bwrapDriver(options: BwrapOptions = {}): Driver {
  const bwrap = options.bwrapPath ?? '/usr/bin/bwrap';
  const procSys = options.procSys ?? '/proc/sys';
  return {
    name: 'bwrap',
    async preflight() {
      try {
        await access(bwrap, fsc.X_OK);
      } catch {
        throw new AirlockError('SANDBOX_UNAVAILABLE', `bubblewrap is not installed at ${bwrap}: apt-get install -y bubblewrap (or run npm run setup)`);
      }
      const max = Number((await readFile(`${procSys}/user/max_user_namespaces`, 'utf8').catch(() => '0')).trim());
      if (!(max > 0)) {
        throw new AirlockError('SANDBOX_UNAVAILABLE', 'user namespaces are disabled (user.max_user_namespaces is 0): sysctl -w user.max_user_namespaces=15000');
      }
      const clone = await readFile(`${procSys}/kernel/unprivileged_userns_clone`, 'utf8').catch(() => '1');
      if (clone.trim() !== '1') {
        throw new AirlockError('SANDBOX_UNAVAILABLE', 'unprivileged user namespaces are disabled: sysctl -w kernel.unprivileged_userns_clone=1');
      }
      const restrict = await readFile(`${procSys}/kernel/apparmor_restrict_unprivileged_userns`, 'utf8').catch(() => '0');
      if (restrict.trim() !== '0') {
        throw new AirlockError('SANDBOX_UNAVAILABLE', 'AppArmor restricts unprivileged user namespaces: sysctl -w kernel.apparmor_restrict_unprivileged_userns=0, or add an AppArmor profile for bwrap');
      }
    },
    command(spec: SandboxSpec): Promise<DriverCommand> {
      // The options go on the pipe, each NUL-terminated as --args reads them; bwrap takes the
      // command only from its real command line (where the command itself shows once it runs).
      const data = Buffer.from(bwrapOptions(spec).map((a) => `${a}\0`).join(''));
      return Promise.resolve({
        argv: [bwrap, '--args', String(ARGS_FD), '--', ...bwrapCommand(spec)],
        argsPipe: { fd: ARGS_FD, data },
        views: spec.airlock.workspace.viewPath === null ? [] : [{ source: spec.airlock.workspace.hostPath, target: spec.airlock.workspace.viewPath }],
        fileFds: [spec.linux.seccomp.bpfPath],
        statusFd: STATUS_FD,
        readStatus: readBwrapStatus,
        runAs: 'sandbox-uid' as const,
        cleanup: () => Promise.resolve(),
      });
    },
  };
}
