// expect: {"status":"error","code":"RESULT_NOT_PLAIN"}
const a = { name: 'loop' };
a.self = a;
export default a;
