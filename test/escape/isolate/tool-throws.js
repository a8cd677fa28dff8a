// expect: {"status":"error","code":"GUEST_ERROR","message":"Error: TOOL_FAILED: tool \"explode\" failed"}
// The handler threw a plain Error: its text stays on the host; the guest learns only that it failed.
try { await tools.explode({}); } catch (e) { throw new Error(e.code + ': ' + e.message); }
