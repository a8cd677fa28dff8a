// expect: {"status":"timeout","code":"CPU_TIMEOUT"}
// limits: {"wallMs":30000}
// An asynchronous WebAssembly compile used to finish in a V8 task that never ran (the run hung to
// its wall limit); now it compiles in the guest's slice, and what follows is bounded like any code.
const bytes = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0]);
await WebAssembly.compile(bytes);
for (;;) {}
