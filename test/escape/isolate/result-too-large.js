// expect: {"status":"error","code":"RESULT_TOO_LARGE"}
export default 'x'.repeat(2 * 1024 * 1024);
