/**
 * The glob language of the data-flow rules: `*` (or `**`) matches any run of characters, `/` and
 * `.` included; everything else is literal. It is the separator-less case of the warrants' globs,
 * so a rule reads the same in both places (`mail:thread/*`, `*@example.com`, `mail.*`).
 *
 * @example
 *   compileFlowGlob('mail:thread/*').test('mail:thread/t1')   // true
 *   compileFlowGlob('*@corp.example').test('x@evil.example')  // false
 */
const escapeRegExp = (text: string): string => text.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&');

export function compileFlowGlob(pattern: string): RegExp {
  const body = pattern
    .split(/\*+/)
    .map(escapeRegExp)
    .join('[\\s\\S]*');
  return new RegExp(`^${body}$`);
}
