/**
 * What one sandbox is made of on the host, made in a fixed order and undone in reverse: its own
 * uid (a lease), its directory, its size-capped workspace, its cgroup with the policy's limits.
 * Host-wide pieces (the seccomp program, the synthetic /etc, procfs masks, the cgroup layout, a mount helper)
 * are found once per host object and shared by the sandboxes it makes; none holds tenant data.
 */
import { mkdir, rename, rmdir } from 'node:fs/promises';
import { AirlockError } from '../core/errors.ts';
import { Cgroup, type CgroupLayout } from '../os/cgroup.ts';
import { assertTrustedDir } from '../os/trusted-dir.ts';
import { UidAllocator, type UidLease } from '../os/uids.ts';
import type { CompiledPolicy } from '../policy/compile.ts';
import { cgroupLimits, cgroupResources } from './cgroup.ts';
import { ensureSyntheticEtc } from './etc.ts';
import type { Mounter } from './mounter.ts';
import { procMasks, type ProcMask } from './procfs.ts';
import { containerSeccomp, type SeccompRef } from './seccomp.ts';
import { hostCaBundle, removeTrustBundle, trustBundle, trustPath } from './trust.ts';
import { Workspace } from './workspace.ts';

export interface HostParts {
  readonly runDir: string;
  readonly uids: UidAllocator;
  readonly seccomp: SeccompRef;
  readonly etc: string;
  readonly masks: readonly ProcMask[];
  /** The host's public CA bundle, or null when it has none. */
  readonly caBundle: string | null;
  /**
   * Empty root-owned directories on which each launch sees what it must reach below a directory
   * only root can enter: `workspace` (SandboxSpec.airlock.workspace.viewPath) and, beside it,
   * `bundle` (an OCI runtime's bundle).
   */
  readonly view: string;
  readonly mounter?: Mounter;
  readonly layout?: CgroupLayout;
}

export interface SandboxParts {
  readonly lease: UidLease;
  readonly sandboxDir: string;
  readonly workspace: Workspace;
  readonly cgroup: Cgroup;
  /** The CA bundle its /etc/ssl/certs/ca-certificates.crt shows (trust.ts), or null. */
  readonly caBundle: string | null;
}

/** Finds (or makes, once) the host-wide pieces under `runDir`. */
export async function hostParts(options: {
  readonly home: string;
  readonly runDir: string;
  readonly uids: { readonly first: number; readonly count: number };
  readonly mounter?: Mounter;
  readonly layout?: CgroupLayout;
}): Promise<HostParts> {
  const { runDir } = options;
  await mkdir(runDir, { recursive: true, mode: 0o711 });
  assertTrustedDir(runDir, 'the sandboxes, their uid locks and the synthetic /etc');
  const uids = new UidAllocator({ stateDir: `${runDir}/uids`, ...options.uids });
  const seccomp = await containerSeccomp(`${options.home}/seccomp`);
  const etc = await ensureSyntheticEtc(runDir);
  const masks = await procMasks();
  const caBundle = await hostCaBundle();
  await mkdir(`${runDir}/sandboxes`, { recursive: true, mode: 0o711 });
  const view = `${runDir}/view/workspace`;
  await mkdir(view, { recursive: true, mode: 0o755 });
  await mkdir(`${runDir}/view/bundle`, { recursive: true, mode: 0o755 });
  return {
    runDir, uids, seccomp, etc, masks, caBundle, view,
    ...(options.mounter === undefined ? {} : { mounter: options.mounter }),
    ...(options.layout === undefined ? {} : { layout: options.layout }),
  };
}

/** The on-host names: `<runDir>/sandboxes/<dir>` and cgroup `airlock/<cgroup>`. */
export interface PartNames {
  readonly dir: string;
  readonly cgroup: string;
}

/** uid, directory, trust bundle, workspace, cgroup, in that order; on failure, what was made is undone. */
export async function makeParts(host: HostParts, policy: CompiledPolicy, names: PartNames): Promise<SandboxParts> {
  const sandboxDir = `${host.runDir}/sandboxes/${names.dir}`;
  const lease = await host.uids.acquire();
  let workspace: Workspace | undefined;
  let cgroup: Cgroup | undefined;
  let caBundle: string | null = null;
  try {
    // Root's alone: the workspace inside is reached by path only as root, never by its uid.
    await mkdir(sandboxDir, { mode: 0o700 });
    // A policy's CA bundle is public data bwrap reads as the sandbox's uid: it lives beside, not in, the sandbox's directory.
    caBundle = await trustBundle(policy, trustPath(host.runDir, sandboxDir), host.caBundle);
    workspace = await Workspace.create(`${sandboxDir}/workspace`, { uid: lease.uid, gid: lease.gid, bytes: policy.limits.workspaceMiB * 1024 * 1024, inodes: policy.limits.workspaceFiles, mounter: host.mounter });
    cgroup = await Cgroup.create(names.cgroup, cgroupLimits(cgroupResources(policy.limits)), host.layout === undefined ? {} : { layout: host.layout });
    return { lease, sandboxDir, workspace, cgroup, caBundle };
  } catch (error) {
    if (cgroup !== undefined && workspace !== undefined) await teardownParts({ cgroup, workspace, lease, sandboxDir, caBundle }).catch(() => undefined);
    else {
      await workspace?.destroy().catch(() => undefined);
      await removeTrustBundle(caBundle).catch(() => undefined);
      await rmdir(sandboxDir).catch(() => undefined);
      await lease.release();
    }
    throw error;
  }
}

/** Gives pre-made parts their sandbox's names (cgroup first, so a failure leaves one name each). */
export async function renameParts(host: HostParts, parts: SandboxParts, names: PartNames): Promise<SandboxParts> {
  const cgroup = await parts.cgroup.rename(names.cgroup);
  const sandboxDir = `${host.runDir}/sandboxes/${names.dir}`;
  try {
    await rename(parts.sandboxDir, sandboxDir);
  } catch (error) {
    await cgroup.rename(parts.cgroup.name).catch(() => undefined);
    throw new AirlockError('INTERNAL', `can't rename ${parts.sandboxDir} to ${sandboxDir}: ${String(error)}`);
  }
  return {
    lease: parts.lease, sandboxDir, workspace: parts.workspace.movedTo(`${sandboxDir}/workspace`), cgroup,
    caBundle: parts.caBundle,
  };
}

/** Undoes creation in reverse order; every step runs even if an earlier one failed. */
export async function teardownParts(p: SandboxParts): Promise<void> {
  const errors: unknown[] = [];
  const step = async (f: () => Promise<void>) => {
    try {
      await f();
    } catch (error) {
      errors.push(error);
    }
  };
  await step(() => p.cgroup.destroy());
  await step(() => p.workspace.destroy());
  await step(() => removeTrustBundle(p.caBundle));
  await step(() => rmdir(p.sandboxDir).catch((e: unknown) => {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }));
  // The uid is released last, only once nothing of the sandbox can still run as it.
  if (errors.length === 0) await step(() => p.lease.release());
  if (errors.length > 0) throw new AirlockError('INTERNAL', `destroying the sandbox left something behind: ${errors.map(String).join('; ')}`);
}
