// The layout rules of ARCHITECTURE.md, read from the import statements of src/: no import
// cycles (type-only imports count: a cycle of types is still two files that can't be read
// apart), core imports nothing outside core, isolate/ and container/ never import each other,
// and nothing imports a front end.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { test } from 'node:test';

const SRC = join(import.meta.dirname, '..', 'src');

/** Every .ts file under src/, as a path relative to src/, with the src/ files it imports. */
function importGraph(): Map<string, string[]> {
  const files = readdirSync(SRC, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'));
  const graph = new Map<string, string[]>();
  for (const file of files) {
    const text = readFileSync(join(SRC, file), 'utf8');
    const specifiers = [...text.matchAll(/^\s*(?:import|export)\b[^'";]*?\bfrom\s+['"](\.{1,2}\/[^'"]+)['"]/gm)].map((m) => m[1] ?? '');
    graph.set(file, specifiers.map((s) => relative(SRC, resolve(SRC, dirname(file), s))));
  }
  return graph;
}

function cycles(graph: Map<string, string[]>): string[] {
  const found: string[] = [];
  const stack: string[] = [];
  const onStack = new Set<string>();
  const done = new Set<string>();
  const visit = (file: string): void => {
    stack.push(file);
    onStack.add(file);
    for (const dep of graph.get(file) ?? []) {
      if (onStack.has(dep)) found.push([...stack.slice(stack.indexOf(dep)), dep].join(' → '));
      else if (!done.has(dep)) visit(dep);
    }
    stack.pop();
    onStack.delete(file);
    done.add(file);
  };
  for (const file of graph.keys()) if (!done.has(file)) visit(file);
  return found;
}

const folderOf = (file: string): string => file.split('/')[0] ?? '';

test('the import graph is read (control: it holds the known edges), and has no cycles', () => {
  const graph = importGraph();
  assert.ok(graph.get('runtime/airlock.ts')?.includes('runtime/options.ts'), 'control: an edge that exists is seen');
  assert.ok(graph.get('core/result.ts')?.includes('core/errors.ts'), 'control: type-only imports are seen');
  assert.deepEqual(cycles(graph), []);
  // Control: the check finds a cycle when there is one.
  assert.deepEqual(cycles(new Map([['a.ts', ['b.ts']], ['b.ts', ['a.ts']]])), ['a.ts → b.ts → a.ts']);
});

test('core imports only core; isolate and container never import each other; nothing imports a front end', () => {
  const wrong: string[] = [];
  for (const [file, deps] of importGraph()) {
    for (const dep of deps) {
      const [from, to] = [folderOf(file), folderOf(dep)];
      if (from === 'core' && to !== 'core') wrong.push(`${file} → ${dep}: core imports nothing`);
      if ((from === 'isolate' && to === 'container') || (from === 'container' && to === 'isolate')) wrong.push(`${file} → ${dep}: the tiers never import each other`);
      if (to === 'cli' && from !== 'cli') wrong.push(`${file} → ${dep}: nothing imports a front end`);
      if (to === 'mcp' && from !== 'mcp' && from !== 'cli') wrong.push(`${file} → ${dep}: only the CLI imports the MCP front end`);
      if (from === 'mcp' && !['mcp', 'core', 'policy', 'runtime'].includes(to) && dep !== 'index.ts') wrong.push(`${file} → ${dep}: the MCP front end imports runtime, core, policy and the public API only`);
    }
  }
  assert.deepEqual(wrong, []);
});
