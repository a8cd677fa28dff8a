/**
 * Network egress as routes, and the secrets that credentialed routes name. Default: no route, so
 * no egress. Pure: parsing, compiling and deciding only; the egress gateway enforces.
 *
 * A route grants one host pattern (exact, or one leading `*.` label wildcard), one scheme and one
 * port, optionally narrowed to methods and path prefixes, with optional quotas. A credentialed
 * route forwards to an upstream origin and attaches a secret the host holds: the policy names
 * the secret, the host supplies its value.
 */
import { isIPv4, isIPv6 } from 'node:net';
import { z } from 'zod';
import type { ErrorCode } from '../core/errors.ts';
import { caSchema } from './ca.ts';

export const HTTP_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;
export type HttpMethod = (typeof HTTP_METHODS)[number];
export type Scheme = 'http' | 'https';

/** Secret and route names are identifiers: they appear in audit events and messages. */
export const SECRET_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
const ROUTE_NAME = /^[A-Za-z0-9_.-]{1,64}$/;

export const secretGrantSchema = z.strictObject({ description: z.string().max(1000).optional() });

const credentialSchema = z.strictObject({
  /** A key of policy.secrets; the host's SecretSource supplies the value. */
  secret: z.string().regex(SECRET_NAME, 'a secret name is an identifier: letters, digits, _'),
  /** The request header the secret goes into (default `authorization`). */
  header: z.string().regex(/^[A-Za-z0-9-]{1,64}$/, 'a header name is letters, digits and -').optional(),
  /** The header's value, with `{secret}` where the secret goes (default `Bearer {secret}`). */
  format: z.string().max(200).optional(),
});

export const routeSchema = z.strictObject({
  name: z.string().regex(ROUTE_NAME, 'a route name is 1–64 of A-Z a-z 0-9 _ . -').optional(),
  host: z.string().min(1).max(253),
  scheme: z.enum(['http', 'https']).optional(),
  port: z.number().int().min(1).max(65535).optional(),
  /** Unset: any method. A CONNECT tunnel hides methods, so a restricted https route takes no tunnel. */
  methods: z.array(z.enum(HTTP_METHODS)).min(1).max(HTTP_METHODS.length).optional(),
  /** Path prefixes, segment-aware (`/a` grants `/a` and `/a/x`, not `/ab`). Unset: any path. */
  paths: z.array(z.string().max(1024)).min(1).max(64).optional(),
  /** Special-use addresses (loopback, private, …) this route may reach when its name resolves to them. */
  addresses: z.array(z.string().max(64)).min(1).max(16).optional(),
  quota: z
    .strictObject({ requests: z.number().int().min(0).max(1e9).optional(), bytes: z.number().int().min(0).max(2 ** 50).optional() })
    .optional(),
  /** The proxy pattern: the guest calls this route in plain http; the host forwards to `to`. */
  forward: z.strictObject({ to: z.string().max(2048), credential: credentialSchema.optional() }).optional(),
});

export const networkSchema = z.strictObject({
  routes: z.array(routeSchema).max(256),
  /** Container tier: CA certificates (PEM text or host paths) the guest's TLS trusts besides the host's store (src/policy/ca.ts). */
  ca: caSchema.optional(),
});

export type RouteDocument = z.infer<typeof routeSchema>;
export type NetworkDocument = z.infer<typeof networkSchema>;
export type SecretGrant = z.infer<typeof secretGrantSchema>;

export type HostPattern =
  | { readonly kind: 'exact'; readonly host: string }
  | { readonly kind: 'wildcard'; readonly suffix: string }
  | { readonly kind: 'ip'; readonly address: string };

export interface CompiledCredential {
  readonly secret: string;
  readonly header: string;
  readonly prefix: string;
  readonly suffix: string;
}

export interface CompiledForward {
  readonly scheme: Scheme;
  readonly host: HostPattern & { readonly kind: 'exact' | 'ip' };
  readonly port: number;
  readonly credential: CompiledCredential | null;
}

export interface CompiledRoute {
  readonly name: string;
  readonly host: HostPattern;
  readonly scheme: Scheme;
  readonly port: number;
  readonly methods: ReadonlySet<string> | null;
  readonly paths: readonly string[] | null;
  readonly addresses: ReadonlySet<string>;
  readonly quota: { readonly requests: number | null; readonly bytes: number | null };
  readonly forward: CompiledForward | null;
}

/**
 * A small built-in list of public suffixes a wildcard may not sit on (every single label is
 * treated as one too). It is not the whole Public Suffix List: it names the common ones.
 */
const PUBLIC_SUFFIXES: ReadonlySet<string> = new Set([
  'co.uk', 'org.uk', 'ac.uk', 'gov.uk', 'me.uk', 'com.au', 'net.au', 'org.au', 'co.jp', 'ne.jp', 'or.jp',
  'com.br', 'com.cn', 'com.mx', 'co.in', 'co.nz', 'co.za', 'com.tr', 'co.kr', 'com.sg', 'com.hk',
  'github.io', 'gitlab.io', 'herokuapp.com', 'appspot.com', 'azurewebsites.net', 'cloudfront.net',
  'amazonaws.com', 's3.amazonaws.com', 'compute.amazonaws.com', 'vercel.app', 'netlify.app', 'pages.dev',
  'workers.dev', 'web.app', 'firebaseapp.com', 'blogspot.com', 'fly.dev', 'onrender.com', 'ngrok.io',
  'ngrok-free.app', 'r2.dev', 'azureedge.net', 'googleusercontent.com', 'cloudflare-ipfs.com',
]);
const TLD_LIKE: ReadonlySet<string> = new Set(['com', 'net', 'org', 'io', 'dev', 'app', 'co', 'ai', 'uk', 'de', 'eu', 'us']);

const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;
/** Any label an IPv4 parser would read as a number (WHATWG and inet_aton: decimal, 0octal, 0xhex). */
const NUMERIC_LABEL = /^(0x[0-9a-f]*|[0-9]+)$/;

/** Canonical text of an IP literal (IPv6 compressed, lower case), or null when `host` is not one. */
export function canonicalIp(host: string): string | null {
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  // A zone id (fe80::1%eth0) names an interface, not an address: never an egress target.
  if (bare.includes('%')) return null;
  if (isIPv4(bare)) return bare;
  if (isIPv6(bare)) return new URL(`http://[${bare}]/`).hostname.slice(1, -1);
  return null;
}

/** True when a host is a number or dotted numbers in a spelling other than dotted decimal (`2130706433`, `0177.1`). */
export function isOddIpSpelling(host: string): boolean {
  const labels = host.split('.');
  return canonicalIp(host) === null && NUMERIC_LABEL.test(labels[labels.length - 1] ?? '');
}

/** Parses one host pattern; returns a message saying what to change when it is refused. */
export function parseHostPattern(raw: string): HostPattern | string {
  const host = raw.toLowerCase();
  if (host === '*' || host === '*.') return 'a bare * grants the whole internet: name the hosts';
  const ip = canonicalIp(host);
  if (ip !== null) return { kind: 'ip', address: ip };
  if (host.includes(':') || host.includes('[')) return 'not a valid IPv6 address';
  if (isOddIpSpelling(host)) return 'write an IPv4 address as four dotted decimal numbers (e.g. 10.0.0.1)';
  const wildcard = host.startsWith('*.');
  const name = wildcard ? host.slice(2) : host;
  if (name.endsWith('.')) return 'drop the trailing dot';
  const labels = name.split('.');
  if (labels.length > 127 || name.length > 253 || !labels.every((l) => LABEL.test(l))) {
    return 'not a host name: labels of a-z 0-9 - (use punycode for other letters); only one leading *. wildcard';
  }
  if (PUBLIC_SUFFIXES.has(name) || TLD_LIKE.has(name)) return `"${name}" is a public suffix: name a host under it`;
  if (wildcard && labels.length < 2) return `*.${name} covers a whole top-level domain: name a domain under it`;
  return wildcard ? { kind: 'wildcard', suffix: `.${name}` } : { kind: 'exact', host: name };
}

/** Does a canonical host match a pattern? A wildcard matches one or more labels, never the bare suffix. */
export function hostMatches(pattern: HostPattern, host: string): boolean {
  switch (pattern.kind) {
    case 'exact':
      return host === pattern.host;
    case 'ip':
      return host === pattern.address;
    case 'wildcard':
      return host.endsWith(pattern.suffix) && host.length > pattern.suffix.length;
  }
}

interface Problem {
  path: string;
  message: string;
}

/**
 * Compiles `policy.network` against `policy.secrets`, pushing each problem with its path.
 *
 * @example
 *   compileRoutes({ routes: [{ host: 'api.example.com' }] }, {}, problems) // one https route on 443
 */
export function compileRoutes(
  network: NetworkDocument | undefined,
  secrets: Readonly<Record<string, SecretGrant>> | undefined,
  problems: Problem[],
): readonly CompiledRoute[] {
  const routes: CompiledRoute[] = [];
  const names = new Set<string>();
  for (const [i, doc] of (network?.routes ?? []).entries()) {
    const at = `network.routes.${i}`;
    const before = problems.length;
    const host = parseHostPattern(doc.host);
    if (typeof host === 'string') problems.push({ path: `${at}.host`, message: host });
    const scheme = doc.scheme ?? 'https';
    const name = doc.name ?? `${scheme}://${doc.host}${doc.port === undefined ? '' : `:${doc.port}`}`;
    if (names.has(name)) problems.push({ path: `${at}.name`, message: `route name "${name}" is used twice: give each route its own name` });
    names.add(name);
    const paths = doc.paths ?? null;
    for (const [j, p] of (paths ?? []).entries()) {
      if (!p.startsWith('/') || /%|\\|\/\.\.?(\/|$)|[?#]/.test(p)) {
        problems.push({ path: `${at}.paths.${j}`, message: 'a path prefix starts with / and has no %, \\, ?, #, . or .. segments' });
      }
    }
    const addresses = new Set<string>();
    for (const [j, a] of (doc.addresses ?? []).entries()) {
      const ip = canonicalIp(a);
      if (ip === null) problems.push({ path: `${at}.addresses.${j}`, message: 'not an IP address: write it as dotted decimal or IPv6' });
      else addresses.add(ip);
    }
    if (typeof host !== 'string' && host.kind === 'ip') addresses.add(host.address);
    const forward = doc.forward === undefined ? null : compileForward(doc.forward, scheme, secrets, `${at}.forward`, problems);
    if (forward !== null && forward.host.kind === 'ip') addresses.add(forward.host.address);
    if (problems.length > before || typeof host === 'string') continue;
    routes.push(
      Object.freeze({
        name,
        host,
        scheme,
        port: doc.port ?? (scheme === 'https' ? 443 : 80),
        methods: doc.methods === undefined ? null : new Set<string>(doc.methods),
        paths,
        addresses,
        quota: { requests: doc.quota?.requests ?? null, bytes: doc.quota?.bytes ?? null },
        forward,
      }),
    );
  }
  return Object.freeze(routes);
}

function compileForward(
  doc: NonNullable<RouteDocument['forward']>,
  scheme: Scheme,
  secrets: Readonly<Record<string, SecretGrant>> | undefined,
  at: string,
  problems: Problem[],
): CompiledForward | null {
  if (scheme !== 'http') problems.push({ path: at, message: "the guest calls a forward route in plain http: set the route's scheme to 'http'" });
  const url = URL.canParse(doc.to) ? new URL(doc.to) : null;
  if (url === null || (url.protocol !== 'http:' && url.protocol !== 'https:') || url.username !== '' || url.password !== '') {
    problems.push({ path: `${at}.to`, message: 'write an http(s) origin without user info, e.g. https://api.github.com' });
    return null;
  }
  if (url.pathname !== '/' || url.search !== '' || url.hash !== '') {
    problems.push({ path: `${at}.to`, message: 'forward to an origin only (no path, query or fragment): the guest supplies the path' });
  }
  const raw = /^[a-z]+:\/\/([^/:]+|\[[^\]]+\])/i.exec(doc.to)?.[1] ?? '';
  const host = parseHostPattern(raw);
  if (typeof host === 'string' || host.kind === 'wildcard') {
    problems.push({ path: `${at}.to`, message: typeof host === 'string' ? host : 'forward to one exact host, not a wildcard' });
    return null;
  }
  const cred = doc.credential;
  if (cred !== undefined && (secrets === undefined || !Object.hasOwn(secrets, cred.secret))) {
    problems.push({ path: `${at}.credential.secret`, message: `secret "${cred.secret}" is not granted: add it to policy.secrets` });
  }
  const format = cred?.format ?? 'Bearer {secret}';
  const parts = format.split('{secret}');
  if (parts.length !== 2 || /[\r\n]/.test(format)) {
    problems.push({ path: `${at}.credential.format`, message: 'the format holds {secret} exactly once and no line breaks' });
  }
  const protocol = url.protocol === 'https:' ? 'https' : 'http';
  return {
    scheme: protocol,
    host,
    port: url.port === '' ? (protocol === 'https' ? 443 : 80) : Number(url.port),
    credential:
      cred === undefined ? null : { secret: cred.secret, header: (cred.header ?? 'authorization').toLowerCase(), prefix: parts[0] ?? '', suffix: parts[1] ?? '' },
  };
}

/** One knock on the network door, in canonical form (the gateway canonicalises before asking). */
export interface EgressAsk {
  /** `request`: the gateway sees method and path; `tunnel`: CONNECT, host and port only. */
  readonly kind: 'request' | 'tunnel';
  readonly scheme: Scheme;
  readonly method: string;
  readonly host: string;
  readonly port: number;
  readonly path: string;
  /** What this sandbox has used so far, per route name. */
  readonly usage: ReadonlyMap<string, { readonly requests: number; readonly bytes: number }>;
}

export type EgressWhy =
  | 'HOST_NOT_GRANTED'
  | 'SCHEME_NOT_GRANTED'
  | 'PORT_NOT_GRANTED'
  | 'METHOD_NOT_GRANTED'
  | 'PATH_NOT_GRANTED'
  | 'TUNNEL_NOT_INSPECTABLE'
  | 'QUOTA_REQUESTS'
  | 'QUOTA_BYTES';

export type EgressDecision =
  | { readonly allow: true; readonly reason: 'ROUTE_GRANTED'; readonly route: CompiledRoute }
  | { readonly allow: false; readonly code: ErrorCode; readonly why: EgressWhy; readonly reason: string; readonly route: CompiledRoute | null };

// How far a route got in matching: a denial names the furthest step reached.
const STEPS = ['HOST_NOT_GRANTED', 'SCHEME_NOT_GRANTED', 'PORT_NOT_GRANTED', 'TUNNEL_NOT_INSPECTABLE', 'METHOD_NOT_GRANTED', 'PATH_NOT_GRANTED'] as const;

function pathGranted(prefixes: readonly string[], path: string): boolean {
  return prefixes.some((p) => path === p || path.startsWith(p.endsWith('/') ? p : `${p}/`));
}

function stepOf(route: CompiledRoute, ask: EgressAsk): number {
  if (!hostMatches(route.host, ask.host)) return 0;
  if (route.scheme !== ask.scheme) return 1;
  if (route.port !== ask.port) return 2;
  if (ask.kind === 'tunnel' && (route.methods !== null || route.paths !== null || route.forward !== null)) return 3;
  if (ask.kind === 'request' && route.methods !== null && !route.methods.has(ask.method)) return 4;
  if (ask.kind === 'request' && route.paths !== null && !pathGranted(route.paths, ask.path)) return 5;
  return 6;
}

/**
 * Allow or deny one egress knock against compiled routes; the first route that grants it wins.
 * Address checks come after, in the gateway, once the name is resolved.
 *
 * @example
 *   decideEgress(policy.routes, { kind: 'request', scheme: 'http', method: 'GET', host: 'github.airlock', port: 80, path: '/repos/acme/x', usage: new Map() })
 */
export function decideEgress(routes: readonly CompiledRoute[], ask: EgressAsk): EgressDecision {
  let best = 0;
  let bestRoute: CompiledRoute | null = null;
  for (const route of routes) {
    const step = stepOf(route, ask);
    if (step === STEPS.length) return quota(route, ask);
    if (step > best || bestRoute === null) [best, bestRoute] = [step, step > 0 ? route : null];
  }
  const why = STEPS[best] ?? 'HOST_NOT_GRANTED';
  const target = `${ask.kind === 'tunnel' ? 'CONNECT' : ask.method} ${ask.scheme}://${ask.host}:${ask.port}${ask.path}`;
  const fix: Record<(typeof STEPS)[number], string> = {
    HOST_NOT_GRANTED: `add a route for host ${ask.host} to policy.network.routes`,
    SCHEME_NOT_GRANTED: `route "${bestRoute?.name ?? ''}" grants ${bestRoute?.scheme ?? ''}, not ${ask.scheme}`,
    PORT_NOT_GRANTED: `route "${bestRoute?.name ?? ''}" grants port ${bestRoute?.port ?? 0}, not ${ask.port}`,
    TUNNEL_NOT_INSPECTABLE: `route "${bestRoute?.name ?? ''}" restricts methods or paths (or forwards), which a CONNECT tunnel would hide: call it in plain http`,
    METHOD_NOT_GRANTED: `add ${ask.method} to the methods of route "${bestRoute?.name ?? ''}"`,
    PATH_NOT_GRANTED: `add a prefix of ${ask.path} to the paths of route "${bestRoute?.name ?? ''}"`,
  };
  return { allow: false, code: 'EGRESS_NOT_GRANTED', why, reason: `network egress ${target} is not granted: ${fix[why]}`, route: bestRoute };
}

function quota(route: CompiledRoute, ask: EgressAsk): EgressDecision {
  const used = ask.usage.get(route.name) ?? { requests: 0, bytes: 0 };
  if (route.quota.requests !== null && used.requests >= route.quota.requests) {
    return { allow: false, code: 'EGRESS_QUOTA', why: 'QUOTA_REQUESTS', route, reason: `route "${route.name}" allows ${route.quota.requests} request(s) and all were used: raise its quota.requests` };
  }
  if (route.quota.bytes !== null && used.bytes >= route.quota.bytes) {
    return { allow: false, code: 'EGRESS_QUOTA', why: 'QUOTA_BYTES', route, reason: `route "${route.name}" allows ${route.quota.bytes} byte(s) and all were used: raise its quota.bytes` };
  }
  return { allow: true, reason: 'ROUTE_GRANTED', route };
}
