/**
 * The code that builds a guest's world, before any guest code runs. It is evaluated once per
 * worker into a V8 startup snapshot (each isolate starts from a copy: cheaper than evaluating it
 * per isolate); each context then calls `__airlock_init` once, which removes itself from the
 * global and hands over the two isolated-vm References (console sink, tool bridge).
 *
 * The References live in closure variables the guest can't reach; the guest global gets only
 * `console` and `tools`. Every
 * intrinsic it uses later is captured now, so a guest that rewrites `JSON`, `Object.prototype` or
 * `Array.prototype` can't change how data crosses the boundary. Options objects handed to
 * isolated-vm have null prototypes and are frozen: a guest that adds `Object.prototype.reference`
 * can't turn a copy into a handle. Everything crossing the boundary is a string or an array of
 * primitives (copied), never a Reference, ExternalCopy or host object.
 *
 * Its functions are written as parenthesized expressions, `const f = (function f() {})`. V8
 * compiles those eagerly, when the bootstrap is evaluated into the snapshot, and isolated-vm keeps
 * compiled code in snapshots (kKeep). As plain declarations they were compiled lazily, in every
 * isolate, on the run's path: prepare and finish alone took about 0.1 ms per run that way.
 */
import { GUEST_FETCH } from './guest-fetch.ts';

export const GUEST_BOOTSTRAP = String.raw`(function () {
'use strict';
let sink, bridge, sinkApply, bridgeApply, Wasm, nextCall = 0;
const G = globalThis;
const { apply, defineProperty, ownKeys } = Reflect;
const { create, freeze, getPrototypeOf } = Object;
const stringify = JSON.stringify, parse = JSON.parse;
const Str = String, Err = Error, TypeErr = TypeError, WS = WeakSet;
const wsHas = WS.prototype.has, wsAdd = WS.prototype.add, strSlice = String.prototype.slice, strIndexOf = String.prototype.indexOf;
const isError = (v) => { try { let p = v; while (p !== null && typeof p === 'object') { if (p === Err.prototype) return true; p = getPrototypeOf(p); } } catch {} return false; };
const opts = (o) => { const r = create(null); for (const k of ownKeys(o)) { const v = o[k]; r[k] = (v !== null && typeof v === 'object') ? opts(v) : v; } return freeze(r); };
const SINK_OPTS = opts({ arguments: { copy: true } });
const BRIDGE_OPTS = opts({ arguments: { copy: true } });
const PromiseC = Promise;
// Tool calls waiting for their answer, by call number. A null-prototype object: nothing the guest
// does to prototypes reaches it.
const waiting = create(null);
// isolated-vm settles promises across the boundary with V8's Promise::Then, which reads
// promise.constructor[Symbol.species] and calls then: a guest that redefines them could run code
// inside isolated-vm's own bookkeeping. They are locked before any guest code runs.
for (const [obj, key] of [[Promise.prototype, 'then'], [Promise.prototype, 'constructor'], [Promise, Symbol.species]]) {
  const d = Reflect.getOwnPropertyDescriptor(obj, key);
  if ('value' in d) defineProperty(obj, key, { value: d.value, writable: false, configurable: false, enumerable: d.enumerable });
  else defineProperty(obj, key, { get: d.get, set: undefined, configurable: false, enumerable: d.enumerable });
}
const cut = (s) => s.length > 8192 ? apply(strSlice, s, [0, 8192]) + '…' : s;

const show = (function show(v) {
  try {
    if (typeof v === 'string') return v;
    if (isError(v)) { const s = v.stack; return typeof s === 'string' ? s : Str(v.message); }
    if (typeof v === 'object' && v !== null) {
      const seen = new WS();
      const text = stringify(v, (_k, x) => {
        if (typeof x === 'bigint') return Str(x) + 'n';
        if (typeof x === 'object' && x !== null) { if (apply(wsHas, seen, [x])) return '[Circular]'; apply(wsAdd, seen, [x]); }
        return x;
      });
      return text === undefined ? Str(v) : text;
    }
    return Str(v);
  } catch { return '[unprintable]'; }
});

const writer = (function writer(stream) {
  return (function (...args) {
    let line = '';
    for (let i = 0; i < args.length; i++) line += (i ? ' ' : '') + show(args[i]);
    apply(sinkApply, sink, [undefined, [stream, line + '\n'], SINK_OPTS]);
  });
});
const con = create(null);
for (const [name, stream] of [['log', 1], ['info', 1], ['debug', 1], ['warn', 2], ['error', 2]]) con[name] = writer(stream);
defineProperty(G, 'console', { value: freeze(con), writable: true, configurable: true, enumerable: false });

const describe = (function describe(e) {
  try {
    if (isError(e)) { const n = Str(e.name), m = Str(e.message); return cut(m ? n + ': ' + m : n); }
    return cut('uncaught ' + show(e));
  } catch { return 'uncaught exception'; }
});
const codeOf = (function codeOf(e) {
  try { const c = e !== null && typeof e === 'object' ? e.code : undefined; return typeof c === 'string' && /^[A-Z_]{1,40}$/.test(c) ? c : null; } catch { return null; }
});

// A host call: the host is told synchronously (this thread), and answers later through deliver(),
// which the worker calls on its own thread; so the guest's code after an await runs there too,
// with no hop to another thread and back.
// What one call may carry to the host, in characters of JSON: more would crowd the worker's own
// heap (its frame escapes control characters six-fold) for no honest use.
const MAX_CALL_CHARS = 4 * 1024 * 1024;
const callHost = (function callHost(name, json) {
  if (json.length > MAX_CALL_CHARS) return PromiseC.reject(new TypeErr('a call to the host carries at most 4 MiB of JSON; this one has ' + json.length + ' characters'));
  const id = ++nextCall;
  const p = new PromiseC((resolve) => { waiting[id] = resolve; });
  apply(bridgeApply, bridge, [undefined, [name, json, id], BRIDGE_OPTS]);
  return p;
});
const deliver = (function deliver(id, reply) {
  const resolve = waiting[id];
  if (resolve === undefined) return;
  delete waiting[id];
  resolve(reply);
});

// The host's answer to a call: its JSON value, or a coded ToolError.
const answer = (function answer(text) {
  const reply = parse(text);
  if (reply[0] === 'ok') return reply[1] === null ? undefined : parse(reply[1]);
  const e = new Err(reply[2]);
  e.name = 'ToolError';
  e.code = reply[1];
  throw e;
});

const makeTool = (function makeTool(name) {
  const tool = (async function (args) {
    const json = args === undefined ? 'null' : stringify(args);
    if (typeof json !== 'string') throw new TypeErr('tools.' + name + ': the argument must be JSON data');
    return answer(await callHost(name, json));
  });
  defineProperty(tool, 'name', { value: name });
  return tool;
});

// \`tools\` lists the granted tools; any other identifier still answers with a function, whose
// call goes to the host to be denied and audited (the host decides, never the guest's view).
// Names may be namespaced with dots: \`tools.mail.read\` is the tool "mail.read". Each node is a
// function (calling it calls the tool of that name) whose identifier properties are the nodes one
// level down; a tool is called directly (no .call/.apply/.bind: those would name tools too).
const TOOL_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/, reTest = RegExp.prototype.test;
const MAX_TOOL_DEPTH = 8;
${GUEST_FETCH}
// Delegation (runtime/subrun.ts): the host runs the child in a fresh isolate under an attenuated
// warrant and answers with its value or an opaque handle id; the guest never holds a token.
const subrun = (async function subrun(code, options) {
  if (typeof code !== 'string') throw new TypeErr('subrun: the code must be a string of JavaScript');
  const json = stringify({ code, options: options === undefined ? null : options });
  if (typeof json !== 'string') throw new TypeErr('subrun: the options must be JSON data');
  return answer(await callHost('@subrun', json));
});
const unwrap = (async function unwrap(handle) {
  if (typeof handle !== 'string') throw new TypeErr('unwrap: pass a handle a subrun returned');
  return answer(await callHost('@unwrap', stringify(handle)));
});
const prepare = (function prepare(namesJson, network, delegation) {
  if (network === true) defineProperty(G, 'fetch', { value: guestFetch, writable: true, configurable: true, enumerable: false });
  if (delegation === true) {
    defineProperty(G, 'subrun', { value: subrun, writable: true, configurable: true, enumerable: false });
    defineProperty(G, 'unwrap', { value: unwrap, writable: true, configurable: true, enumerable: false });
  }
  const names = parse(namesJson);
  const nodes = create(null);
  // The node for a full name: a callable proxy whose identifier keys are the names one level down.
  const node = (name, depth) => {
    const known = nodes[name];
    if (known !== undefined) return known;
    const handler = create(null);
    handler.get = (target, key) => {
      if (typeof key !== 'string' || key === 'then' || depth >= MAX_TOOL_DEPTH) return undefined;
      if (!apply(reTest, TOOL_NAME, [key])) return undefined;
      return node(name + '.' + key, depth + 1);
    };
    handler.set = () => false;
    handler.defineProperty = () => false;
    handler.deleteProperty = () => false;
    return nodes[name] = new Proxy(makeTool(name), freeze(handler));
  };
  // Granted names (and their namespaces) are own keys of \`tools\`, so they can be listed.
  const granted = create(null);
  for (let i = 0; i < names.length; i++) {
    const dot = apply(strIndexOf, names[i], ['.']);
    const top = dot < 0 ? names[i] : apply(strSlice, names[i], [0, dot]);
    granted[top] = node(top, 1);
  }
  const handler = create(null);
  handler.get = (target, key) => {
    if (typeof key !== 'string' || key === 'then') return undefined;
    if (key in target) return target[key];
    if (!apply(reTest, TOOL_NAME, [key])) return undefined;
    return node(key, 1);
  };
  const tools = new Proxy(freeze(granted), freeze(handler));
  defineProperty(G, 'tools', { value: tools, writable: false, configurable: false, enumerable: false });
});

const finish = (async function finish(main, inputJson, cap) {
  let value;
  try {
    value = await main();
    if (typeof value === 'function') value = await value(parse(inputJson));
    else value = await value;
  } catch (e) { return ['threw', describe(e), codeOf(e)]; }
  let json;
  try { json = stringify(value); } catch (e) { return ['not-plain', describe(e)]; }
  if (json === undefined) return typeof value === 'undefined' ? ['ok', null] : ['not-plain', 'a ' + typeof value + ' is not JSON data'];
  if (json.length > cap) return ['too-large', json.length];
  return ['ok', json];
});

const wasm = (function wasm(bytes) {
  let mod;
  try { mod = new Wasm.Module(bytes); } catch (e) { return ['invalid', 'SYNTAX_ERROR', describe(e)]; }
  const wanted = Wasm.Module.imports(mod);
  if (wanted.length > 0) return ['invalid', 'WASM_IMPORTS_NOT_GRANTED', 'the module imports ' + wanted.map((i) => i.module + '.' + i.name).join(', ') + ', and the isolate tier grants no imports'];
  let out;
  try {
    const exp = new Wasm.Instance(mod, {}).exports;
    const main = typeof exp.main === 'function' ? exp.main : exp._start;
    out = typeof main === 'function' ? main() : null;
  } catch (e) { return ['threw', describe(e), null]; }
  let json;
  try { json = stringify(out === undefined ? null : out); } catch (e) { return ['not-plain', describe(e)]; }
  return ['ok', json];
});

// Atomics.waitAsync settles through a V8 task that never runs (guest code runs only in the worker's
// bounded slices): it could only ever hang the run to its wall limit, so it is not offered. Removed
// here, in the snapshot, so no context pays for it. (The promise forms of WebAssembly settle inside
// the caller's slice because the worker runs V8 without asynchronous wasm compilation: warm-isolate.ts.)
delete G.Atomics.waitAsync;

const init = (function init(s, b) {
  delete G.__airlock_init;
  sink = s; bridge = b; sinkApply = s.applySync; bridgeApply = b.applySync;
  // Not in the snapshot's realm: WebAssembly is installed per context.
  Wasm = G.WebAssembly;
  return { prepare, finish, wasm, deliver };
});
defineProperty(G, '__airlock_init', { value: init, writable: false, configurable: true, enumerable: false });
})();`;

/** The global each fresh context's init function is found under (it removes itself when called). */
export const GUEST_INIT = '__airlock_init';
