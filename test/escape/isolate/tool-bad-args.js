// expect: {"status":"denied","code":"TOOL_ARGS_INVALID"}
export default async () => await tools.add({ a: 'forty', b: 2, extra: 1 });
