// expect: {"status":["memory","error"]}
// Doubling a string: ends at the heap limit or V8's string length limit, never the host's memory.
let s = 'x';
const keep = [];
for (;;) { s = s + s; keep.push(s + '!'); }
