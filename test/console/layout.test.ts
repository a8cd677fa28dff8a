// The console has no second path to the data: its files import nothing of airlock's but each
// other (and the server's env type), so everything it shows came through the /v1 routes, as the
// signed-in key. Read from the import statements of src/server/console/.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { test } from 'node:test';

const SRC = join(import.meta.dirname, '..', '..', 'src');
const CONSOLE = join(SRC, 'server', 'console');
/** Type-only imports allowed from outside: the Hono env the app is built with. */
const ALLOWED = new Set(['server/guard.ts']);

function outside(files: ReadonlyMap<string, string>): string[] {
  const wrong: string[] = [];
  for (const [file, text] of files) {
    for (const m of text.matchAll(/^\s*(import|export)\b([^'";]*?)\bfrom\s+['"](\.{1,2}\/[^'"]+)['"]/gm)) {
      const target = relative(SRC, resolve(dirname(join(CONSOLE, file)), m[3] ?? ''));
      const typeOnly = /^\s*type\b/.test(m[2] ?? '');
      if (target.startsWith('server/console/')) continue;
      if (ALLOWED.has(target) && typeOnly) continue;
      wrong.push(`${file} → ${target}`);
    }
  }
  return wrong;
}

test("the console's files import only each other (and the server's env type): no store, key file or runtime", () => {
  const files = new Map(readdirSync(CONSOLE, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts')).map((f) => [f, readFileSync(join(CONSOLE, f), 'utf8')]));
  assert.ok(files.size >= 10, 'the files are read');
  assert.deepEqual(outside(files), []);
  // Control: an import of the audit store, or a value import of the guard, is caught.
  assert.deepEqual(outside(new Map([['views/x.ts', "import { SqliteAuditStore } from '../../../audit/sqlite-store.ts';\nimport { apiKeyGuard } from '../../guard.ts';"]])), ['views/x.ts → audit/sqlite-store.ts', 'views/x.ts → server/guard.ts']);
});
