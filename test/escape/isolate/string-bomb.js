// expect: {"status":"memory"}
// limits: {"cpuMs":30000,"wallMs":30000}
// Doubling a string: V8 keeps concatenations as ropes, so each step is flattened (an indexed read
// flattens it) to really allocate. Ends at the heap limit, never the host's memory.
let s = 'x';
const keep = [];
for (;;) { s += s; void s[s.length >> 1]; keep.push(s); }
