// expect: {"status":"ok","result":42}
// Control for tool-denied: the granted tool works.
export default async () => await tools.add({ a: 40, b: 2 });
