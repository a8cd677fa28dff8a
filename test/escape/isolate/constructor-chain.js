// expect: {"status":"ok","result":["undefined","undefined","undefined","undefined",2]}
// The Function constructor reached through any object builds guest code only: no host globals.
const F = ({}).constructor.constructor;
const g = F('return this')();
export default [typeof g.process, typeof g.require, F('return typeof process')(), typeof g.fetch, F('return 1 + 1')()];
