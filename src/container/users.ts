/**
 * Users: each sandbox runs as its own unprivileged host uid (from the UidAllocator), seen inside a
 * new user namespace as uid 1000 "sandbox". Only that one id is mapped, so nothing inside can act
 * as any other host user, and two sandboxes never share a host uid.
 */
export const SANDBOX_UID = 1000;
export const SANDBOX_GID = 1000;

export interface IdMapping {
  readonly containerID: number;
  readonly hostID: number;
  readonly size: number;
}

export function userMappings(hostUid: number, hostGid: number): { uid: IdMapping[]; gid: IdMapping[] } {
  return {
    uid: [{ containerID: SANDBOX_UID, hostID: hostUid, size: 1 }],
    gid: [{ containerID: SANDBOX_GID, hostID: hostGid, size: 1 }],
  };
}
