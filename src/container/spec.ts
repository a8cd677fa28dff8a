/**
 * SandboxSpec: what one container sandbox is, shaped like the OCI runtime spec (config.json) so the
 * `oci` driver can write it out nearly as is and the `bwrap` driver can translate it flag by flag.
 * It is compiled from a CompiledPolicy plus what the host allocated (uid, workspace, seccomp
 * program); nothing in it comes from the host's own environment.
 */
import type { CompiledPolicy } from '../policy/compile.ts';
import { policySchema, type FileGrant } from '../policy/schema.ts';
import { cgroupResources, type CgroupResources } from './cgroup.ts';
import { grantMounts, systemMounts, workspaceMount, type Mount, type Symlink, SYSTEM_LINKS, WORKSPACE } from './mounts.ts';
import { networkPlan, type NetworkPlan } from './net.ts';
import { READONLY_PROC_PATHS, type ProcMask } from './procfs.ts';
import { rlimitsOf, type Rlimit } from './rlimit.ts';
import { TRUST_ENV, trustMounts } from './trust.ts';
import { SANDBOX_GID, SANDBOX_UID, userMappings, type IdMapping } from './users.ts';

export type NamespaceType = 'user' | 'pid' | 'network' | 'ipc' | 'uts' | 'mount' | 'cgroup';

export interface SandboxSpec {
  readonly ociVersion: '1.0.2';
  readonly hostname: string;
  readonly process: {
    readonly args: readonly string[];
    /** `KEY=value`, exactly what the sandbox sees. */
    readonly env: readonly string[];
    readonly cwd: string;
    readonly user: { readonly uid: number; readonly gid: number };
    readonly rlimits: readonly Rlimit[];
    readonly noNewPrivileges: true;
    /** Every set empty: the process holds no capability. */
    readonly capabilities: { readonly bounding: readonly []; readonly effective: readonly []; readonly permitted: readonly [] };
  };
  readonly root: { readonly readonly: true };
  readonly mounts: readonly Mount[];
  readonly linux: {
    readonly namespaces: readonly { readonly type: NamespaceType }[];
    readonly uidMappings: readonly IdMapping[];
    readonly gidMappings: readonly IdMapping[];
    readonly resources: CgroupResources;
    /** A compiled BPF program (libseccomp) for the allowlist profile. */
    readonly seccomp: { readonly profile: string; readonly bpfPath: string };
    /** procfs entries that describe the host, hidden (src/container/procfs.ts). */
    readonly maskedPaths: readonly ProcMask[];
    readonly readonlyPaths: readonly string[];
  };
  /** What OCI has no field for. */
  readonly airlock: {
    readonly hostUid: number;
    readonly hostGid: number;
    readonly links: readonly Symlink[];
    readonly wallMs: number;
    readonly cpuMs: number;
    readonly outputBytes: number;
    /**
     * The workspace's host path sits in a directory only root can enter, so no host uid reaches
     * it by path. A driver that runs as the sandbox's uid gets it at `viewPath` instead, a
     * bind mount made in a mount namespace private to its launch (see spawner.ts): nothing
     * outside that launch sees it there.
     */
    readonly workspace: { readonly hostPath: string; readonly bytes: number; readonly viewPath: string | null };
    readonly network: NetworkPlan;
  };
}

/** What the host allocated for this sandbox, plus hooks for the egress tier. */
export interface SpecInputs {
  /**
   * The policy's container grants, parsed once when the sandbox is made (containerGrants), so an
   * exec does not parse policy.document again; compileSpec parses them itself when absent.
   */
  readonly grants?: ContainerGrants;
  readonly hostUid: number;
  readonly hostGid: number;
  readonly workspaceHostPath: string;
  /** Where a launch as the sandbox's uid sees the workspace (HostParts.view). */
  readonly workspaceViewPath?: string;
  readonly etcHostPath: string;
  readonly seccomp: { readonly profile: string; readonly bpfPath: string };
  /** This kernel's procfs masks (procMasks()), found once per host. */
  readonly masks: readonly ProcMask[];
  /** The CA bundle to show at /etc/ssl/certs/ca-certificates.crt (trust.ts), or null for none. */
  readonly caBundle: string | null;
  /** Extra binds (e.g. the egress proxy's unix socket), read-only unless `writable`. */
  readonly extraBinds?: readonly Mount[];
  /** Extra environment (e.g. HTTP_PROXY), added after the policy's. */
  readonly extraEnv?: Readonly<Record<string, string>>;
  /** A process started beside the command inside the sandbox's network namespace (egress forwarder). */
  readonly sidecar?: readonly string[];
  /** argv put before every command (the egress waiter, which returns once the forwarder listens). */
  readonly argvPrefix?: readonly string[];
}

export interface ContainerGrants {
  readonly files: readonly FileGrant[];
  readonly env: Readonly<Record<string, string>>;
}

/** The container-tier fields of a policy; compile() already validated the document. */
export function containerGrants(policy: CompiledPolicy): ContainerGrants {
  const doc = policySchema.parse(policy.document);
  return { files: doc.files ?? [], env: doc.env ?? {} };
}

const BASE_ENV = {
  PATH: '/usr/local/bin:/usr/bin:/bin',
  HOME: WORKSPACE,
  TMPDIR: '/tmp',
  LANG: 'C.UTF-8',
} as const;

/**
 * @example
 *   const spec = compileSpec(policy, inputs, ['python3', 'main.py']);
 */
export function compileSpec(policy: CompiledPolicy, inputs: SpecInputs, args: readonly string[]): SandboxSpec {
  const { limits } = policy;
  const grants = inputs.grants ?? containerGrants(policy);
  const env = { ...BASE_ENV, ...(inputs.caBundle === null ? {} : TRUST_ENV), ...grants.env, ...(inputs.extraEnv ?? {}) };
  const workspaceBytes = limits.workspaceMiB * 1024 * 1024;
  const maps = userMappings(inputs.hostUid, inputs.hostGid);
  return {
    ociVersion: '1.0.2',
    hostname: 'sandbox',
    process: {
      args: [...(inputs.argvPrefix ?? []), ...args],
      env: Object.entries(env).map(([k, v]) => `${k}=${v}`),
      cwd: WORKSPACE,
      user: { uid: SANDBOX_UID, gid: SANDBOX_GID },
      rlimits: rlimitsOf(limits),
      noNewPrivileges: true,
      capabilities: { bounding: [], effective: [], permitted: [] },
    },
    root: { readonly: true },
    mounts: [
      ...systemMounts(inputs.etcHostPath, Math.min(workspaceBytes, 16 * 1024 * 1024)),
      ...trustMounts(inputs.caBundle),
      workspaceMount(inputs.workspaceHostPath),
      ...grantMounts(grants.files),
      ...(inputs.extraBinds ?? []),
    ],
    linux: {
      namespaces: (['user', 'pid', 'network', 'ipc', 'uts', 'mount', 'cgroup'] as const).map((type) => ({ type })),
      uidMappings: maps.uid,
      gidMappings: maps.gid,
      resources: cgroupResources(limits),
      seccomp: inputs.seccomp,
      maskedPaths: inputs.masks,
      readonlyPaths: READONLY_PROC_PATHS,
    },
    airlock: {
      hostUid: inputs.hostUid,
      hostGid: inputs.hostGid,
      links: SYSTEM_LINKS,
      wallMs: limits.wallMs,
      cpuMs: limits.cpuMs,
      outputBytes: limits.outputBytes,
      workspace: { hostPath: inputs.workspaceHostPath, bytes: workspaceBytes, viewPath: inputs.workspaceViewPath ?? null },
      network: networkPlan(inputs.sidecar),
    },
  };
}
