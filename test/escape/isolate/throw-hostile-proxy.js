// expect: {"status":"timeout"}
// Describing a thrown Proxy runs its traps in the guest, bounded by the CPU limit.
throw new Proxy({}, { get() { for (;;) {} }, ownKeys() { for (;;) {} }, getPrototypeOf() { for (;;) {} } });
