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

function tenants(r: IsolateReport, token: string, planted: boolean, uids: { a: (number | null)[]; b: (number | null)[] }): Finding {
  const found: string[] = [];
  for (const m of r.marks.filter((m) => m.content.includes(token))) found.push(`found tenant B's mark on ${m.path}`);
  const shared = uids.a.filter((u) => u !== null && uids.b.includes(u));
  if (shared.length > 0) found.push(`tenants share worker uid(s) ${shared.join(', ')}`);
  if (found.length > 0) return yes(found.join('; '));
  return no(
    `tenant B ${planted ? 'planted a mark on globalThis and Object.prototype' : 'could not plant a mark'}; the probed run's fresh isolate saw none; ` +
      `worker uids: A ${uids.a.join(',') || '?'}, B ${uids.b.join(',') || '?'}`,
  );
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
  const uids = async (tenant: string) => Promise.all(ctx.airlock.isolate.workers(tenant).map((w) => uidOf(w.pid)));
  return {
    secrets: secrets(a.result, ctx.bait.token, a),
    network: network(a.result, ctx.bait.hits()),
    files: files(a.result),
    tenants: tenants(a.result, token, isReport(b.result) && b.result.planted, { a: await uids(ctx.tenant), b: await uids(ctx.otherTenant) }),
  };
}
