// expect: {"status":"error","code":"GUEST_ERROR"}
// Dynamic import has no host module loader behind it.
const fs = await import('node:fs');
export default typeof fs.readFileSync;
