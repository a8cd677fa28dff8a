/**
 * Seccomp for the container tier: the allowlist CONTAINER_PROFILE (src/os/seccomp-profiles.ts),
 * compiled by libseccomp through src/os/seccomp.ts and cached on disk. This adapter only names the
 * profile and where its program is cached; the rules live with the profile.
 */
import { seccompProgram } from '../os/seccomp.ts';
import { CONTAINER_PROFILE } from '../os/seccomp-profiles.ts';

export interface SeccompRef {
  readonly profile: string;
  readonly bpfPath: string;
}

/** The compiled container profile (SANDBOX_UNAVAILABLE when the generator is not built). */
export async function containerSeccomp(cacheDir: string): Promise<SeccompRef> {
  return { profile: CONTAINER_PROFILE.name, bpfPath: await seccompProgram(CONTAINER_PROFILE, { cacheDir }) };
}
