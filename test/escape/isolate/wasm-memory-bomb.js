// expect: {"status":"memory","code":"MEMORY_LIMIT"}
// limits: {"cpuMs":30000,"wallMs":30000}
// WebAssembly memory lives outside the JS heap. Growing and touching it 16 MiB at a time must end
// at a memory limit, never in the host's memory. isolated-vm does not count it: the worker's own
// cgroup cap (192 MiB + 3 × memoryMiB) is what stops this one.
const mem = new WebAssembly.Memory({ initial: 1, maximum: 65536 });
for (;;) {
  const before = mem.buffer.byteLength;
  mem.grow(256);
  new Uint8Array(mem.buffer, before, 256 * 65536).fill(1);
}
