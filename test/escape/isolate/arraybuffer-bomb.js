// expect: {"status":["memory","error"]}
// limits: {"cpuMs":30000,"wallMs":30000}
// ArrayBuffer backing stores live outside the JS heap; isolated-vm's allocator counts them.
const keep = [];
for (;;) { const b = new Uint8Array(16 * 1024 * 1024); b.fill(1); keep.push(b); }
