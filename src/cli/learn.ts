/**
 * `airlock run --learn`: from one run's violations and the audit decisions of that run, the
 * smallest policy that would have let the run through, as a diff against the given one. It never
 * grants anything by itself: it prints, and a person applies the diff.
 *
 * It sees the doors the code knocked on in this run. Code that stops at its first denial shows only
 * that one: apply the diff and run --learn again to find the next.
 */
import type { AuditEvent } from '../audit/event.ts';
import { SqliteAuditStore } from '../audit/sqlite-store.ts';
import { tenantId } from '../audit/store.ts';
import type { RunResult } from '../core/result.ts';
import type { RouteDocument } from '../policy/network.ts';
import type { LimitsDocument, PolicyDocument, ToolGrant } from '../policy/schema.ts';

export interface LearnInput {
  readonly policy: PolicyDocument;
  readonly result: RunResult;
  /** The audit events of the run (decisions are used; others are ignored). */
  readonly events: readonly AuditEvent[];
  /** The host's description of its tools; a learned tool grant copies its entry from here. */
  readonly catalog?: Readonly<Record<string, ToolGrant>>;
}

export interface Learned {
  /** One line per grant, e.g. `tools.getRepo`, `network.routes: GET http://api.example.com/repos/acme`. */
  readonly grants: readonly string[];
  /** The given policy with the grants applied. */
  readonly policy: PolicyDocument;
  /** A line diff of the two policies as pretty JSON. */
  readonly diff: string;
  /** What was denied that no grant can fix, or that needs a person's choice. */
  readonly notes: readonly string[];
}

type Decision = Extract<AuditEvent, { kind: 'decision' }>;
const ROUTE_DENIALS = new Set(['HOST_NOT_GRANTED', 'SCHEME_NOT_GRANTED', 'PORT_NOT_GRANTED', 'METHOD_NOT_GRANTED', 'PATH_NOT_GRANTED', 'TUNNEL_NOT_INSPECTABLE', 'EGRESS_NOT_GRANTED']);
const LIMIT_OF: Readonly<Record<string, keyof LimitsDocument>> = { WALL_TIMEOUT: 'wallMs', CPU_TIMEOUT: 'cpuMs', MEMORY_LIMIT: 'memoryMiB', OUTPUT_LIMIT: 'outputBytes', LIMIT_TOOL_CALLS: 'toolCalls', LIMIT_TOOL_ARG_BYTES: 'toolArgBytes', LIMIT_DENIALS: 'denials', RESULT_TOO_LARGE: 'resultBytes' };
const PLACEHOLDER: ToolGrant = { operation: 'read', args: {}, description: 'learned by --learn: set its operation and narrow its args schema before applying' };

interface Knock {
  readonly method: string;
  readonly scheme: 'http' | 'https';
  readonly host: string;
  readonly port: number;
  readonly path: string;
}

function knockOf(d: Decision): Knock | null {
  const detail = d.detail ?? {};
  const [method, scheme, host, port, path] = [detail['method'], detail['scheme'], detail['host'], detail['port'], detail['path']];
  if (typeof method === 'string' && (scheme === 'http' || scheme === 'https') && typeof host === 'string' && host !== '' && typeof port === 'number' && typeof path === 'string') {
    return { method, scheme, host, port, path: path.split('?')[0] ?? '/' };
  }
  // The bridge's no-route denial names only the URL.
  if (!URL.canParse(d.subject)) return null;
  const url = new URL(d.subject);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return null;
  const s = url.protocol === 'https:' ? 'https' : 'http';
  return { method: 'GET', scheme: s, host: url.hostname.replace(/^\[|\]$/g, ''), port: url.port === '' ? (s === 'https' ? 443 : 80) : Number(url.port), path: url.pathname };
}

/** The smallest route for the knocks on one origin: exactly their methods and paths. */
function routeFor(knocks: readonly Knock[], taken: Set<string>): RouteDocument {
  const k = knocks[0] as Knock;
  const base = `learned.${k.host.replace(/[^A-Za-z0-9_.-]/g, '-')}`.slice(0, 60);
  let name = base;
  for (let i = 2; taken.has(name); i++) name = `${base}-${i}`;
  taken.add(name);
  return {
    name,
    host: k.host,
    scheme: k.scheme,
    ...(k.port === (k.scheme === 'https' ? 443 : 80) ? {} : { port: k.port }),
    methods: [...new Set(knocks.map((x) => x.method))] as RouteDocument['methods'],
    paths: [...new Set(knocks.map((x) => x.path))],
  };
}

/** Past this many table cells the middle of a diff is shown as removed, then added: still correct, just coarser. */
const LCS_CELLS = 1_000_000;

/**
 * A line diff (longest common subsequence) of two texts: ' ', '-' and '+' lines. The lines both
 * share at the start and the end are matched first, so a grant added to a policy of 20,000 lines
 * costs the few lines that changed, not 20,000 × 20,000 cells.
 */
export function lineDiff(before: string, after: string): string {
  // Lines are compared without a trailing comma, so a key added after the last one doesn't show
  // the line before it as removed and re-added.
  const bare = (l: string) => l.replace(/,$/, '');
  const aLines = before.split('\n');
  const bLines = after.split('\n');
  const a = aLines.map(bare);
  const b = bLines.map(bare);
  let head = 0;
  while (head < a.length && head < b.length && a[head] === b[head]) head++;
  let tail = 0;
  while (tail < a.length - head && tail < b.length - head && a[a.length - 1 - tail] === b[b.length - 1 - tail]) tail++;
  const out = bLines.slice(0, head).map((l) => `  ${l}`);
  out.push(...middleDiff(aLines.slice(head, aLines.length - tail), bLines.slice(head, bLines.length - tail), bare));
  out.push(...bLines.slice(bLines.length - tail).map((l) => `  ${l}`));
  return out.join('\n');
}

function middleDiff(aLines: readonly string[], bLines: readonly string[], bare: (l: string) => string): string[] {
  if ((aLines.length + 1) * (bLines.length + 1) > LCS_CELLS) return [...aLines.map((l) => `- ${l}`), ...bLines.map((l) => `+ ${l}`)];
  const a = aLines.map(bare);
  const b = bLines.map(bare);
  const lcs: number[][] = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
  for (let i = a.length - 1; i >= 0; i--) {
    for (let j = b.length - 1; j >= 0; j--) {
      const row = lcs[i] as number[];
      row[j] = a[i] === b[j] ? (lcs[i + 1]?.[j + 1] ?? 0) + 1 : Math.max(lcs[i + 1]?.[j] ?? 0, row[j + 1] ?? 0);
    }
  }
  const out: string[] = [];
  let [i, j] = [0, 0];
  while (i < a.length || j < b.length) {
    if (i < a.length && j < b.length && a[i] === b[j]) {
      out.push(`  ${bLines[j] ?? ''}`);
      i++;
      j++;
    } else if (j < b.length && (i >= a.length || (lcs[i]?.[j + 1] ?? 0) >= (lcs[i + 1]?.[j] ?? 0))) out.push(`+ ${bLines[j++] ?? ''}`);
    else out.push(`- ${aLines[i++] ?? ''}`);
  }
  return out;
}

/**
 * @example
 *   const learned = learnFromRun({ policy, result, events: audit.events.filter((e) => e.run === result.id) });
 *   console.log(learned.diff);
 */
export function learnFromRun(input: LearnInput): Learned {
  const { policy, result } = input;
  const decisions = input.events.filter((e): e is Decision => e.kind === 'decision' && e.run === result.id && !e.allow);
  const grants: string[] = [];
  const notes: string[] = [];
  const tools: Record<string, ToolGrant> = { ...(policy.tools ?? {}) };
  for (const d of decisions.filter((x) => x.door === 'tool')) {
    if (d.reason === 'TOOL_NOT_GRANTED' && !Object.hasOwn(tools, d.subject)) {
      const known = input.catalog?.[d.subject];
      tools[d.subject] = known ?? PLACEHOLDER;
      grants.push(`tools.${d.subject}`);
      if (known === undefined) notes.push(`tools.${d.subject}: the host's catalog does not describe it, so its operation and args are placeholders to narrow`);
    } else if (d.reason === 'TOOL_ARGS_INVALID') {
      notes.push(`tools.${d.subject}: called with arguments its schema refuses; widen the schema by hand only if the call was meant`);
    }
  }
  const knocks = new Map<string, Knock[]>();
  for (const d of decisions.filter((x) => x.door === 'network')) {
    const k = ROUTE_DENIALS.has(d.reason) ? knockOf(d) : null;
    if (k === null) {
      notes.push(`network: ${d.subject} was refused (${d.reason}); no route can grant that, or it needs a person's choice (addresses, quota)`);
      continue;
    }
    const key = `${k.scheme}://${k.host}:${k.port}`;
    knocks.set(key, [...(knocks.get(key) ?? []), k]);
  }
  const taken = new Set((policy.network?.routes ?? []).map((r) => r.name ?? ''));
  const routes = [...knocks.values()].map((ks) => routeFor(ks, taken));
  for (const r of routes) grants.push(`network.routes: ${(r.methods ?? []).join(',')} ${r.scheme ?? 'https'}://${r.host}${r.port === undefined ? '' : `:${r.port}`} ${(r.paths ?? []).join(' ')}`);
  const stopped = result.error === null ? undefined : LIMIT_OF[result.error.code];
  if (stopped !== undefined && result.error !== null) {
    notes.push(`limits.${stopped}: the run was stopped by it (${result.error.code}); how much more it needs can't be known from one run: raise it by hand and rerun`);
  }
  if (result.status === 'invalid' && result.error !== null) notes.push(`the run was refused before it ran (${result.error.code}): ${result.error.message}`);
  const learned: PolicyDocument = {
    ...policy,
    ...(Object.keys(tools).length > 0 ? { tools } : {}),
    ...(routes.length > 0 ? { network: { routes: [...(policy.network?.routes ?? []), ...routes] } } : {}),
  };
  if (result.status === 'error' && /fetch is not defined/.test(result.error?.message ?? '')) {
    notes.push('network: the code calls fetch, which an isolate has only once the policy grants a route: grant the route it needs and rerun --learn');
  }
  const diff = lineDiff(JSON.stringify(policy, null, 2), JSON.stringify(learned, null, 2));
  return { grants, policy: learned, diff, notes };
}

/** The --learn report for people: the grants, the diff, the notes. */
export function formatLearned(learned: Learned): string {
  if (learned.grants.length === 0) {
    return ['airlock --learn: no grant would change this run', ...learned.notes.map((n) => `  note: ${n}`), ''].join('\n');
  }
  return [
    `airlock --learn: ${learned.grants.length} grant(s) would have let this run through:`,
    ...learned.grants.map((g) => `  + ${g}`),
    '',
    'policy diff (apply it yourself; nothing was granted):',
    learned.diff,
    ...learned.notes.map((n) => `note: ${n}`),
    '',
  ].join('\n');
}

/**
 * For `airlock run --learn`: reads the run's decisions back from the embedded audit log
 * ($AIRLOCK_HOME/audit.db, flushed once the run returned) and learns from them.
 *
 * @example
 *   const learned = await learnAfterRun({ policy: request.policy, result, tenant: 'default' });
 *   process.stderr.write(formatLearned(learned));
 */
export async function learnAfterRun(options: { readonly policy: PolicyDocument; readonly result: RunResult; readonly tenant: string; readonly env?: NodeJS.ProcessEnv }): Promise<Learned> {
  const store = SqliteAuditStore.open({ env: options.env ?? process.env });
  try {
    const records = await store.query({ tenant: tenantId(options.tenant), run: options.result.id });
    return learnFromRun({ policy: options.policy, result: options.result, events: records.map((r) => r.event) });
  } finally {
    await store.close();
  }
}
