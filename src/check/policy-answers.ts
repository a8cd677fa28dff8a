/**
 * The policy's side of the five answers: what the compiled policy grants, for one tier. Pure: it
 * reads the policy and the host facts it is given, nothing else.
 */
import type { Tier } from '../core/result.ts';
import type { CompiledPolicy } from '../policy/compile.ts';
import type { CompiledRoute } from '../policy/network.ts';
import { policySchema } from '../policy/schema.ts';
import { overBudget, TIER_LIMITS, type ResourceBudget } from './budget.ts';
import { cordonReach, ownReach } from './escape-reach.ts';
import { no, yes, type Finding, type Question } from './questions.ts';
import { redact, secretLikeEnv, secretLikePath } from './secret-like.ts';

/** Host paths the answers depend on. */
export interface HostFacts {
  /** The host user's home directory. */
  readonly home: string;
  /** AIRLOCK_HOME: the audit log (every tenant's code) and caches. */
  readonly airlockHome: string;
  /** The host-wide run directory: every sandbox's workspace and uid locks. */
  readonly runDir: string;
  readonly budget: ResourceBudget;
  /** The isolate trust cordon the host put the checked tenant in (isolate/cordons.ts), and how many others it holds; null: none. */
  readonly cordon: { readonly name: string; readonly mates: number } | null;
}

function overlaps(a: string, b: string): boolean {
  const under = (p: string, d: string) => p === d || p.startsWith(d === '/' ? '/' : `${d}/`);
  return under(a, b) || under(b, a);
}

/** "GET,POST https://api.github.com:443/repos/acme/*" */
export function describeRoute(r: CompiledRoute): string {
  const host = r.host.kind === 'exact' ? r.host.host : r.host.kind === 'ip' ? r.host.address : `*${r.host.suffix}`;
  const methods = r.methods === null ? 'any method' : [...r.methods].join(',');
  const paths = r.paths === null ? '/*' : r.paths.map((p) => `${p}*`).join(' ');
  const fwd = r.forward === null ? '' : ` → ${r.forward.scheme}://${r.forward.host.kind === 'ip' ? r.forward.host.address : r.forward.host.host}:${r.forward.port}`;
  const secret = r.forward?.credential ? ` (the host attaches secret "${r.forward.credential.secret}")` : '';
  return `${methods} ${r.scheme}://${host}:${r.port}${paths}${fwd}${secret}`;
}

function grantsOf(policy: CompiledPolicy) {
  const doc = policySchema.parse(policy.document);
  return { files: doc.files ?? [], env: doc.env ?? {}, secrets: Object.keys(doc.secrets ?? {}) };
}

function secrets(tier: Tier, policy: CompiledPolicy, host: HostFacts): Finding {
  const g = grantsOf(policy);
  const held = g.secrets.length === 0 ? '' : `; secret(s) ${g.secrets.join(', ')} stay on the host and are attached by the egress gateway`;
  if (tier === 'isolate') return no(`an isolate has no environment and no files; the policy's env and files apply to the container tier only${held}`);
  const found: string[] = [];
  for (const [name, value] of Object.entries(g.env)) {
    const why = secretLikeEnv(name, value);
    if (why !== null) found.push(`env grants ${name}=${redact(value)} (${why})`);
  }
  for (const f of g.files) {
    const hostSecret = [host.home, '/root', '/etc/shadow'].find((p) => overlaps(f.path, p) && f.path !== '/');
    if (secretLikePath(f.path) || hostSecret !== undefined) found.push(`files grants ${f.path}, where credentials live`);
  }
  if (found.length > 0) return yes(found.join('; '));
  return no(`no env variable or host path that holds a credential is granted${held}`);
}

function network(policy: CompiledPolicy): Finding {
  const send = [...policy.tools.values()].filter((t) => t.operation === 'send').map((t) => t.name);
  const via = send.length === 0 ? '' : `; host tools that send on its behalf: ${send.join(', ')}`;
  if (policy.routes.length === 0) return no(`no egress route is granted${via}`);
  return yes(`only ${policy.routes.map(describeRoute).join('; ')}${via}`);
}

function files(tier: Tier, policy: CompiledPolicy): Finding {
  const g = grantsOf(policy);
  if (tier === 'isolate') return no('an isolate has no file system at all');
  if (g.files.length === 0) return no('only its workspace, a private /tmp, the read-only system image (/usr) and a synthetic /etc (with the public CA bundle of the host)');
  return yes(`read-only host paths: ${g.files.map((f) => (f.at === undefined ? f.path : `${f.path} at ${f.at}`)).join(', ')}`);
}

function tenants(tier: Tier, policy: CompiledPolicy, host: HostFacts): Finding {
  const g = grantsOf(policy);
  const shared = [host.runDir, host.airlockHome, '/sys/fs/cgroup'];
  const hits = tier === 'container' ? g.files.filter((f) => shared.some((s) => overlaps(f.path, s))) : [];
  if (hits.length > 0) {
    return yes(`files grants ${hits.map((f) => f.path).join(', ')}, which holds other sandboxes' workspaces, cgroups or the audit log of every tenant`);
  }
  const tools = policy.tools.size === 0 ? '' : '; granted tools are host functions: whether a handler shares state across tenants is the host\'s code';
  if (tier === 'isolate' && host.cordon !== null) return yes(`${cordonReach(host.cordon.name, host.cordon.mates)}${tools}`);
  const own = tier === 'isolate' ? 'its own worker processes (own uid and cgroup) and a fresh isolate per run' : 'its own uid, workspace, cgroup and namespaces';
  const reach = tier === 'isolate' ? `; ${ownReach()}` : '';
  return no(`each tenant gets ${own}; the policy grants no path of airlock's shared state${tools}${reach}`);
}

function resources(tier: Tier, policy: CompiledPolicy, host: HostFacts): Finding {
  const over = overBudget(tier, policy.limits, host.budget);
  if (over.length > 0) return yes(over.map((o) => `${o.name} ${o.value} is over the budget of ${o.budget}`).join('; '));
  return no(`every limit is within the budget: ${TIER_LIMITS[tier].map((k) => `${k} ${policy.limits[k]}`).join(', ')}`);
}

/**
 * @example
 *   const f = policyAnswers('container', compilePolicy({ version: 1, env: { GITHUB_TOKEN: 'ghp_…' } }), facts);
 *   f.secrets.answer // 'yes'
 */
export function policyAnswers(tier: Tier, policy: CompiledPolicy, host: HostFacts): Record<Question, Finding> {
  return {
    secrets: secrets(tier, policy, host),
    network: network(policy),
    files: files(tier, policy),
    tenants: tenants(tier, policy, host),
    resources: resources(tier, policy, host),
  };
}
