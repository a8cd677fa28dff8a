/**
 * The container tier's entry: a Linux workbench per sandbox. Creation runs in a fixed order and is
 * undone in reverse if any step fails; a host that lacks a mechanism is refused with
 * SANDBOX_UNAVAILABLE naming the fix, never run with less isolation.
 *
 * @example
 *   await using sbx = await createContainerSandbox({ tenant: 'acme', sandboxId: newId('sbx'), policy, audit, home });
 *   await sbx.writeFile('main.py', 'print(1 + 1)');
 *   const r = await sbx.exec(['python3', 'main.py']); // r.stdout === '2\n'
 */
import { mkdir, rmdir, stat } from 'node:fs/promises';
import type { AuditSink } from '../audit/event.ts';
import { AirlockError } from '../core/errors.ts';
import { Cgroup } from '../os/cgroup.ts';
import { RUN_DIR, SANDBOX_UIDS, UidAllocator, type UidLease } from '../os/uids.ts';
import type { CompiledPolicy } from '../policy/compile.ts';
import { TENANT_ID } from '../policy/request.ts';
import { cgroupLimits, cgroupResources } from './cgroup.ts';
import { bwrapDriver } from './drivers/bwrap.ts';
import type { Driver } from './drivers/driver.ts';
import { ensureSyntheticEtc } from './etc.ts';
import type { Mount } from './mounts.ts';
import { grantMounts } from './mounts.ts';
import { containerSeccomp } from './seccomp.ts';
import { Session, teardownParts, type ContainerSandbox } from './session.ts';
import { containerGrants } from './spec.ts';
import { Workspace } from './workspace.ts';

export type { ContainerSandbox } from './session.ts';
export type { ExecOptions, ExecResult } from './launch.ts';
export type { FileEntry } from './workspace.ts';
export { bwrapDriver } from './drivers/bwrap.ts';

/** Host-wide runtime state (mount points, uid locks): outside AIRLOCK_HOME, so two homes never share a uid. */
export const DEFAULT_RUN_DIR = RUN_DIR;
export const DEFAULT_UIDS = SANDBOX_UIDS;

export interface ContainerSandboxOptions {
  readonly tenant: string;
  readonly sandboxId: string;
  readonly policy: CompiledPolicy;
  readonly audit: AuditSink;
  /** AIRLOCK_HOME: the seccomp program cache lives here. */
  readonly home: string;
  /** The launcher (default: bubblewrap). */
  readonly driver?: Driver;
  readonly runDir?: string;
  readonly uids?: { readonly first: number; readonly count: number };
  /** For the egress tier: a bound unix socket, proxy variables, a forwarder in the network namespace. */
  readonly extraBinds?: readonly Mount[];
  readonly extraEnv?: Readonly<Record<string, string>>;
  readonly sidecar?: readonly string[];
}

const SANDBOX_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,80}$/;

/** Creates a sandbox: preflight, uid, seccomp, /etc, workspace, cgroup, in that order. */
export async function createContainerSandbox(options: ContainerSandboxOptions): Promise<ContainerSandbox> {
  const { tenant, sandboxId, policy, audit, home } = options;
  if (!TENANT_ID.test(tenant)) throw new AirlockError('INVALID_REQUEST', `tenant ${JSON.stringify(tenant)} is not a tenant id: use 1–63 of a-z 0-9 _ -`);
  if (!SANDBOX_ID.test(sandboxId)) throw new AirlockError('INVALID_REQUEST', `sandbox id ${JSON.stringify(sandboxId)} is not valid: use letters, digits, _ and -`);
  if (process.getuid?.() !== 0) throw new AirlockError('SANDBOX_UNAVAILABLE', 'the container tier needs root on the host (for cgroups, uids and the workspace mount): run airlock as root');
  const driver = options.driver ?? bwrapDriver();
  await driver.preflight();
  // Grants are checked before anything is allocated: a missing path would only fail at launch.
  const grants = containerGrants(policy).files;
  grantMounts(grants);
  for (const [i, g] of grants.entries()) {
    if (!(await stat(g.path).then(() => true, () => false))) {
      throw new AirlockError('INVALID_POLICY', `files.${i}: ${g.path} does not exist on this host: grant a path that exists`);
    }
  }
  const runDir = options.runDir ?? DEFAULT_RUN_DIR;
  const uids = new UidAllocator({ stateDir: `${runDir}/uids`, ...(options.uids ?? DEFAULT_UIDS) });
  const seccomp = await containerSeccomp(`${home}/seccomp`);
  const etc = await ensureSyntheticEtc(runDir);
  await mkdir(`${runDir}/sandboxes`, { recursive: true, mode: 0o711 });
  const sandboxDir = `${runDir}/sandboxes/${sandboxId}`;
  const lease: UidLease = await uids.acquire();
  let workspace: Workspace | undefined;
  let cgroup: Cgroup | undefined;
  try {
    await mkdir(sandboxDir, { mode: 0o711 });
    workspace = await Workspace.create(`${sandboxDir}/workspace`, { uid: lease.uid, gid: lease.gid, bytes: policy.limits.workspaceMiB * 1024 * 1024 });
    cgroup = await Cgroup.create(`${tenant}.${sandboxId}`, cgroupLimits(cgroupResources(policy.limits)));
    await cgroup.allowJoin(lease.uid, lease.gid);
  } catch (error) {
    if (cgroup !== undefined && workspace !== undefined) await teardownParts({ cgroup, workspace, lease, sandboxDir }).catch(() => undefined);
    else {
      await workspace?.destroy().catch(() => undefined);
      await rmdir(sandboxDir).catch(() => undefined);
      await lease.release();
    }
    throw error;
  }
  audit.append({ kind: 'sandbox.created', tenant, sandbox: sandboxId, tier: 'container', policyHash: policy.hash });
  return new Session({
    tenant, id: sandboxId, policy, audit, driver, lease, cgroup, workspace, sandboxDir,
    inputs: {
      hostUid: lease.uid, hostGid: lease.gid, workspaceHostPath: workspace.dir, etcHostPath: etc, seccomp,
      ...(options.extraBinds === undefined ? {} : { extraBinds: options.extraBinds }),
      ...(options.extraEnv === undefined ? {} : { extraEnv: options.extraEnv }),
      ...(options.sidecar === undefined ? {} : { sidecar: options.sidecar }),
    },
  });
}
