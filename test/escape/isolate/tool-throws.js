// expect: {"status":"error","code":"GUEST_ERROR","messageIncludes":"TOOL_FAILED"}
try { await tools.explode({}); } catch (e) { throw new Error(e.code + ': ' + e.message); }
