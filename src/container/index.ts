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
import { stat } from 'node:fs/promises';
import type { AuditSink } from '../audit/event.ts';
import { AirlockError } from '../core/errors.ts';
import { DEFAULT_SANDBOX_UIDS } from '../os/uid-range.ts';
import { RUN_DIR, sandboxUids } from '../os/uids.ts';
import type { CompiledPolicy } from '../policy/compile.ts';
import { TENANT_ID } from '../policy/request.ts';
import { bwrapDriver } from './drivers/bwrap.ts';
import type { Driver } from './drivers/driver.ts';
import type { Mount } from './mounts.ts';
import { grantMounts } from './mounts.ts';
import { hostParts, makeParts, teardownParts, type SandboxParts } from './parts.ts';
import type { ContainerPool } from './pool.ts';
import { Session, type ContainerSandbox } from './session.ts';
import { containerGrants, type ContainerGrants, type SpecInputs } from './spec.ts';
import type { Spawner } from './spawner.ts';
import { WAITER_VARIABLES, type Standby } from './standby.ts';

export type { ContainerSandbox } from './session.ts';
export type { ExecOptions, ExecResult } from './launch.ts';
export type { FileEntry } from './workspace.ts';
export { bwrapDriver } from './drivers/bwrap.ts';
export { ociDriver, type OciOptions } from './drivers/oci.ts';
export { ContainerPool, type ContainerPoolOptions } from './pool.ts';

/** Host-wide runtime state (mount points, uid locks): outside AIRLOCK_HOME, so two homes never share a uid. */
export const DEFAULT_RUN_DIR = RUN_DIR;
/** The default sandbox uid range; AIRLOCK_UIDS=FIRST+COUNT or the `uids` option choose another. */
export const DEFAULT_UIDS = DEFAULT_SANDBOX_UIDS;

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
  /**
   * Egress for this sandbox, asked for once its uid is known (the socket is made private to it):
   * binds, proxy environment, the forwarder sidecar and the argv prefix that waits for it.
   */
  readonly egress?: (owner: { readonly uid: number; readonly gid: number }) => Promise<EgressHook>;
  /**
   * Sandboxes made ahead (one per host process, closed with it). Used when the default driver,
   * run dir and uid range apply and no egress hook is given; otherwise the sandbox is made here,
   * and its processes are still started through the pool's process helper.
   */
  readonly pool?: ContainerPool;
}

export interface EgressHook {
  readonly binds: readonly Mount[];
  readonly env: Readonly<Record<string, string>>;
  readonly sidecar: readonly string[];
  readonly argvPrefix: readonly string[];
  /** Aborted, with a coded AirlockError as its reason, when egress stops what the sandbox runs (limits.denials). */
  readonly stop?: AbortSignal;
}

const SANDBOX_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,80}$/;

function poolFits(options: ContainerSandboxOptions, env: ContainerGrants['env']): options is ContainerSandboxOptions & { readonly pool: ContainerPool } {
  return options.pool !== undefined && options.driver === undefined && options.runDir === undefined && options.uids === undefined
    && options.extraBinds === undefined && options.extraEnv === undefined && options.sidecar === undefined && options.egress === undefined
    && !WAITER_VARIABLES.some((v) => Object.hasOwn(env, v));
}

/** Creates a sandbox: preflight, uid, seccomp, /etc, workspace, cgroup, in that order. */
export async function createContainerSandbox(options: ContainerSandboxOptions): Promise<ContainerSandbox> {
  const { tenant, sandboxId, policy, audit, home } = options;
  if (!TENANT_ID.test(tenant)) throw new AirlockError('INVALID_REQUEST', `tenant ${JSON.stringify(tenant)} is not a tenant id: use 1–63 of a-z 0-9 _ -`);
  if (!SANDBOX_ID.test(sandboxId)) throw new AirlockError('INVALID_REQUEST', `sandbox id ${JSON.stringify(sandboxId)} is not valid: use letters, digits, _ and -`);
  if (process.getuid?.() !== 0) throw new AirlockError('SANDBOX_UNAVAILABLE', 'the container tier needs root on the host (for cgroups, uids and the workspace mount): run airlock as root');
  // Grants are checked before anything is allocated: a missing path would only fail at launch.
  const grants = containerGrants(policy);
  grantMounts(grants.files);
  for (const [i, g] of grants.files.entries()) {
    if (!(await stat(g.path).then(() => true, () => false))) {
      throw new AirlockError('INVALID_POLICY', `files.${i}: ${g.path} does not exist on this host: grant a path that exists`);
    }
  }
  const names = { dir: sandboxId, cgroup: `${tenant}.${sandboxId}` };
  let made: { parts: SandboxParts; inputs: SpecInputs; driver: Driver; standby?: Standby; spawner?: Spawner; destroyed?: () => void; stop?: AbortSignal };
  if (poolFits(options, grants.env)) {
    made = await options.pool.take(policy, names);
  } else {
    const driver = options.driver ?? bwrapDriver();
    await driver.preflight();
    const host = await hostParts({ home, runDir: options.runDir ?? DEFAULT_RUN_DIR, uids: options.uids ?? sandboxUids() });
    const parts = await makeParts(host, policy, names);
    let egress: EgressHook | undefined;
    try {
      egress = await options.egress?.({ uid: parts.lease.uid, gid: parts.lease.gid });
    } catch (error) {
      await teardownParts(parts).catch(() => undefined);
      throw error;
    }
    const extraBinds = [...(options.extraBinds ?? []), ...(egress?.binds ?? [])];
    const extraEnv = { ...options.extraEnv, ...egress?.env };
    const sidecar = egress?.sidecar ?? options.sidecar;
    const inputs: SpecInputs = {
      grants, hostUid: parts.lease.uid, hostGid: parts.lease.gid, workspaceHostPath: parts.workspace.dir, workspaceViewPath: host.view, etcHostPath: host.etc, seccomp: host.seccomp, masks: host.masks, caBundle: parts.caBundle,
      ...(extraBinds.length === 0 ? {} : { extraBinds }),
      ...(Object.keys(extraEnv).length === 0 ? {} : { extraEnv }),
      ...(sidecar === undefined ? {} : { sidecar }),
      ...(egress === undefined ? {} : { argvPrefix: egress.argvPrefix }),
    };
    made = { parts, inputs, driver, ...(egress?.stop === undefined ? {} : { stop: egress.stop }), ...(options.pool === undefined ? {} : { spawner: options.pool.spawner }) };
  }
  audit.append({ kind: 'sandbox.created', tenant, sandbox: sandboxId, tier: 'container', policyHash: policy.hash });
  return new Session({
    tenant, id: sandboxId, policy, audit, ...made.parts, driver: made.driver, inputs: made.inputs,
    ...(made.standby === undefined ? {} : { standby: made.standby }),
    ...(made.destroyed === undefined ? {} : { destroyed: made.destroyed }),
    ...(made.spawner === undefined ? {} : { spawner: made.spawner }),
    ...(made.stop === undefined ? {} : { stop: made.stop }),
  });
}
