#!/usr/bin/env node
// The CLI entry. It runs the JavaScript build of this checkout (scripts/build.ts, made at set-up)
// when bin/build-state.js finds it current and private to this user; otherwise the TypeScript
// sources, run directly by Node 24 (type stripping). Either way it is the checked-out code.
//
// Before anything else loads, Node's compile cache is turned on in the checkout's build folder:
// a later start reuses the compiled modules instead of redoing them. Compiled code from a cache is
// trusted like the sources, so the cache is used only from a real directory owned by this user
// that no one else may write; if it can't be made so, airlock runs without it.
import { lstatSync, mkdirSync } from 'node:fs';
import { enableCompileCache } from 'node:module';
import { fileURLToPath } from 'node:url';
import { usableBuild } from './build-state.js';

const root = fileURLToPath(new URL('..', import.meta.url)).replace(/\/$/, '');
const build = `${root}/.airlock-build/`;
const cache = `${build}compile-cache`;
const ownedPrivately = (path) => {
  const st = lstatSync(path);
  return st.isDirectory() && st.uid === process.getuid?.() && (st.mode & 0o022) === 0;
};
try {
  mkdirSync(cache, { recursive: true, mode: 0o700 });
  if (ownedPrivately(build) && ownedPrivately(cache)) enableCompileCache(cache);
} catch {
  // No cache: slower starts, nothing else changes.
}
const built = usableBuild(root, 'cli');
await import(built === null ? '../src/cli/main.ts' : built.main);
