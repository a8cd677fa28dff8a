// expect: {"status":"timeout","code":"CPU_TIMEOUT"}
for (;;) {}
