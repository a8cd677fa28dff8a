// HTTP API figures, with their baseline measured in the same run:
//   http_run_ms               one-shot isolate run through `airlock serve` on loopback (key check,
//                             JSON in and out, keep-alive fetch), median
//   library_run_ms            baseline: the same run through createAirlock().run() in-process, median
//   http_run_overhead_ms      http_run_ms − library_run_ms: what the HTTP front end adds
// Runs are interleaved (library, HTTP, library, …) so a busy machine weighs on both alike.
// Run alone: node bench/server.ts
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tenantId } from '../src/audit/store.ts';
import { createAirlock } from '../src/runtime/airlock.ts';
import { KeyStore } from '../src/server/keys.ts';
import { startServer } from '../src/server/serve.ts';
import { median, round } from './stats.ts';

const RUNS = 200;
const WARMUP = 20;
const REQUEST = { code: 'export default (input) => input.n * 2', input: { n: 21 } };

export async function benchServer(): Promise<Record<string, number>> {
  const serverHome = mkdtempSync(join(tmpdir(), 'airlock-bench-serve-'));
  const server = await startServer({ home: serverHome, port: 0, ratePerMinute: 10_000_000 });
  const keys = KeyStore.open(serverHome);
  const key = keys.create(tenantId('bench')).key;
  keys.close();
  const airlock = createAirlock({ home: mkdtempSync(join(tmpdir(), 'airlock-bench-lib-')) });
  const viaHttp = async (): Promise<void> => {
    const res = await fetch(`${server.url}/v1/runs`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify(REQUEST) });
    const result = (await res.json()) as { result: unknown };
    if (res.status !== 200 || result.result !== 42) throw new Error(`the HTTP run failed: ${res.status} ${JSON.stringify(result)}`);
  };
  const viaLibrary = async (): Promise<void> => {
    const result = await airlock.run({ ...REQUEST, tenant: 'bench' });
    if (result.result !== 42) throw new Error(`the library run failed: ${JSON.stringify(result)}`);
  };
  const http: number[] = [];
  const library: number[] = [];
  try {
    for (let i = 0; i < WARMUP; i++) {
      await viaLibrary();
      await viaHttp();
    }
    for (let i = 0; i < RUNS; i++) {
      let t = performance.now();
      await viaLibrary();
      library.push(performance.now() - t);
      t = performance.now();
      await viaHttp();
      http.push(performance.now() - t);
    }
  } finally {
    await airlock.close();
    await server.close();
  }
  const h = median(http);
  const l = median(library);
  return { http_run_ms: round(h), library_run_ms: round(l), http_run_overhead_ms: round(h - l) };
}

if (import.meta.main) process.stdout.write(`${JSON.stringify(await benchServer())}\n`);
