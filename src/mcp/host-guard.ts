/**
 * The Host and Origin check in front of `airlock mcp --http` (the SDK's handler makes none). A web
 * page on another site can make its own name resolve to 127.0.0.1 (DNS rebinding) and then talk to
 * a local MCP server as "same origin": its requests carry its own Host and Origin, so only the
 * Hosts this server serves and the Origins listed get through (the same rule as src/server/guard.ts).
 *
 * @example
 *   const refusal = hostRefusal(req.headers, { hosts: ['127.0.0.1:7879'], origins: [] });
 *   if (refusal !== null) return answer403(refusal);
 */
import type { IncomingHttpHeaders } from 'node:http';
import { AirlockError } from '../core/errors.ts';

export interface HostRules {
  /** Host header values served, as host:port (compared without case). */
  readonly hosts: readonly string[];
  /** Browser Origins allowed (scheme://host[:port]); a request with any other Origin is refused. */
  readonly origins: readonly string[];
}

/** Null when the request may go on, else the coded refusal (HOST_NOT_ALLOWED). */
export function hostRefusal(headers: IncomingHttpHeaders, rules: HostRules): AirlockError | null {
  const hosts = rules.hosts.map((h) => h.toLowerCase());
  const host = headers.host?.toLowerCase();
  if (host === undefined || !hosts.includes(host)) {
    return new AirlockError('HOST_NOT_ALLOWED', `Host ${JSON.stringify(host ?? '')} is not served here: call ${hosts.join(' or ')}, or start airlock mcp with --allow-host for it`);
  }
  const origin = headers.origin;
  if (origin !== undefined && !rules.origins.some((o) => o.toLowerCase() === origin.toLowerCase())) {
    return new AirlockError('HOST_NOT_ALLOWED', `requests from the browser Origin ${JSON.stringify(origin)} are refused: start airlock mcp with --allow-origin ${origin} if that page is meant to call it`);
  }
  return null;
}
