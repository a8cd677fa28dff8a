/**
 * Per-process limits (setrlimit) from the policy: open files, one file's size, CPU seconds, no core
 * dumps. Hard and soft are equal, so the sandbox can't raise them. They are applied by the
 * launcher's shell (`ulimit`) just before it execs the driver, and every sandbox process inherits them.
 */
import type { Limits } from '../policy/schema.ts';

export type RlimitType = 'RLIMIT_NOFILE' | 'RLIMIT_FSIZE' | 'RLIMIT_CPU' | 'RLIMIT_CORE';

export interface Rlimit {
  readonly type: RlimitType;
  readonly hard: number;
  readonly soft: number;
}

export function rlimitsOf(limits: Limits): Rlimit[] {
  // RLIMIT_CPU counts whole seconds per process; the supervisor also watches the cgroup's total.
  const cpuSeconds = Math.ceil(limits.cpuMs / 1000) + 1;
  return [
    { type: 'RLIMIT_NOFILE', hard: limits.openFiles, soft: limits.openFiles },
    { type: 'RLIMIT_FSIZE', hard: limits.fileBytes, soft: limits.fileBytes },
    { type: 'RLIMIT_CPU', hard: cpuSeconds, soft: cpuSeconds },
    { type: 'RLIMIT_CORE', hard: 0, soft: 0 },
  ];
}

/** dash `ulimit` commands for the rlimits (dash counts file sizes in 512-byte blocks). */
export function ulimitCommands(rlimits: readonly Rlimit[]): string[] {
  return rlimits.map((r) => {
    switch (r.type) {
      case 'RLIMIT_NOFILE':
        return `ulimit -n ${r.hard}`;
      case 'RLIMIT_FSIZE':
        return `ulimit -f ${Math.max(1, Math.floor(r.hard / 512))}`;
      case 'RLIMIT_CPU':
        return `ulimit -t ${r.hard}`;
      case 'RLIMIT_CORE':
        return `ulimit -c ${r.hard}`;
    }
  });
}
