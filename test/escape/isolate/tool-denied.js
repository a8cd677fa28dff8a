// expect: {"status":"denied","code":"TOOL_NOT_GRANTED"}
export default async () => await tools.deleteEverything({ really: true });
