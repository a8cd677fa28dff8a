/**
 * Network: every sandbox gets a new, empty network namespace (only its own loopback), so it can
 * reach no host socket, no 127.0.0.1 service of the host, no metadata address and no abstract unix
 * socket of the host (those are per network namespace). Egress, when granted, will come through a
 * host proxy reached by a bound unix socket plus a loopback forwarder started as `sidecar` inside
 * this namespace.
 */
export interface NetworkPlan {
  readonly namespace: 'empty';
  /** argv of a process run inside the sandbox beside the command (the egress forwarder), if any. */
  readonly sidecar: readonly string[] | null;
}

export function networkPlan(sidecar?: readonly string[]): NetworkPlan {
  return { namespace: 'empty', sidecar: sidecar === undefined ? null : [...sidecar] };
}
