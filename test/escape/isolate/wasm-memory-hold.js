// expect: {"status":"memory","code":"MEMORY_LIMIT"}
// limits: {"cpuMs":30000,"wallMs":30000}
// WebAssembly memories live outside the JS heap too. Holding 160 MiB of them (10 × 16 MiB, under
// the worker's cgroup cap) under a 32 MiB policy must end at the memory limit, not return ok.
const keep = [];
for (let i = 0; i < 10; i++) {
  const m = new WebAssembly.Memory({ initial: 256 });
  new Uint8Array(m.buffer).fill(1);
  keep.push(m);
}
export default keep.length;
