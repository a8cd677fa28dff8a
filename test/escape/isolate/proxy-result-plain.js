// expect: {"status":"ok","result":{"a":1}}
// Control: a well-behaved Proxy is copied out as plain data, not as a live object.
export default new Proxy({ a: 1 }, {});
