// expect: {"status":"memory","code":"MEMORY_LIMIT"}
// limits: {"cpuMs":30000,"wallMs":30000}
// Resizable ArrayBuffers and growable SharedArrayBuffers reserve their memory outside the
// allocator isolated-vm counts, so its heap limit never sees them. Holding 150 MiB of them under a
// 32 MiB policy must end at the memory limit, not return ok (the worker watches its own memory).
const keep = [];
for (let i = 0; i < 150; i++) {
  const buffer = i % 2 ? new ArrayBuffer(1 << 20, { maxByteLength: 1 << 30 }) : new SharedArrayBuffer(1 << 20, { maxByteLength: 1 << 30 });
  keep.push(new Uint8Array(buffer).fill(1));
}
export default keep.length;
