// expect: {"status":"ok","result":[3,"locked","locked"]}
// Promise.prototype.then and Promise[Symbol.species] are locked, so a guest can't run code inside
// isolated-vm's promise bookkeeping; a subclass's species is its own business; the bridge works.
const tries = [];
try { Promise.prototype.then = function () { throw new Error('hijacked'); }; } catch { tries.push('locked'); }
try { Object.defineProperty(Promise, Symbol.species, { get() { throw new Error('species'); } }); } catch { tries.push('locked'); }
class Evil extends Promise { static get [Symbol.species]() { throw new Error('species'); } }
void Evil;
export default async () => [await tools.add({ a: 1, b: 2 }), ...tries];
