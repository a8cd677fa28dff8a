/**
 * The doors every request passes before a route sees it, in order: the Host and Origin it was sent
 * with (DNS rebinding: a page on another site that resolves its own name to 127.0.0.1 sends its
 * own Host and Origin, so only the hosts this server serves and the Origins listed get through),
 * then the API key (its tenant scopes everything after), then the key's rate.
 *
 * @example
 *   app.use('*', hostGuard({ hosts: ['127.0.0.1:7878'], origins: [] }));
 *   app.use('/v1/*', apiKeyGuard(keys), rateGuard(rate));
 */
import type { MiddlewareHandler } from 'hono';
import { AirlockError } from '../core/errors.ts';
import { errorResponse } from './errors.ts';
import type { Caller, KeyStore } from './keys.ts';
import type { RateLimiter } from './rate.ts';

export interface ServerEnv {
  Variables: { caller: Caller };
}

export interface HostRules {
  /** Host header values served, as host:port (compared without case). */
  readonly hosts: readonly string[];
  /** Browser Origins allowed (scheme://host[:port]); a request with any other Origin is refused. */
  readonly origins: readonly string[];
  /**
   * Path prefixes whose pages this server serves itself (the console): there, a browser Origin
   * that is this server's own (http://HOST, HOST being a served Host) is allowed too. It is the
   * console's own form posting back; a rebinding page's Origin names its own host, not ours.
   */
  readonly ownPages?: readonly string[];
}

function ownOrigin(origin: string, host: string): boolean {
  return origin.toLowerCase() === `http://${host}` || origin.toLowerCase() === `https://${host}`;
}

/** Refuses a request whose Host is not served or whose Origin is not listed (HOST_NOT_ALLOWED). */
export function hostGuard(rules: HostRules): MiddlewareHandler<ServerEnv> {
  const hosts = new Set(rules.hosts.map((h) => h.toLowerCase()));
  const origins = new Set(rules.origins.map((o) => o.toLowerCase()));
  const ownPages = rules.ownPages ?? [];
  return async (c, next) => {
    const host = c.req.header('host')?.toLowerCase();
    if (host === undefined || !hosts.has(host)) {
      return errorResponse(c, new AirlockError('HOST_NOT_ALLOWED', `Host ${JSON.stringify(host ?? '')} is not served here: call ${[...hosts].join(' or ')}, or start the server with --allow-host for it`));
    }
    const origin = c.req.header('origin');
    const path = c.req.path;
    const mine = ownPages.some((p) => path === p || path.startsWith(`${p}/`)) && origin !== undefined && ownOrigin(origin, host);
    if (origin !== undefined && !origins.has(origin.toLowerCase()) && !mine) {
      return errorResponse(c, new AirlockError('HOST_NOT_ALLOWED', `requests from the browser Origin ${JSON.stringify(origin)} are refused: start the server with --allow-origin ${origin} if that page is meant to call it`));
    }
    await next();
  };
}

const BEARER = /^Bearer ([!-~]{1,200})$/;

/** Sets the caller from `Authorization: Bearer KEY`, or answers AUTH_REQUIRED before anything runs. */
export function apiKeyGuard(keys: KeyStore): MiddlewareHandler<ServerEnv> {
  return async (c, next) => {
    const m = BEARER.exec(c.req.header('authorization') ?? '');
    const caller = m?.[1] === undefined ? undefined : keys.verify(m[1]);
    if (caller === undefined) {
      c.header('WWW-Authenticate', 'Bearer realm="airlock"');
      return errorResponse(c, new AirlockError('AUTH_REQUIRED', m === null ? 'no API key: send "Authorization: Bearer KEY"' : 'the API key is not valid (unknown, revoked or malformed): create one with `airlock keys create --tenant T`'));
    }
    c.set('caller', caller);
    await next();
  };
}

/** Answers RATE_LIMITED with Retry-After when the caller's key has used its rate. */
export function rateGuard(rate: RateLimiter): MiddlewareHandler<ServerEnv> {
  return async (c, next) => {
    const wait = rate.take(c.var.caller.keyId);
    if (wait > 0) {
      c.header('Retry-After', String(wait));
      return errorResponse(c, new AirlockError('RATE_LIMITED', `this API key sent more requests than the server's rate allows: retry in ${wait} s`));
    }
    await next();
  };
}
