/**
 * SandboxSpec → OCI runtime config.json (runtime-spec 1.0.2), pure, so tests can read it. The
 * SandboxSpec is shaped like OCI already; what changes:
 *   - the container's uid 0 is the sandbox's own host uid (runc sets a container up as its root,
 *     so root must be mapped); the command runs as that uid with every capability set empty and
 *     no_new_privs, so inside it is "root" of its own user namespace with no powers at all;
 *   - seccomp: the same allowlist profile (src/os/seccomp-profiles.ts), as OCI rules that the
 *     runtime compiles with libseccomp;
 *   - cgroups: a relative cgroupsPath, which runc places under its own cgroup — the sandbox's,
 *     joined by the launcher — and no resources, so the sandbox's limits bound the container;
 *   - the first process writes {"started":true} to fd 3 and closes it, then execs the command:
 *     the launcher's proof that set-up succeeded (a runtime's own failure exits 1 too). runsc
 *     passes no extra fd, so its driver writes the marker when runsc wrote its pid file.
 */
import { assertNever } from '../../core/assert.ts';
import { AirlockError } from '../../core/errors.ts';
import type { SeccompAction, SeccompCondition, SeccompDefault, SeccompErrno } from '../../os/seccomp.ts';
import { CONTAINER_PROFILE } from '../../os/seccomp-profiles.ts';
import { WORKSPACE } from '../mounts.ts';
import type { SandboxSpec } from '../spec.ts';

/** The status fd inside the container (runc --preserve-fds 1). */
export const OCI_STATUS_FD = 3;

const ERRNO: Readonly<Record<SeccompErrno, number>> = { EPERM: 1, ENOSYS: 38, EACCES: 13, EINVAL: 22, EAFNOSUPPORT: 97, EOPNOTSUPP: 95, ENOTTY: 25 };

const PROFILES = { [CONTAINER_PROFILE.name]: CONTAINER_PROFILE } as const;

function shQuote(s: string): string {
  return `'${s.replaceAll("'", `'\\''`)}'`;
}

function action(a: SeccompAction | SeccompDefault): { action: string; errnoRet?: number } {
  switch (a.kind) {
    case 'allow':
      return { action: 'SCMP_ACT_ALLOW' };
    case 'errno':
      return { action: 'SCMP_ACT_ERRNO', errnoRet: ERRNO[a.errno] };
    case 'skip':
      return { action: 'SCMP_ACT_ERRNO', errnoRet: 0 };
    case 'kill':
      return { action: 'SCMP_ACT_KILL' };
    default:
      return assertNever(a, 'seccomp action');
  }
}

const OPS = { eq: 'SCMP_CMP_EQ', ne: 'SCMP_CMP_NE', lt: 'SCMP_CMP_LT', le: 'SCMP_CMP_LE', gt: 'SCMP_CMP_GT', ge: 'SCMP_CMP_GE' } as const;

function condition(c: SeccompCondition): { index: number; value: number; valueTwo: number; op: string } {
  // libseccomp's masked compare takes the mask first, then the value.
  if (c.op === 'masked_eq') return { index: c.arg, value: c.mask, valueTwo: c.value, op: 'SCMP_CMP_MASKED_EQ' };
  return { index: c.arg, value: c.value, valueTwo: 0, op: OPS[c.op] };
}

/** The profile the spec names, as OCI's linux.seccomp. */
export function ociSeccomp(profileName: string): Record<string, unknown> {
  const profile = PROFILES[profileName];
  if (profile === undefined) throw new AirlockError('INTERNAL', `no seccomp profile named ${JSON.stringify(profileName)} for the oci driver`);
  const def = action(profile.defaultAction);
  return {
    defaultAction: def.action,
    ...(def.errnoRet === undefined ? {} : { defaultErrnoRet: def.errnoRet }),
    architectures: ['SCMP_ARCH_X86_64'],
    syscalls: profile.rules.map((r) => ({ names: [r.syscall], ...action(r.action), ...(r.when.length === 0 ? {} : { args: r.when.map(condition) }) })),
  };
}

function mountOf(m: SandboxSpec['mounts'][number], spec: SandboxSpec): Record<string, unknown> {
  switch (m.type) {
    case 'bind': {
      // The runtime sets the container up as the sandbox's uid, which reaches the workspace only at its view.
      const view = spec.airlock.workspace.viewPath;
      const source = m.destination === WORKSPACE && view !== null ? view : m.source;
      return { destination: m.destination, type: 'bind', source, options: ['rbind', m.options[0], 'nosuid', 'nodev'] };
    }
    case 'tmpfs':
      return { destination: m.destination, type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', `size=${m.sizeBytes}`, 'mode=1777'] };
    case 'proc':
      return { destination: m.destination, type: 'proc', source: 'proc', options: ['nosuid', 'nodev', 'noexec'] };
    case 'dev':
      // runc adds the minimal device nodes (null, zero, full, random, urandom, tty) and /dev/fd links.
      return { destination: m.destination, type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] };
    default:
      return assertNever(m, 'mount');
  }
}

/**
 * The config.json for `spec`, with `rootfs` as the bundle's (read-only) root directory.
 * `marker: 'fd'` when the runtime passes fd 3 in (runc --preserve-fds); runsc can't, and its
 * driver reports the start from the host instead.
 */
export function ociConfig(spec: SandboxSpec, cgroupsPath: string, marker: 'fd' | 'host'): Record<string, unknown> {
  const sidecar = spec.airlock.network.sidecar;
  const start = [
    ...(marker === 'fd' ? [`printf '{"started":true}' >&${OCI_STATUS_FD}`, `exec ${OCI_STATUS_FD}>&-`] : []),
    // The sidecar shares the sandbox's namespaces, cgroup and limits; it dies with the command.
    ...(sidecar === null ? [] : [`${sidecar.map(shQuote).join(' ')} &`]),
    'exec "$@"',
  ].join('\n');
  const { uid, gid } = { uid: spec.airlock.hostUid, gid: spec.airlock.hostGid };
  return {
    ociVersion: spec.ociVersion,
    hostname: spec.hostname,
    process: {
      terminal: false,
      user: { uid: 0, gid: 0, additionalGids: [] },
      args: ['/bin/sh', '-c', start, 'airlock-start', ...spec.process.args],
      env: spec.process.env,
      cwd: spec.process.cwd,
      rlimits: spec.process.rlimits,
      noNewPrivileges: spec.process.noNewPrivileges,
      capabilities: { bounding: [], effective: [], permitted: [], inheritable: [], ambient: [] },
    },
    root: { path: 'rootfs', readonly: spec.root.readonly },
    mounts: spec.mounts.map((m) => mountOf(m, spec)),
    linux: {
      namespaces: spec.linux.namespaces.map((n) => ({ type: n.type })),
      uidMappings: [{ containerID: 0, hostID: uid, size: 1 }],
      gidMappings: [{ containerID: 0, hostID: gid, size: 1 }],
      cgroupsPath,
      seccomp: ociSeccomp(spec.linux.seccomp.profile),
      // runc masks a file with /dev/null and a directory with a read-only tmpfs, as bwrap does here.
      maskedPaths: spec.linux.maskedPaths.map((m) => m.path),
      readonlyPaths: spec.linux.readonlyPaths,
    },
  };
}
