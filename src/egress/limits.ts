/** The egress gateway's own limits and their defaults: data only, so options can be checked without loading the gateway. */
export interface GatewayLimits {
  /** Request line + headers, bytes (the proxy's parser and fetch both enforce it). */
  readonly maxHeaderBytes: number;
  readonly maxBodyBytes: number;
  readonly maxResponseBytes: number;
  /** Time to receive a request's headers: bounds slow-loris connections. */
  readonly headersTimeoutMs: number;
  /** Time to receive a whole request. */
  readonly requestTimeoutMs: number;
  /** Idle keep-alive connections and tunnels are closed after this. */
  readonly idleTimeoutMs: number;
  readonly upstreamTimeoutMs: number;
  readonly resolveTimeoutMs: number;
  /** Open connections per sandbox socket. */
  readonly maxConnections: number;
}

export const DEFAULT_LIMITS: GatewayLimits = {
  maxHeaderBytes: 16 * 1024,
  maxBodyBytes: 8 * 1024 * 1024,
  maxResponseBytes: 32 * 1024 * 1024,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 60_000,
  idleTimeoutMs: 30_000,
  upstreamTimeoutMs: 30_000,
  resolveTimeoutMs: 5_000,
  maxConnections: 256,
};
