// expect: {"status":"memory"}
const keep = [];
for (;;) keep.push({ a: Math.random(), b: 'x'.repeat(64) + Math.random() });
