// expect: {"status":"timeout"}
// A Proxy result whose traps never return: copying it out runs guest code, bounded by the CPU limit.
export default new Proxy({}, { ownKeys() { for (;;) {} } });
