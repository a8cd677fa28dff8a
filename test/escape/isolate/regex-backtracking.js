// expect: {"status":"timeout","code":"CPU_TIMEOUT"}
// limits: {"wallMs":30000}
export default /^(a+)+$/.test('a'.repeat(64) + 'b');
