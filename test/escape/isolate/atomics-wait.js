// expect: {"status":["timeout","error"]}
// Atomics.wait blocks the isolate's thread: the wall limit still ends the run.
Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
export default 'woke';
