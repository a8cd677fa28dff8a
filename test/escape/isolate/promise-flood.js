// expect: {"status":["timeout","memory"]}
const all = [];
for (;;) all.push(new Promise(() => {}));
