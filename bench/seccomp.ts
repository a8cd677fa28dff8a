// Seccomp figures: how many syscalls each profile allows, how long compiling one program takes
// (uncached: render + libseccomp generator + atomic write), a cache hit, and the baseline of
// spawning /usr/bin/true from node in the same run (the generator is one such spawn plus work).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { seccompProgram, type SeccompProfile } from '../src/os/seccomp.ts';
import { allowedSyscalls, CONTAINER_PROFILE, WORKER_PROFILE } from '../src/os/seccomp-profiles.ts';

const ITERATIONS = 30;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

async function compileMs(profile: SeccompProfile, root: string): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < ITERATIONS; i++) {
    const started = performance.now();
    await seccompProgram(profile, { cacheDir: join(root, `${profile.name}-${i}`) });
    times.push(performance.now() - started);
  }
  return median(times);
}

export async function benchSeccomp(): Promise<Record<string, number>> {
  const root = mkdtempSync(join(tmpdir(), 'airlock-bench-seccomp-'));
  try {
    const container = await compileMs(CONTAINER_PROFILE, root);
    const worker = await compileMs(WORKER_PROFILE, root);
    const hits: number[] = [];
    for (let i = 0; i < ITERATIONS; i++) {
      const started = performance.now();
      await seccompProgram(CONTAINER_PROFILE, { cacheDir: join(root, 'container-0') });
      hits.push(performance.now() - started);
    }
    const spawns: number[] = [];
    for (let i = 0; i < ITERATIONS; i++) {
      const started = performance.now();
      spawnSync('/usr/bin/true');
      spawns.push(performance.now() - started);
    }
    return {
      seccompWorkerSyscalls: allowedSyscalls(WORKER_PROFILE).length,
      seccompContainerSyscalls: allowedSyscalls(CONTAINER_PROFILE).length,
      seccompCompileContainerMs: container,
      seccompCompileWorkerMs: worker,
      seccompCacheHitMs: median(hits),
      baselineSpawnTrueMs: median(spawns),
    };
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

if (import.meta.main) process.stdout.write(JSON.stringify(await benchSeccomp(), null, 2) + '\n');
