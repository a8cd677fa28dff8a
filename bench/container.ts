// Container tier figures, each beside its baseline measured in the same run (medians):
//   container_true_p50_ms    fresh sandbox with the full default policy, run `true`, destroy, as a
//                            host serves it: from a ContainerPool that had time to refill (the
//                            bench waits for the refill between samples, outside the timing)
//   bare_bwrap_true_p50_ms   a minimal `bwrap --unshare-all … true` spawned from Node
//   container_python_ratio   fresh sandbox + `python3 -c pass`, over bare `python3 -c pass`
//   bare_python_p50_ms       bare `python3 -c pass` spawned from Node
//   container_creates_per_s  create + `true` + destroy, with as many in flight as there are cores;
//                            no waiting: the pool's background refill is part of the cost
//   container_cold_true_p50_ms  the same as container_true_p50_ms without a pool (for comparison)
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { MemoryAuditSink } from '../src/audit/memory-sink.ts';
import { newId } from '../src/core/ids.ts';
import { ContainerPool, createContainerSandbox } from '../src/container/index.ts';
import { compilePolicy, type CompiledPolicy } from '../src/policy/compile.ts';

const ITERATIONS = 30;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

function spawnMs(argv: readonly string[]): Promise<number> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { stdio: 'ignore', env: {} });
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(performance.now() - started) : reject(new Error(`${argv.join(' ')} exited ${code}`))));
  });
}

async function sandboxMs(policy: CompiledPolicy, home: string, argv: readonly string[], pool?: ContainerPool): Promise<number> {
  if (pool !== undefined) await pool.warm(policy);
  const started = performance.now();
  const sbx = await createContainerSandbox({ tenant: 'bench', sandboxId: newId('sbx'), policy, audit: new MemoryAuditSink(), home, ...(pool === undefined ? {} : { pool }) });
  try {
    const r = await sbx.exec(argv);
    if (r.status !== 'ok') throw new Error(`${argv.join(' ')} in the sandbox: ${r.status} ${r.stderr}`);
  } finally {
    await sbx.destroy();
  }
  return performance.now() - started;
}

/** One create + `true` + destroy from the pool, without waiting for its refill. */
async function timedCreate(policy: CompiledPolicy, home: string, pool: ContainerPool): Promise<void> {
  const sbx = await createContainerSandbox({ tenant: 'bench', sandboxId: newId('sbx'), policy, audit: new MemoryAuditSink(), home, pool });
  try {
    const r = await sbx.exec(['true']);
    if (r.status !== 'ok') throw new Error(`true in the sandbox: ${r.status} ${r.stderr}`);
  } finally {
    await sbx.destroy();
  }
}

/**
 * Latency samples, each started on a settled host: the kernel finishes tearing down the previous
 * sample's namespaces asynchronously (the network namespace costs the most), and that work would
 * otherwise land in the next sample. Baselines and sandboxes get the same pause.
 */
const SETTLE_MS = 15;

async function samples(n: number, f: () => Promise<number>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    await sleep(SETTLE_MS);
    out.push(await f());
  }
  return out;
}

const BARE_BWRAP = ['/usr/bin/bwrap', '--unshare-all', '--ro-bind', '/usr', '/usr', '--symlink', 'usr/bin', '/bin', '--symlink', 'usr/lib', '/lib', '--symlink', 'usr/lib64', '/lib64', '--proc', '/proc', '--dev', '/dev', '--', '/usr/bin/true'];

export async function benchContainer(): Promise<Record<string, number>> {
  const home = await mkdtemp(`${tmpdir()}/airlock-bench-`);
  const pool = new ContainerPool({ home, size: availableParallelism() * 2 });
  try {
    const policy = compilePolicy({ version: 1 });
    // Warm up: the seccomp program and the synthetic /etc are made once per host.
    await sandboxMs(policy, home, ['true']);
    await sandboxMs(policy, home, ['true'], pool);
    await spawnMs(BARE_BWRAP);
    const bareBwrap = median(await samples(ITERATIONS, () => spawnMs(BARE_BWRAP)));
    const containerTrue = median(await samples(ITERATIONS, () => sandboxMs(policy, home, ['true'], pool)));
    const coldTrue = median(await samples(ITERATIONS, () => sandboxMs(policy, home, ['true'])));
    const barePython = median(await samples(ITERATIONS, () => spawnMs(['/usr/bin/python3', '-c', 'pass'])));
    const containerPython = median(await samples(ITERATIONS, () => sandboxMs(policy, home, ['python3', '-c', 'pass'], pool)));
    await pool.warm(policy);
    const workers = availableParallelism();
    const total = ITERATIONS * 4;
    const counter = { next: 0 };
    const started = performance.now();
    await Promise.all(
      Array.from({ length: workers }, async () => {
        while (counter.next++ < total) await timedCreate(policy, home, pool);
      }),
    );
    const perSecond = total / ((performance.now() - started) / 1000);
    const round = (x: number) => Math.round(x * 100) / 100;
    return {
      container_true_p50_ms: round(containerTrue),
      bare_bwrap_true_p50_ms: round(bareBwrap),
      container_python_ratio: round(containerPython / barePython),
      bare_python_p50_ms: round(barePython),
      container_creates_per_s: round(perSecond),
      container_cold_true_p50_ms: round(coldTrue),
    };
  } finally {
    await pool.close();
    await rm(home, { recursive: true, force: true });
  }
}

if (import.meta.main) console.log(JSON.stringify(await benchContainer()));
