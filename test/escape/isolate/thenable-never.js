// expect: {"status":"timeout","code":"WALL_TIMEOUT"}
// A thenable that never settles ends at the wall limit.
export default { then() {} };
