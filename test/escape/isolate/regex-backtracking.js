// expect: {"status":"timeout","code":"CPU_TIMEOUT"}
export default /^(a+)+$/.test('a'.repeat(64) + 'b');
