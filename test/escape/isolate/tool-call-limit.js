// expect: {"status":"denied","code":"LIMIT_TOOL_CALLS"}
for (let i = 0; i < 1000; i++) await tools.add({ a: i, b: 1 });
