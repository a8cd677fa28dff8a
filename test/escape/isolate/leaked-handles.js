// expect: {"status":"ok","result":[]}
// Walk everything reachable from the global (own properties, prototypes, tools, console) looking
// for isolated-vm handles or anything that reaches a host realm.
const bad = [];
const seen = new Set();
const stack = [globalThis, tools, console];
for (const name of Object.keys(tools).concat(['anything'])) stack.push(tools[name]);
while (stack.length) {
  const v = stack.pop();
  if ((typeof v !== 'object' && typeof v !== 'function') || v === null || seen.has(v)) continue;
  seen.add(v);
  const ctor = (() => { try { return v.constructor?.name; } catch { return undefined; } })();
  if (v.constructor !== WebAssembly.Module && ['Reference', 'ExternalCopy', 'Isolate', 'Context', 'Script', 'Module', 'Callback', 'NativeModule'].includes(ctor)) bad.push(ctor);
  let keys = [];
  try { keys = Reflect.ownKeys(v); } catch {}
  for (const k of keys) { try { const d = Object.getOwnPropertyDescriptor(v, k); stack.push(d?.value, d?.get, d?.set); } catch {} }
  try { stack.push(Object.getPrototypeOf(v)); } catch {}
}
if (typeof require !== 'undefined' || typeof process !== 'undefined') bad.push('node globals');
export default bad;
