// expect: {"status":"error","code":"GUEST_ERROR"}
// A guest can't make its own error look like a host denial: no denial happened in this run.
const e = new Error('tool "x" is not granted');
e.code = 'TOOL_NOT_GRANTED';
throw e;
