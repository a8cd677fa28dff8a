/**
 * Turns a guest ES module into the body of one async function, so that top-level await is
 * awaited by the guest itself. (isolated-vm's module.evaluate() settles before a top-level await
 * on a host call finishes, and then drops that await's rejection: a test pins this.)
 *
 *   export default X        →  $$airlock_default = X
 *   export function f() {}  →  function f() {}
 *   export { a as default } →  $$airlock_default = a
 *   import … / export … from →  refused: a sandboxed module has no imports
 *
 * Only `export` keywords are rewritten, in place, so line numbers in errors stay the guest's own.
 */
import { parse, type Node } from 'acorn';
import { AirlockError } from '../core/errors.ts';

export const DEFAULT_SLOT = '$$airlock_default';

interface Edit {
  readonly start: number;
  readonly end: number;
  readonly text: string;
}

type AnyNode = Node & Record<string, unknown>;

function noImports(node: AnyNode): AirlockError {
  const loc = node.loc;
  const where = loc ? ` at line ${loc.start.line}, column ${loc.start.column + 1}` : '';
  return new AirlockError('IMPORT_NOT_AVAILABLE', `import and re-export are not available${where}: a sandboxed module has no imports; use the granted tools instead`);
}

function editsFor(node: AnyNode): Edit[] {
  switch (node.type) {
    case 'ImportDeclaration':
    case 'ExportAllDeclaration':
      throw noImports(node);
    case 'ExportNamedDeclaration': {
      if (node['source'] !== null && node['source'] !== undefined) throw noImports(node);
      const decl = node['declaration'] as AnyNode | null;
      if (decl !== null) return [{ start: node.start, end: decl.start, text: '' }];
      const specifiers = node['specifiers'] as { local: { name: string }; exported: { name?: string; value?: string } }[];
      const defaults = specifiers.filter((s) => (s.exported.name ?? s.exported.value) === 'default');
      return [{ start: node.start, end: node.end, text: defaults.map((s) => `${DEFAULT_SLOT} = ${s.local.name};`).join(' ') }];
    }
    case 'ExportDefaultDeclaration': {
      const decl = node['declaration'] as AnyNode;
      const id = decl['id'] as { name: string } | null | undefined;
      const named = (decl.type === 'FunctionDeclaration' || decl.type === 'ClassDeclaration') && id != null;
      if (named) return [{ start: node.start, end: decl.start, text: '' }, { start: node.end, end: node.end, text: `;${DEFAULT_SLOT} = ${id.name};` }];
      return [{ start: node.start, end: decl.start, text: `${DEFAULT_SLOT} = ` }, { start: node.end, end: node.end, text: ';' }];
    }
    default:
      return [];
  }
}

/**
 * The module was checked as a module but runs inside a classic script, and the two grammars
 * tokenize one thing differently: in a script, `<!--` and a line-leading `-->` start comments
 * (Annex B.1.1), so text the module parse saw inside a string could run outside the wrapper. When
 * either appears, the script is parsed as a script too, and must be the one function expression.
 */
function checkScriptShape(script: string): void {
  let program: AnyNode;
  try {
    program = parse(script, { ecmaVersion: 'latest', sourceType: 'script' }) as unknown as AnyNode;
  } catch {
    program = { type: 'Program', body: [] } as unknown as AnyNode;
  }
  const body = program['body'] as AnyNode[];
  const only = body.length === 1 ? body[0] : undefined;
  const expression = only?.type === 'ExpressionStatement' ? (only['expression'] as AnyNode) : undefined;
  if (expression?.type !== 'FunctionExpression' || expression.start !== 1 || expression.end !== script.length - 1) {
    throw new AirlockError('SYNTAX_ERROR', 'HTML-like comments ("<!--" or a line-leading "-->") change what a script means: remove them (write "a-- > b" with spaces, or split the string)');
  }
}

/** The script whose completion value is `async function () { …module body…; return default }`. */
export function moduleToFunction(source: string, program: Node): string {
  const edits = ((program as AnyNode)['body'] as AnyNode[]).flatMap(editsFor).sort((a, b) => b.start - a.start);
  let body = source;
  for (const e of edits) body = body.slice(0, e.start) + e.text + body.slice(e.end);
  const script = `(async function () {'use strict'; let ${DEFAULT_SLOT}; ${body}\n;return ${DEFAULT_SLOT};})`;
  if (source.includes('<!--') || source.includes('-->')) checkScriptShape(script);
  return script;
}
