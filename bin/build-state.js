// Whether the JavaScript build of this checkout (scripts/build.ts) may run in place of its
// TypeScript sources. Plain JavaScript, so that asking costs no TypeScript loading.
//
// A build is used only when it is exactly the checked-out code and no one else could have changed
// it: every file the build was made from or made (sources, packages, the build script itself) still has the
// size, modification time, change time and inode the build recorded, and so does every directory
// that holds one (a file added or removed beside an input changes its directory); the build's own
// folders and files are owned by this user and writable by no one else. A change time can't be set
// back by anyone but root, so a source edited in any way after the build makes it stale. Stale or
// untrusted: the caller runs the sources, as if there were no build.
import { lstatSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** What scripts/build.ts writes: the build's folder, relative to the checkout. */
export const BUILD_DIR = '.airlock-build/dist';
/** The manifest's format; a build of another format is not read. */
export const MANIFEST_VERSION = 2;

/** The stamp a path is recorded with: [size, mtime ns, ctime ns, inode], as decimal strings. */
export function stampOf(path) {
  const st = lstatSync(path, { bigint: true });
  return [String(st.size), String(st.mtimeNs), String(st.ctimeNs), String(st.ino)];
}

function sameStamp(path, want) {
  try {
    const have = stampOf(path);
    return have.length === want.length && have.every((v, i) => v === want[i]);
  } catch {
    return false;
  }
}

/** A real directory or file owned by this user that no one else may write. */
function ownedPrivately(path, kind) {
  try {
    const st = lstatSync(path);
    const right = kind === 'dir' ? st.isDirectory() : st.isFile();
    return right && st.uid === process.getuid?.() && (st.mode & 0o022) === 0;
  } catch {
    return false;
  }
}

/**
 * One part of the build of the checkout at `root` ('cli' or 'worker'; each is checked against its
 * own inputs, so the worker's few files are all a worker's start looks at), when it may run:
 * `{ dir, main, workerDir, workerEntry }` (absolute paths); otherwise null, with the reason in
 * `why` when one is passed.
 */
export function usableBuild(root, part, why = {}) {
  const dir = join(root, BUILD_DIR);
  for (const d of [join(root, '.airlock-build'), dir]) {
    if (!ownedPrivately(d, 'dir')) {
      why.reason = `${d} is missing, or not a directory of this user that only it may write`;
      return null;
    }
  }
  let manifest;
  try {
    manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
  } catch {
    why.reason = 'the build has no readable manifest';
    return null;
  }
  const checked = manifest?.parts?.[part];
  if (manifest?.version !== MANIFEST_VERSION || manifest.root !== root || !Array.isArray(checked?.inputs) || !Array.isArray(checked?.outputs)) {
    why.reason = 'the manifest is of another format or another checkout';
    return null;
  }
  if (!ownedPrivately(join(dir, 'manifest.json'), 'file')) {
    why.reason = 'the manifest may be written by others';
    return null;
  }
  for (const [path, stamp] of checked.inputs) {
    if (!sameStamp(path, stamp)) {
      why.reason = `${path} changed since the build`;
      return null;
    }
  }
  for (const [rel, kind, stamp] of checked.outputs) {
    if (!ownedPrivately(join(dir, rel), kind) || !sameStamp(join(dir, rel), stamp)) {
      why.reason = `${rel} of the build changed, or may be written by others`;
      return null;
    }
  }
  return {
    dir,
    main: join(dir, 'js', 'main.mjs'),
    workerDir: join(dir, 'worker'),
    workerEntry: join(dir, 'worker', 'worker-main.mjs'),
  };
}

/** The directories holding the given files (each recorded too: an entry added beside an input changes it). */
export function parentsOf(files) {
  return [...new Set(files.map((f) => dirname(f)))].sort();
}
