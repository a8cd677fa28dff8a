// expect: {"status":"memory","code":"MEMORY_LIMIT"}
// limits: {"cpuMs":30000,"wallMs":30000}
// Memory the heap limit doesn't count, taken and given back inside one synchronous slice, where
// the worker's own timers can't run: 150 MiB of a resizable buffer under a 32 MiB policy, held
// 300 ms, then shrunk before returning. The worker's watch thread must end it (MEMORY_LIMIT).
const b = new ArrayBuffer(0, { maxByteLength: 2 ** 31 });
b.resize(150 * 1024 * 1024);
new Uint8Array(b).fill(7);
const end = Date.now() + 300;
while (Date.now() < end) {}
b.resize(0);
export default 'held and gave back';
