// expect: {"status":"timeout"}
export default { get x() { for (;;) {} } };
