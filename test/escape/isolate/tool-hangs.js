// expect: {"status":"ok","result":"TOOL_TIMEOUT"}
// A tool handler that never answers is cut off at limits.toolMs; the guest sees a coded error.
let code = null;
try { await tools.hang({}); } catch (e) { code = e.code; }
export default code;
