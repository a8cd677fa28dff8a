// expect: {"status":"error","code":"GUEST_ERROR"}
const f = (n) => f(n + 1) + 1;
export default f(0);
