// Container tier figures, each beside its baseline measured in the same run (medians):
//   container_true_p50_ms    fresh sandbox with the full default policy, run `true`, destroy, as a
//                            host serves it: from a ContainerPool that had time to refill (the
//                            bench waits for the refill between samples, outside the timing)
//   bare_bwrap_true_p50_ms   a minimal `bwrap --unshare-all … true` spawned from Node
//   container_cold_true_p50_ms  the same with nothing made ahead for it: a pool of size 0, so its
//                            uid, workspace, cgroup and bubblewrap are all made inside the timing
//                            (the host's helpers run, as under createAirlock); its samples
//                            alternate with bare bwrap's, so load hits both alike
//   container_oneshot_true_p50_ms  the same without any pool (the library with no pool: node's
//                            spawn and mount(8) per sandbox)
//   container_python_ratio   fresh sandbox + `python3 -c pass`, over bare `python3 -c pass`
//   bare_python_p50_ms       bare `python3 -c pass` spawned from Node
//   container_creates_per_s  create + `true` + destroy for 10 s, as many in flight as there are
//                            cores, no waiting: the pool's background refill is part of the cost;
//                            container_creates_min_per_s is its slowest whole second
//   bare_bwrap_per_s         bare bwrap the same way (as many in flight, 3 s): the ceiling here
//   container_create_cpu_ms, bare_bwrap_cpu_ms  CPU (user + system) of this process and all it
//                            started, per create or per bare bwrap in those runs (kernel threads,
//                            e.g. network namespace clean-up, not counted): what bounds the rate
//                            on a busy host, where the wall-clock rate mostly measures the others
//   container_sandbox_idle_mb  what one idle sandbox costs, measured over IDLE_SANDBOXES live at
//                            once (each created and not yet used, so it holds its standby):
//                            RSS of its processes + its cgroup's memory usage + the host process's
//                            growth per sandbox (RSS counts shared pages per process and the
//                            cgroup counts its processes' pages again: an upper bound);
//                            container_sandbox_idle_used_mb the same after one exec (no process left)
//   container_sandbox_host_mb  the host's MemAvailable drop per live sandbox (kernel objects
//                            included; other work on the machine moves it: a cross-check)
//   container_sandboxes_live_measured  how many were live at once in this run (all destroyed after)
//   container_sandboxes_live_max  24 GiB over the larger of the two per-sandbox figures (an
//                            extrapolation, not a measurement)
//   container_cold_true_at_live_p50_ms, bare_bwrap_true_at_live_p50_ms  the cold create and bare
//                            bwrap again while those sandboxes are live: each workspace is a mount
//                            in the host's mount namespace, which every new mount namespace copies
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { MemoryAuditSink } from '../src/audit/memory-sink.ts';
import { newId } from '../src/core/ids.ts';
import { ContainerPool, createContainerSandbox, type ContainerSandbox } from '../src/container/index.ts';
import { compilePolicy, type CompiledPolicy } from '../src/policy/compile.ts';

const ITERATIONS = 30;
const SUSTAIN_MS = 10_000;
/** Idle sandboxes made at once for the memory figures (AIRLOCK_BENCH_IDLE overrides; bounded). */
const IDLE_SANDBOXES = Math.min(1000, Math.max(10, Number(process.env.AIRLOCK_BENCH_IDLE ?? 300)));
const HOST_BYTES = 24 * 1024 ** 3;

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

function create(policy: CompiledPolicy, home: string, pool?: ContainerPool): Promise<ContainerSandbox> {
  return createContainerSandbox({ tenant: 'bench', sandboxId: newId('sbx'), policy, audit: new MemoryAuditSink(), home, ...(pool === undefined ? {} : { pool }) });
}

async function sandboxMs(policy: CompiledPolicy, home: string, argv: readonly string[], pool?: ContainerPool, opts: { readonly warm: boolean } = { warm: true }): Promise<number> {
  if (pool !== undefined && opts.warm) await pool.warm(policy);
  const started = performance.now();
  const sbx = await create(policy, home, pool);
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
  const sbx = await create(policy, home, pool);
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
 * otherwise land in the next sample. Baselines and sandboxes get the same pause. Several series
 * are sampled in turn, so a burst of load on the machine lands on all of them alike.
 */
const SETTLE_MS = 15;

async function samples<K extends string>(n: number, series: Record<K, () => Promise<number>>): Promise<Record<K, number>> {
  const out = Object.fromEntries(Object.keys(series).map((k) => [k, [] as number[]])) as unknown as Record<K, number[]>;
  for (let i = 0; i < n; i++) {
    for (const [k, f] of Object.entries(series) as [K, () => Promise<number>][]) {
      await sleep(SETTLE_MS);
      out[k].push(await f());
    }
  }
  return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, median(v as number[])])) as Record<K, number>;
}

const BARE_BWRAP = ['/usr/bin/bwrap', '--unshare-all', '--ro-bind', '/usr', '/usr', '--symlink', 'usr/bin', '/bin', '--symlink', 'usr/lib', '/lib', '--symlink', 'usr/lib64', '/lib64', '--proc', '/proc', '--dev', '/dev', '--', '/usr/bin/true'];

/** CPU (user + system, ms) used so far by this process, its helpers and every child they reaped. */
async function treeCpuMs(): Promise<number> {
  const ticks = async (pid: string): Promise<{ parent: number; own: number }> => {
    const st = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
    const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
    return { parent: Number(f[1]), own: Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]) };
  };
  const all = await Promise.all((await readdir('/proc')).filter((p) => /^\d+$/.test(p)).map(async (p) => ({ pid: Number(p), ...(await ticks(p)) })));
  const mine = all.filter((p) => p.pid === process.pid || p.parent === process.pid);
  // USER_HZ is 100 on Linux.
  return mine.reduce((a, p) => a + p.own, 0) * 10;
}

/** `once` repeated for `ms` with `workers` in flight: the overall rate, the slowest second's, and CPU per call. */
async function sustained(once: () => Promise<unknown>, workers: number, ms: number): Promise<{ perSecond: number; minPerSecond: number; cpuMs: number }> {
  const cpuBefore = await treeCpuMs();
  const started = performance.now();
  const ends: number[] = [];
  await Promise.all(
    Array.from({ length: workers }, async () => {
      while (performance.now() - started < ms) {
        await once();
        ends.push(performance.now() - started);
      }
    }),
  );
  const elapsed = performance.now() - started;
  const cpuMs = ((await treeCpuMs()) - cpuBefore) / ends.length;
  const seconds = Math.floor(Math.min(elapsed, ms) / 1000);
  const perSecond = Array.from({ length: seconds }, (_, s) => ends.filter((t) => t >= s * 1000 && t < (s + 1) * 1000).length);
  return { perSecond: ends.length / (elapsed / 1000), minPerSecond: Math.min(...perSecond), cpuMs };
}

async function memAvailableBytes(): Promise<number> {
  const m = /^MemAvailable:\s+(\d+) kB/m.exec(await readFile('/proc/meminfo', 'utf8'));
  return Number(m?.[1] ?? 0) * 1024;
}

async function rssBytes(pid: number): Promise<number> {
  const m = /^VmRSS:\s+(\d+) kB/m.exec(await readFile(`/proc/${pid}/status`, 'utf8').catch(() => ''));
  return Number(m?.[1] ?? 0) * 1024;
}

/** The processes in a live sandbox's cgroup and its memory usage (v1 and v2), by its name. */
async function sandboxBytes(sandbox: ContainerSandbox): Promise<{ rss: number; cgroup: number; processes: number }> {
  const name = `${sandbox.tenant}.${sandbox.id}`;
  const v2 = await readFile('/sys/fs/cgroup/cgroup.controllers', 'utf8').then(() => true, () => false);
  const memDir = v2 ? `/sys/fs/cgroup/airlock/${name}` : `/sys/fs/cgroup/memory/airlock/${name}`;
  const pids = (await readFile(`${memDir}/cgroup.procs`, 'utf8')).split('\n').filter((s) => s !== '').map(Number);
  const cgroup = Number((await readFile(`${memDir}/${v2 ? 'memory.current' : 'memory.usage_in_bytes'}`, 'utf8')).trim());
  const rss = (await Promise.all(pids.map(rssBytes))).reduce((a, b) => a + b, 0);
  return { rss, cgroup, processes: pids.length };
}

/**
 * IDLE_SANDBOXES sandboxes live at once (made two at a time from an empty pool, so each is made
 * for its taker), measured idle, then again after one `true` each; every one is destroyed.
 */
async function idle(policy: CompiledPolicy, home: string): Promise<Record<string, number>> {
  const pool = new ContainerPool({ home, size: 0 });
  const live: ContainerSandbox[] = [];
  try {
    await sandboxMs(policy, home, ['true'], pool);
    globalThis.gc?.();
    const hostBefore = process.memoryUsage().rss;
    const availBefore = await memAvailableBytes();
    const next = { i: 0 };
    await Promise.all(Array.from({ length: 2 }, async () => {
      while (next.i++ < IDLE_SANDBOXES) live.push(await create(policy, home, pool));
    }));
    // Let every standby finish setting up before it is measured.
    await sleep(500);
    const measure = async (): Promise<{ perSandboxMb: number; processes: number }> => {
      globalThis.gc?.();
      const each = await Promise.all(live.map(sandboxBytes));
      const host = Math.max(0, process.memoryUsage().rss - hostBefore) / live.length;
      const inside = each.reduce((a, b) => a + b.rss + b.cgroup, 0) / live.length;
      return { perSandboxMb: (inside + host) / 2 ** 20, processes: each.reduce((a, b) => a + b.processes, 0) / live.length };
    };
    const created = await measure();
    const hostMb = Math.max(0, availBefore - (await memAvailableBytes())) / live.length / 2 ** 20;
    const atLive = await samples(ITERATIONS / 3, {
      bare: () => spawnMs(BARE_BWRAP),
      cold: () => sandboxMs(policy, home, ['true'], pool, { warm: false }),
    });
    for (const s of live) {
      const r = await s.exec(['true']);
      if (r.status !== 'ok') throw new Error(`true in an idle sandbox: ${r.status} ${r.stderr}`);
    }
    const used = await measure();
    const round = (x: number) => Math.round(x * 1000) / 1000;
    return {
      container_sandbox_idle_mb: round(created.perSandboxMb),
      container_sandbox_idle_processes: round(created.processes),
      container_sandbox_idle_used_mb: round(used.perSandboxMb),
      container_sandbox_host_mb: round(hostMb),
      container_sandboxes_live_measured: live.length,
      container_sandboxes_live_max: Math.floor(HOST_BYTES / (Math.max(created.perSandboxMb, hostMb) * 2 ** 20)),
      container_cold_true_at_live_p50_ms: round(atLive.cold),
      bare_bwrap_true_at_live_p50_ms: round(atLive.bare),
    };
  } finally {
    await Promise.all(live.map((s) => s.destroy().catch(() => undefined)));
    await pool.close();
  }
}

export async function benchContainer(): Promise<Record<string, number>> {
  const home = await mkdtemp(`${tmpdir()}/airlock-bench-`);
  const pool = new ContainerPool({ home, size: availableParallelism() * 2 });
  const empty = new ContainerPool({ home, size: 0 });
  try {
    // The default policy, with a wall limit long enough that a machine busy with other work
    // slows a sample down rather than failing the run.
    const policy = compilePolicy({ version: 1, limits: { wallMs: 60_000 } });
    // Warm up: the seccomp program and the synthetic /etc are made once per host.
    await sandboxMs(policy, home, ['true']);
    await sandboxMs(policy, home, ['true'], pool);
    await sandboxMs(policy, home, ['true'], empty);
    await spawnMs(BARE_BWRAP);
    const cold = await samples(ITERATIONS, {
      bare: () => spawnMs(BARE_BWRAP),
      cold: () => sandboxMs(policy, home, ['true'], empty, { warm: false }),
    });
    const pooled = await samples(ITERATIONS, { pooled: () => sandboxMs(policy, home, ['true'], pool) });
    const oneshot = await samples(ITERATIONS, { oneshot: () => sandboxMs(policy, home, ['true']) });
    const python = await samples(ITERATIONS, {
      bare: () => spawnMs(['/usr/bin/python3', '-c', 'pass']),
      sandbox: () => sandboxMs(policy, home, ['python3', '-c', 'pass'], pool),
    });
    const bareRate = await sustained(() => spawnMs(BARE_BWRAP), availableParallelism(), 3000);
    await pool.warm(policy);
    const rate = await sustained(() => timedCreate(policy, home, pool), availableParallelism(), SUSTAIN_MS);
    await pool.close();
    const memory = await idle(policy, home);
    const round = (x: number) => Math.round(x * 100) / 100;
    return {
      container_true_p50_ms: round(pooled.pooled),
      bare_bwrap_true_p50_ms: round(cold.bare),
      container_cold_true_p50_ms: round(cold.cold),
      container_cold_over_bare_ms: round(cold.cold - cold.bare),
      container_oneshot_true_p50_ms: round(oneshot.oneshot),
      container_python_ratio: round(python.sandbox / python.bare),
      bare_python_p50_ms: round(python.bare),
      container_creates_per_s: round(rate.perSecond),
      container_creates_min_per_s: rate.minPerSecond,
      bare_bwrap_per_s: round(bareRate.perSecond),
      container_create_cpu_ms: round(rate.cpuMs),
      bare_bwrap_cpu_ms: round(bareRate.cpuMs),
      ...memory,
    };
  } finally {
    await pool.close();
    await empty.close();
    await rm(home, { recursive: true, force: true });
  }
}

if (import.meta.main) console.log(JSON.stringify(await benchContainer()));
