/**
 * Reads a container probe's report: each question's observed answer, with what the probe saw.
 * Pure: the report, the bait's hits and the second tenant's facts in; findings out.
 */
import type { BaitHits } from './bait.ts';
import type { ContainerReport } from './probe-container.ts';
import { no, yes, type Finding } from './questions.ts';
import { redact, secretLikeEnv, secretLikePath } from './secret-like.ts';

/** What the host knows about the two tenants' sandboxes. */
export interface TenantFacts {
  /** The second tenant's mark; the probed sandbox must never see it. */
  readonly token: string;
  /** Where tenant B planted it (from B's own report), or why it could not. */
  readonly planted: readonly string[] | string;
  readonly uidA: number | null;
  readonly uidB: number | null;
  /** The host-wide run directory, under which every sandbox's workspace is mounted. */
  readonly runDir: string;
}

/** Variables airlock itself sets (src/container/spec.ts, trust.ts) and the egress proxy's. */
const AIRLOCK_ENV = new Set(['PATH', 'HOME', 'TMPDIR', 'LANG', 'SSL_CERT_FILE', 'REQUESTS_CA_BUNDLE', 'PIP_CERT', 'NODE_OPTIONS', 'HTTP_PROXY', 'HTTPS_PROXY', 'http_proxy', 'https_proxy', 'ALL_PROXY', 'all_proxy', 'NO_PROXY', 'no_proxy', 'NODE_USE_ENV_PROXY']);
/** Mount points every container sandbox has (the CA bundle: src/container/trust.ts). */
const EXPECTED_MOUNTS = new Set(['/', '/usr', '/etc', '/etc/ssl/certs/ca-certificates.crt', '/proc', '/dev', '/tmp', '/workspace', '/run/airlock/egress.sock']);
const DENIED_BY_GATEWAY = new Set(['EGRESS_NOT_GRANTED', 'EGRESS_ADDRESS_REFUSED', 'EGRESS_BAD_REQUEST']);

const list = (xs: readonly string[], none = 'none') => (xs.length === 0 ? none : xs.join(', '));

export function containerSecrets(r: ContainerReport, canaryEnv: string): Finding {
  const found: string[] = [];
  const leakedIn = r.procs.filter((p) => p.env?.some((e) => e.startsWith(`${canaryEnv}=`))).map((p) => `pid ${p.pid}`);
  if (Object.hasOwn(r.env, canaryEnv)) leakedIn.push('its own environment');
  if (leakedIn.length > 0) found.push(`the host's canary variable is visible in ${leakedIn.join(', ')}`);
  for (const [name, value] of Object.entries(r.env)) {
    const why = AIRLOCK_ENV.has(name) ? null : secretLikeEnv(name, value);
    if (why !== null) found.push(`${name}=${redact(value)} is in its environment (${why})`);
  }
  const readable = [...r.paths.filter((p) => p.ok && (secretLikePath(p.path) || p.label === 'host /etc/shadow')).map((p) => p.path), ...r.files.filter(secretLikePath)];
  if (readable.length > 0) found.push(`it can read ${list([...new Set(readable)].slice(0, 6))}`);
  if (found.length > 0) return yes(found.join('; '));
  const shadow = r.paths.find((p) => p.label === 'host /etc/shadow');
  return no(
    `its environment holds only ${list(Object.keys(r.env))}; the host's canary variable is in none of its ${r.procs.length} process(es); ` +
      `/etc/shadow: ${shadow?.ok === false ? (shadow.error ?? 'denied') : 'absent'}; no credential file among ${r.files.length} readable file(s)`,
  );
}

export function containerNetwork(r: ContainerReport, hits: BaitHits): Finding {
  const found: string[] = [];
  if (hits.connections > 0 || hits.datagrams > 0) found.push(`the host's loopback bait saw ${hits.connections} connection(s) and ${hits.datagrams} datagram(s)`);
  for (const t of r.tcp.filter((t) => t.ok)) found.push(`a direct socket to ${t.label} ${t.target} connected`);
  for (const d of r.dns.filter((d) => d.ok)) found.push(`DNS resolved ${d.name} to ${list(d.addrs ?? [])}`);
  const ifaces = (r.net.ifaces ?? []).filter((i) => i !== 'lo');
  if (ifaces.length > 0 || (r.net.routes ?? 0) > 0) found.push(`it has interfaces ${list(ifaces)} and ${r.net.routes ?? 0} route(s)`);
  for (const h of r.http.filter((h) => h.status !== undefined && !DENIED_BY_GATEWAY.has(h.code ?? ''))) found.push(`${h.label}: ${h.url} → ${h.status} (${h.via})`);
  if (found.length > 0) return yes(found.join('; '));
  const tcp = r.tcp.map((t) => `${t.label} ${t.error ?? '?'}`).join(', ');
  const http = r.http.map((h) => `${h.label} ${h.code ?? h.error ?? h.status ?? '?'}`).join(', ');
  return no(
    `interfaces: ${list(r.net.ifaces ?? [])}, ${r.net.routes ?? 0} route(s); direct sockets: ${tcp}; DNS: ${r.dns.map((d) => `${d.name} ${d.error ?? ''}`).join(', ')}; ` +
      `http (${r.http[0]?.via ?? 'direct'}): ${http}; the host's bait saw 0 connections and 0 datagrams`,
  );
}

export function containerFiles(r: ContainerReport, token: string): Finding {
  const own = new Set(["tenant B's workspace", 'sandboxes dir', 'audit log']);
  const found: string[] = [];
  for (const p of r.paths.filter((p) => p.ok && !own.has(p.label))) {
    const sample = Array.isArray(p.sample) ? `[${(p.sample as readonly string[]).slice(0, 4).join(', ')}…]` : 'read';
    found.push(`${p.label} ${p.path}: ${p.kind === 'dir' ? `listed ${sample}` : 'read'}`);
  }
  if (r.paths.some((p) => typeof p.sample === 'string' && p.sample.includes(token))) found.push("the host's canary file was read");
  const extra = r.mounts.filter((m) => !EXPECTED_MOUNTS.has(m) && !m.startsWith('/proc/') && !m.startsWith('/dev/'));
  if (extra.length > 0) found.push(`extra mounts: ${list(extra)}`);
  if (found.length > 0) return yes(found.join('; '));
  const tried = r.paths.filter((p) => !own.has(p.label)).map((p) => `${p.path} ${p.error ?? '?'}`).join(', ');
  return no(`mounts: ${list(r.mounts)}; ${tried}`);
}

export function containerTenants(r: ContainerReport, t: TenantFacts): Finding {
  const found: string[] = [];
  for (const m of r.marks.filter((m) => m.content?.includes(t.token) === true)) found.push(`found tenant B's mark at ${m.path}`);
  if (r.procs.some((p) => p.cmd?.includes(t.token) === true)) found.push("tenant B's processes are visible in /proc");
  for (const p of r.paths.filter((p) => p.ok && (p.label === "tenant B's workspace" || p.label === 'sandboxes dir' || p.label === 'audit log'))) found.push(`${p.label} ${p.path} is readable`);
  // Another sandbox's workspace tmpfs, wherever a grant put the run directory.
  const others = r.mounts.filter((m) => m.startsWith(`${t.runDir}/sandboxes/`) || /\/sandboxes\/sbx_[^/]+\/workspace$/.test(m));
  if (others.length > 0) found.push(`it sees ${others.length} other sandbox workspace mount(s) (${list(others.slice(0, 2))}…)`);
  if (t.uidA !== null && t.uidA === t.uidB) found.push(`both tenants run as host uid ${t.uidA}`);
  if (found.length > 0) return yes(found.join('; '));
  const planted = typeof t.planted === 'string' ? `tenant B could not plant marks (${t.planted})` : `tenant B planted marks in ${t.planted.length} writable place(s) (${list(t.planted.slice(0, 3))}…)`;
  const ws = r.paths.find((p) => p.label === "tenant B's workspace");
  return no(
    `${planted}; the probed sandbox walked ${r.walked} entries and found none; B's workspace: ${ws?.error ?? 'not tried'}; ` +
      `it sees ${r.procs.length} process(es), all its own; host uids: A ${t.uidA ?? '?'}, B ${t.uidB ?? '?'}`,
  );
}
