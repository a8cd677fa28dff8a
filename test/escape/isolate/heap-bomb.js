// expect: {"status":"memory"}
// limits: {"cpuMs":30000,"wallMs":30000}
// Fills the JS heap fast (about 0.8 MB per step): ends at the isolate's heap limit, not the CPU limit.
const keep = [];
for (;;) keep.push(new Array(100000).fill(keep.length));
