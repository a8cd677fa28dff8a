// expect: {"status":"timeout","code":"CPU_TIMEOUT"}
// limits: {"wallMs":30000}
for (;;) {}
