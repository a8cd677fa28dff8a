// expect: {"status":"ok","result":{"frames":"some","leaks":[]}}
// Error.prepareStackTrace sees only guest frames; no frame's this or function reaches the host.
const seen = [];
Error.prepareStackTrace = (_e, frames) => { for (const f of frames) { seen.push(f.getThis?.(), f.getFunction?.()); } return 'x'; };
try { await tools.notGranted({}); } catch (e) { void e.stack; }
try { null.x; } catch (e) { void e.stack; }
const leaks = [];
for (const v of seen) {
  if (v == null) continue;
  try { const t = v.constructor.constructor('return typeof process + typeof require')(); if (t !== 'undefinedundefined') leaks.push(t); } catch {}
}
export default { frames: seen.length > 0 ? 'some' : 'none', leaks };
