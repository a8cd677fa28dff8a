/**
 * Reads where a request wants to go, strictly, before any decision: absolute-form for proxied
 * http, authority-form for CONNECT. Anything ambiguous is refused rather than guessed at, because
 * the gateway and the upstream must agree on host and path: origin-form, user info, a Host header
 * that disagrees, IPv4 in decimal/octal/hex spellings, percent-encoded or dot path segments.
 */
import { AirlockError } from '../core/errors.ts';
import { canonicalIp, HTTP_METHODS, isOddIpSpelling, type Scheme } from '../policy/network.ts';

export interface Target {
  readonly scheme: Scheme;
  /** Lower case; IP literals canonical, IPv6 without brackets. */
  readonly host: string;
  readonly port: number;
  /** Canonical path, checked to need no decoding or dot-segment removal. */
  readonly path: string;
  /** The query as sent, with its `?`, or ''. */
  readonly search: string;
}

export type Parsed<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly why: string; readonly error: AirlockError };

function bad(why: string, message: string): { ok: false; why: string; error: AirlockError } {
  return { ok: false, why, error: new AirlockError('EGRESS_BAD_REQUEST', message) };
}

const LABEL = /^(?!-)[a-z0-9_-]{1,63}(?<!-)$/;
// Path and query characters that need no interpretation; %XX is checked separately.
const PATH_CHARS = /^[A-Za-z0-9\-._~!$&'()*+,;=:@/%]*$/;
const QUERY_CHARS = /^[A-Za-z0-9\-._~!$&'()*+,;=:@/?%]*$/;

/** A host as the guest wrote it → canonical host, or why it was refused. */
export function parseHost(raw: string): Parsed<string> {
  const host = raw.toLowerCase();
  if (host === '') return bad('BAD_HOST', 'the request names no host');
  const ip = canonicalIp(host);
  if (ip !== null) return { ok: true, value: ip };
  if (host.startsWith('[') || host.includes(':')) return bad('BAD_HOST', `${raw} is not a valid IPv6 address`);
  if (isOddIpSpelling(host)) {
    return bad('NON_CANONICAL_IP', `${raw} spells an IP address in decimal, octal or hex: write IPv4 as four dotted decimal numbers`);
  }
  if (host.endsWith('.')) return bad('BAD_HOST', `drop the trailing dot from ${raw}`);
  if (host.length > 253 || !host.split('.').every((l) => LABEL.test(l))) {
    return bad('BAD_HOST', `${raw} is not a host name (a-z, 0-9, -; punycode for other letters)`);
  }
  return { ok: true, value: host };
}

function parsePort(raw: string | undefined, scheme: Scheme): Parsed<number> {
  if (raw === undefined || raw === '') return { ok: true, value: scheme === 'https' ? 443 : 80 };
  const port = /^[0-9]{1,5}$/.test(raw) ? Number(raw) : NaN;
  if (!(port >= 1 && port <= 65535)) return bad('BAD_PORT', `port ${raw} is not 1–65535`);
  return { ok: true, value: port };
}

/** `host:port` (or `[v6]:port`) → host and port. */
function parseAuthority(authority: string, scheme: Scheme): Parsed<{ host: string; port: number }> {
  if (authority.includes('@')) return bad('USERINFO', 'user info in the URL is refused: send credentials through a credentialed route');
  const m = /^(\[[^\]]*\]|[^:[\]]*)(?::([^:]*))?$/.exec(authority);
  if (m === null) return bad('BAD_HOST', `${authority} is not host[:port]`);
  const host = parseHost(m[1] ?? '');
  if (!host.ok) return host;
  const port = parsePort(m[2], scheme);
  if (!port.ok) return port;
  return { ok: true, value: { host: host.value, port: port.value } };
}

/**
 * Escapes an upstream may decode, re-decode or normalise into something else: `%25` (decoded twice
 * it is a fresh escape), `.` `/` `\` and `;` (dot segments, separators, matrix parameters),
 * controls and NUL, and every byte over 0x7f (overlong UTF-8 that lax decoders read as `.` or `/`,
 * full-width dots that NFKC folds into `.`, Latin-1 against UTF-8 readings).
 */
const AMBIGUOUS_ESCAPE = /^(?:[01][0-9a-f]|7f|[89a-f][0-9a-f]|25|2e|2f|5c|3b)$/;

/**
 * Refuses paths that an upstream could read differently from the gateway, as a class: only
 * printable ASCII, escapes only of characters that decode to themselves everywhere, no `;` (a
 * segment parameter to Tomcat and Spring: `/api/..;/x` is `/x` there), no dot segments.
 */
export function checkPath(path: string): Parsed<string> {
  if (!path.startsWith('/') || !PATH_CHARS.test(path)) {
    return bad('PATH_NOT_CANONICAL', 'the path must start with / and use URL-safe ASCII characters only (no \\, no raw non-ASCII bytes)');
  }
  if (path.includes(';')) {
    return bad('PATH_NOT_CANONICAL', 'the path holds ";", which some upstreams read as a segment parameter: send the query in ?… instead');
  }
  for (const m of path.matchAll(/%(.?.?)/g)) {
    const hex = (m[1] ?? '').toLowerCase();
    if (!/^[0-9a-f]{2}$/.test(hex) || AMBIGUOUS_ESCAPE.test(hex)) {
      return bad('PATH_NOT_CANONICAL', `the path holds %${m[1] ?? ''}, which upstreams decode differently: send . / and ; unencoded, and no %25, control or non-ASCII escapes`);
    }
  }
  // With the escapes above refused, decoding can't make a new dot segment; checked anyway on the
  // decoded form, since that is what an upstream routes by.
  if (decodeURIComponent(path).split('/').some((seg) => seg === '.' || seg === '..')) {
    return bad('PATH_NOT_CANONICAL', 'the path holds . or .. segments: send the path they stand for');
  }
  return { ok: true, value: path };
}

/** An absolute http(s) URL, as a proxy's request-target or a fetch() argument. */
export function parseAbsolute(url: string): Parsed<Target> {
  if (url.startsWith('/')) {
    return bad('ORIGIN_FORM', 'the proxy takes absolute-form requests (http://host/path): point HTTP_PROXY at it instead of calling it directly');
  }
  const m = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/([^/?#]*)([^?#]*)(\?[^#]*)?(#.*)?$/.exec(url);
  if (m === null) return bad('BAD_URL', `${url.slice(0, 200)} is not an absolute http URL`);
  const scheme = (m[1] ?? '').toLowerCase();
  if (scheme !== 'http' && scheme !== 'https') return bad('BAD_URL', `scheme ${scheme} is not egress: use http or https`);
  if (m[5] !== undefined) return bad('BAD_URL', 'a URL sent upstream carries no #fragment');
  const authority = parseAuthority(m[2] ?? '', scheme);
  if (!authority.ok) return authority;
  const path = checkPath(m[3] === '' || m[3] === undefined ? '/' : m[3]);
  if (!path.ok) return path;
  const search = m[4] ?? '';
  if (!QUERY_CHARS.test(search)) return bad('BAD_URL', 'the query must use URL-safe characters only (percent-encode the rest)');
  return { ok: true, value: { scheme, ...authority.value, path: path.value, search } };
}

/** CONNECT's authority-form target `host:port`; the port is required. */
export function parseConnect(target: string): Parsed<{ host: string; port: number }> {
  if (!/:[0-9]+$/.test(target)) return bad('BAD_URL', 'CONNECT takes host:port');
  return parseAuthority(target, 'https');
}

/** Methods the gateway forwards at all; a route may narrow them further. */
export function checkMethod(method: string): Parsed<string> {
  return (HTTP_METHODS as readonly string[]).includes(method)
    ? { ok: true, value: method }
    : bad('BAD_METHOD', `method ${method.slice(0, 20)} is not forwarded: use one of ${HTTP_METHODS.join(', ')}`);
}

/**
 * The Host header(s) must name the target's authority exactly once (default port optional), so
 * an upstream that routes by Host sees the host the gateway checked.
 */
export function checkHostHeader(values: readonly string[], target: { host: string; port: number; scheme: Scheme }): Parsed<null> {
  if (values.length > 1) return bad('HOST_MISMATCH', 'the request has more than one Host header');
  const value = values[0];
  if (value === undefined) return { ok: true, value: null };
  const given = parseAuthority(value, target.scheme);
  if (!given.ok || given.value.host !== target.host || given.value.port !== target.port) {
    return bad('HOST_MISMATCH', `the Host header ${value.slice(0, 100)} does not match the URL's host ${target.host}:${target.port}: send them equal`);
  }
  return { ok: true, value: null };
}
