// expect: {"status":"killed","code":"OUTPUT_LIMIT"}
for (;;) { try { console.log('x'.repeat(1000)); } catch {} }
