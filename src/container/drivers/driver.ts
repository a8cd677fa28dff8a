/**
 * The one interface behind which container launchers sit (bubblewrap, runc/runsc, later a VM).
 * A driver turns a SandboxSpec into a command; the launcher does everything around it (cgroup,
 * rlimits, uid, supervision), so every driver gets the same limits in the same order.
 */
import type { SandboxSpec } from '../spec.ts';

export interface DriverCommand {
  /** Absolute program path and arguments. */
  readonly argv: readonly string[];
  /** Host files opened read-only and passed as fds 3, 4, … in this order. */
  readonly fileFds: readonly string[];
  /**
   * When set, a pipe at `fd` into which the launcher writes `data` and closes it: arguments the
   * driver reads from there (bwrap --args) rather than from its command line, which every local
   * user can read in /proc/PID/cmdline (the policy's environment values are among them).
   */
  readonly argsPipe: { readonly fd: number; readonly data: Buffer } | null;
  /**
   * When not empty, the launch gets a mount namespace of its own, made as root before the uid
   * drop, in which each `source` (a path only root can reach) is bind-mounted on its `target`
   * (one the sandbox's uid can reach). Nothing outside the launch sees them there.
   */
  readonly views: readonly View[];
  /** When set, a pipe at this fd on which the driver reports its status (bwrap --json-status-fd). */
  readonly statusFd: number | null;
  /**
   * Reads what arrived on the status fd: whether the command itself started (else set-up
   * failed, and nothing the sandbox printed is a guest result), its exit code when the driver
   * reports one, and the host pid of the sandbox's pid 1 when known (killed on timeout).
   */
  readStatus(text: string): DriverStatus;
  /**
   * Who applies the rlimits: 'launcher' (ulimit before the driver runs, so the driver and every
   * sandbox process have them) or 'runtime' (a user-space kernel such as gVisor applies
   * process.rlimits to the guest itself, and its own host process can't work under them).
   */
  readonly rlimits?: 'launcher' | 'runtime';
  /** Who runs the driver: bwrap runs as the sandbox's own host uid; runc must start as root. */
  readonly runAs: 'sandbox-uid' | 'root';
  /** Removes what the driver made for this command (an OCI bundle, a container record). */
  cleanup(): Promise<void>;
}

export interface View {
  readonly source: string;
  readonly target: string;
}

export interface DriverStatus {
  readonly started: boolean;
  readonly exitCode?: number;
  readonly childPid?: number;
}

export interface Driver {
  readonly name: 'bwrap' | 'oci';
  /** Refuses (SANDBOX_UNAVAILABLE, naming the fix) when this host can't give the isolation asked for. */
  preflight(): Promise<void>;
  command(spec: SandboxSpec, id: string): Promise<DriverCommand>;
}
