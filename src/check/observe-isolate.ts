/**
 * Live probes on the isolate tier: a second tenant's run plants marks on its globals, then the
 * probed run (the policy under check) reports what its global object offers and tries the network
 * through `fetch` when it has one. The host adds what it sees of the tenants' worker processes.
 */
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { RunResult } from '../core/result.ts';
import type { RunRequest } from '../policy/request.ts';
import type { Airlock } from '../runtime/airlock.ts';
import type { BaitHits } from './bait.ts';
import type { Observed, ProbeContextBase } from './observe-container.ts';
import type { HostFacts } from './policy-answers.ts';
import { unverified } from './observe-container.ts';
import { ISOLATE_PROBE, type IsolateReport } from './probe-isolate.ts';
import { probePlan } from './probe-plan.ts';
import { no, yes, type Finding } from './questions.ts';

export interface IsolateProbeContext extends ProbeContextBase {
  readonly airlock: Airlock;
}

const DENIED_BY_GATEWAY = new Set(['EGRESS_NOT_GRANTED', 'EGRESS_ADDRESS_REFUSED', 'EGRESS_BAD_REQUEST']);
/** The plan as the request's JSON input (it is plain data already). */
const asInput = (value: unknown): RunRequest['input'] => JSON.parse(JSON.stringify(value)) as RunRequest['input'];

/** The language's own globals (ECMAScript and WebAssembly): what every isolate has, nothing of the host. */
const LANGUAGE_GLOBALS = new Set(('AggregateError Array ArrayBuffer AsyncDisposableStack Atomics BigInt BigInt64Array BigUint64Array Boolean DataView Date ' +
  'DisposableStack Error EvalError FinalizationRegistry Float16Array Float32Array Float64Array Function Infinity Int16Array Int32Array Int8Array Intl ' +
  'Iterator JSON Map Math NaN Number Object Promise Proxy RangeError ReferenceError Reflect RegExp Set SharedArrayBuffer String SuppressedError Symbol ' +
  'SyntaxError TypeError URIError Uint16Array Uint32Array Uint8Array Uint8ClampedArray WeakMap WeakRef WeakSet WebAssembly decodeURI decodeURIComponent ' +
  'encodeURI encodeURIComponent escape eval globalThis isFinite isNaN parseFloat parseInt undefined unescape').split(' '));

const NO_FS = ['require', 'process', 'Deno', 'Bun', 'Buffer'] as const;

function isReport(value: unknown): value is IsolateReport {
  return typeof value === 'object' && value !== null && Array.isArray((value as { globals?: unknown }).globals);
}

async function uidOf(pid: number | undefined): Promise<number | null> {
  if (pid === undefined) return null;
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  const m = /^Uid:\s+(\d+)/m.exec(status);
  return m?.[1] === undefined ? null : Number(m[1]);
}

function secrets(r: IsolateReport, canary: string, result: RunResult): Finding {
  if (JSON.stringify(result).includes(canary)) return yes("the host's canary variable appeared in the run's output");
  const extra = r.globals.filter((g) => !LANGUAGE_GLOBALS.has(g));
  return no(`no environment, process or file API: beyond the language's built-ins its globals are ${extra.join(', ') || 'none'}; the host's canary appears nowhere in the run`);
}

function network(r: IsolateReport, hits: BaitHits): Finding {
  const found: string[] = [];
  if (hits.connections > 0) found.push(`the host's loopback bait saw ${hits.connections} connection(s): ${hits.requests.join(', ')}`);
  for (const h of r.http.filter((h) => h.status !== undefined || (h.code !== undefined && h.code !== null && !DENIED_BY_GATEWAY.has(h.code)))) {
    found.push(`fetch ${h.url} → ${h.status ?? h.code ?? '?'} (${h.label})`);
  }
  for (const k of ['XMLHttpRequest', 'WebSocket'] as const) if (r.has[k] !== 'undefined') found.push(`${k} is defined`);
  if (found.length > 0) return yes(found.join('; '));
  if (r.has['fetch'] !== 'function') return no("no fetch, sockets or DNS in the isolate; the host's bait saw 0 connections");
  return no(`fetch exists but the gateway refused every request: ${r.http.map((h) => `${h.label} ${h.code ?? '?'}`).join(', ')}; the host's bait saw 0 connections`);
}

function files(r: IsolateReport): Finding {
  const defined = NO_FS.filter((k) => r.has[k] !== undefined && r.has[k] !== 'undefined');
  if (defined.length > 0 || r.imports === 'node:fs imported') return yes(`file APIs reachable: ${[...defined, ...(r.imports === 'node:fs imported' ? ['import("node:fs")'] : [])].join(', ')}`);
  return no(`no file API: ${NO_FS.join(', ')} are undefined; import("node:fs") failed: ${r.imports ?? '?'}`);
}

/** A worker process as the host sees it in /proc: its uid and its cgroup (named for its owner: a tenant, or `cordon-<name>`). */
interface WorkerSeen {
  readonly pid: number | undefined;
  readonly uid: number | null;
  readonly cgroup: string;
}

async function seen(airlock: Airlock, tenant: string): Promise<WorkerSeen[]> {
  return Promise.all(
    airlock.isolate.workers(tenant).map(async (w) => {
      const groups = w.pid === undefined ? '' : await readFile(`/proc/${w.pid}/cgroup`, 'utf8').catch(() => '');
      return { pid: w.pid, uid: await uidOf(w.pid), cgroup: /airlock\/(isolate-[^\s/]+)/.exec(groups)?.[1] ?? '?' };
    }),
  );
}

function tenants(r: IsolateReport, token: string, planted: boolean, workers: { a: WorkerSeen[]; b: WorkerSeen[] }, cordon: HostFacts['cordon']): Finding {
  const found: string[] = [];
  for (const m of r.marks.filter((m) => m.content.includes(token))) found.push(`found tenant B's mark on ${m.path}`);
  const shared = workers.a.map((w) => w.uid).filter((u) => u !== null && workers.b.some((w) => w.uid === u));
  if (shared.length > 0) found.push(`tenants share worker uid(s) ${shared.join(', ')}`);
  const list = (ws: WorkerSeen[]): string => ws.map((w) => `pid ${w.pid ?? '?'} uid ${w.uid ?? '?'} (${w.cgroup})`).join(', ') || '?';
  const isolated = `tenant B ${planted ? 'planted a mark on globalThis and Object.prototype' : 'could not plant a mark'}; the probed run's fresh isolate saw none`;
  if (cordon !== null) {
    // worker-process.ts names a worker's cgroup `isolate-<owner>-<uid>-<host pid>`, a cordon's owner being `cordon-<name>`.
    const mine = new RegExp(`^isolate-cordon-${cordon.name}-\\d+-\\d+$`);
    const cordons = workers.a.filter((w) => mine.test(w.cgroup));
    if (cordons.length > 0) found.push(`its runs ran in cordon ${cordon.name}'s worker process(es), which run the runs of its ${cordon.mates} other tenant(s): ${list(cordons)}; B, outside the cordon: ${list(workers.b)}; ${isolated}`);
  }
  if (found.length > 0) return yes(found.join('; '));
  const uids = (ws: WorkerSeen[]): string => ws.map((w) => w.uid).join(',') || '?';
  return no(`${isolated}; worker uids: A ${uids(workers.a)}, B ${uids(workers.b)}; A's workers: ${list(workers.a)}; B's: ${list(workers.b)}`);
}

/**
 * @example
 *   const observed = await observeIsolate({ airlock, document, policy, tenant: 'acme', otherTenant: 'check-b', facts, bait });
 */
export async function observeIsolate(ctx: IsolateProbeContext): Promise<Observed> {
  const token = `airlock-tenant-b-${randomBytes(10).toString('hex')}`;
  const plan = probePlan(ctx.bait, ctx.facts, ctx.policy, { workspace: null });
  const b = await ctx.airlock.run({ tier: 'isolate', tenant: ctx.otherTenant, code: ISOLATE_PROBE, input: asInput({ ...plan, http: [], mark: { ...plan.mark, plant: token } }), policy: ctx.document });
  const a = await ctx.airlock.run({ tier: 'isolate', tenant: ctx.tenant, code: ISOLATE_PROBE, input: asInput(plan), policy: ctx.document });
  if (!isReport(a.result)) return unverified(`the probe did not report (${a.status}: ${a.error?.message ?? ''})`);
  return {
    secrets: secrets(a.result, ctx.bait.token, a),
    network: network(a.result, ctx.bait.hits()),
    files: files(a.result),
    tenants: tenants(a.result, token, isReport(b.result) && b.result.planted, { a: await seen(ctx.airlock, ctx.tenant), b: await seen(ctx.airlock, ctx.otherTenant) }, ctx.facts.cordon),
  };
}
