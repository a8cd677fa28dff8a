#!/usr/bin/env node
// The CLI entry. airlock's sources are TypeScript run directly by Node 24 (type stripping).
//
// Before anything else loads, Node's compile cache is turned on in the checkout's build folder:
// a later start reuses the stripped and compiled modules instead of redoing them (most of a
// one-shot `airlock run`'s start). Compiled code from a cache is trusted like the sources, so the
// cache is used only from a real directory owned by this user that no one else may write; if it
// can't be made so, airlock runs without it.
import { lstatSync, mkdirSync } from 'node:fs';
import { enableCompileCache } from 'node:module';

const build = new URL('../.airlock-build/', import.meta.url).pathname;
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
await import('../src/cli/main.ts');
