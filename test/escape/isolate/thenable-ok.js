// expect: {"status":"ok","result":42}
// Control: a thenable that resolves is awaited like a promise.
export default { then(resolve) { resolve(42); } };
