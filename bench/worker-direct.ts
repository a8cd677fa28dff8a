/**
 * Drives one isolate worker directly (no bubblewrap, no host pool, no audit) over its socket, for
 * profiling the worker's own cost per run: `node bench/worker-direct.ts [runs] [-- node flags…]`,
 * e.g. `node bench/worker-direct.ts 3000 -- --cpu-prof --cpu-prof-dir=/tmp/prof`. Prints the
 * worker's CPU per run (from /proc) and the wall p50 of a run, beside raw isolated-vm's CPU per
 * run measured in this process.
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import ivm from 'isolated-vm';
import { readFrames, writeFrame } from '../src/isolate/frames.ts';
import { prepareCode } from '../src/isolate/prepare.ts';
import type { RunJob } from '../src/isolate/protocol.ts';
import { median, round } from './stats.ts';

const args = process.argv.slice(2);
const dash = args.indexOf('--');
const runs = Number(args[0] ?? '2000');
const calls = Number(process.env['CALLS'] ?? '0');
const nodeFlags = dash >= 0 ? args.slice(dash + 1) : [];

/** CPU of each thread of a process, in µs, by thread name, from /proc. */
function threadsCpuUs(pid: number): Map<string, number> {
  const out = new Map<string, number>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const us = ((Number(fields[11]) + Number(fields[12])) * 1e6) / 100;
    out.set(name, (out.get(name) ?? 0) + us);
  }
  return out;
}

/** CPU of a process (all threads), in µs, from /proc. */
function procCpuUs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return ((Number(fields[11]) + Number(fields[12])) * 1e6) / 100;
}

const entry = new URL('../src/isolate/worker-main.ts', import.meta.url).pathname;
const child = spawn(process.execPath, [...nodeFlags, '--max-old-space-size=96', '--disable-warning=ExperimentalWarning', entry, '64'], { stdio: ['ignore', 'inherit', 'inherit', 'pipe'] });
const socket = child.stdio[3] as Socket;
const waiting: { done: (() => void) | null; ready: () => void } = { done: null, ready: () => undefined };
const readyP = new Promise<void>((r) => (waiting.ready = r));
readFrames(socket, {
  maxBytes: 1 << 28,
  onError: (e) => {
    throw e;
  },
  onFrame: (raw) => {
    const m = raw as { t: string; run: string; call: number; args: string };
    if (m.t === 'ready') waiting.ready();
    else if (m.t === 'tool') writeFrame(socket, { t: 'tool-reply', run: m.run, call: m.call, ok: true, json: m.args });
    else if (m.t === 'done') waiting.done?.();
  },
});
await readyP;
const source = calls > 0 ? `for (let i = 0; i < ${calls}; i++) await tools.echo({ i }); export default 1` : 'export default 1';
const code = prepareCode(source, 'js', 1 << 20).code;
const job = (i: number): RunJob => ({
  t: 'run',
  run: `run_${i}`,
  tenant: 'bench',
  code,
  kind: 'module',
  input: null,
  tools: calls > 0 ? ['echo'] : [],
  network: 'none',
  delegation: 'none',
  limits: { wallMs: 30_000, cpuMs: 30_000, memoryMiB: 64, outputBytes: 1 << 20, resultBytes: 1 << 20 },
});
const once = (i: number): Promise<void> =>
  new Promise((resolve) => {
    waiting.done = resolve;
    writeFrame(socket, job(i));
  });
for (let i = 0; i < 100; i++) await once(i);
const pid = child.pid as number;
const cpu0 = procCpuUs(pid);
const threads0 = threadsCpuUs(pid);
const samples: number[] = [];
for (let i = 0; i < runs; i++) {
  const t = performance.now();
  await once(i);
  samples.push(performance.now() - t);
}
const workerCpu = (procCpuUs(pid) - cpu0) / runs;
const threads: Record<string, number> = {};
for (const [name, us] of threadsCpuUs(pid)) threads[name] = round((us - (threads0.get(name) ?? 0)) / runs, 0);
const c0 = process.cpuUsage();
for (let i = 0; i < 400; i++) {
  const isolate = new ivm.Isolate({ memoryLimit: 64 });
  isolate.createContextSync().evalSync('1');
  isolate.dispose();
}
const c = process.cpuUsage(c0);
const raw = (c.user + c.system) / 400;
process.stdout.write(`${JSON.stringify({ runs, calls, run_p50_ms: round(median(samples)), worker_cpu_per_run_us: round(workerCpu, 0), raw_ivm_cpu_per_run_us: round(raw, 0), ratio: round(workerCpu / raw, 2), threads })}\n`);
socket.end();
await new Promise((r) => child.on('exit', r));
