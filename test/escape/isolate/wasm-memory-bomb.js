// expect: {"status":["memory","error","timeout"]}
const mem = new WebAssembly.Memory({ initial: 1, maximum: 65536 });
const views = [];
for (;;) { mem.grow(256); views.push(new Uint8Array(mem.buffer).fill(1)); }
