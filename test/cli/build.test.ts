// The CLI's JavaScript build (scripts/build.ts) runs only while it is exactly the checked-out code:
// a copy of the checkout is built, then its sources are edited, its build is opened to others, and
// each time the CLI is asked which code it loads (a resolve hook logs every module) and what it says.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { usableBuild } from '../../bin/build-state.js';

const ROOT = join(import.meta.dirname, '..', '..');
const LOGGER = join(ROOT, 'test', 'fixtures', 'log-modules.ts');

/** A checkout of its own: the files the CLI and its build are made of, and the packages by link. */
function copyCheckout(): string {
  const dir = mkdtempSync(join(tmpdir(), 'airlock-build-'));
  for (const part of ['src', 'bin', 'scripts', 'package.json', 'package-lock.json', 'tsconfig.json']) cpSync(join(ROOT, part), join(dir, part), { recursive: true });
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  return dir;
}

function build(dir: string): void {
  const r = spawnSync(process.execPath, [join(dir, 'scripts', 'build.ts')], { encoding: 'utf8', timeout: 120_000 });
  assert.equal(r.status, 0, r.stderr);
}

/** `airlock --help` in the copy: what it printed, and whether its code came from the build or the sources. */
function help(dir: string): { out: string; loaded: 'build' | 'sources' } {
  const log = join(dir, `modules-${String(Date.now())}-${String(Math.random()).slice(2)}.log`);
  const r = spawnSync(process.execPath, ['--import', LOGGER, join(dir, 'bin', 'airlock.js'), '--help'], { encoding: 'utf8', env: { ...process.env, AIRLOCK_TEST_MODULE_LOG: log }, timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  const urls = readFileSync(log, 'utf8').split('\n');
  const fromBuild = urls.some((u) => u.endsWith('/.airlock-build/dist/js/main.mjs'));
  const fromSources = urls.some((u) => u.endsWith('/src/cli/main.ts'));
  assert.notEqual(fromBuild, fromSources, 'exactly one of the two ran');
  return { out: r.stdout, loaded: fromBuild ? 'build' : 'sources' };
}

test('the build runs while it is current; an edited source runs from the sources until the next build', () => {
  const dir = copyCheckout();
  try {
    build(dir);
    // Control: a current build is what runs.
    assert.notEqual(usableBuild(dir, 'cli'), null);
    assert.equal(help(dir).loaded, 'build');
    // The source changes after the build: the CLI runs the changed source, never the stale build.
    const main = join(dir, 'src', 'cli', 'main.ts');
    writeFileSync(main, readFileSync(main, 'utf8').replace('run code nobody trusts:', 'EDITED AFTER THE BUILD:'));
    const stale = help(dir);
    assert.equal(stale.loaded, 'sources');
    assert.match(stale.out, /EDITED AFTER THE BUILD:/);
    assert.equal(usableBuild(dir, 'cli'), null);
    // Set-up builds again, and the new build (with the edit) is what runs.
    build(dir);
    const rebuilt = help(dir);
    assert.equal(rebuilt.loaded, 'build');
    assert.match(rebuilt.out, /EDITED AFTER THE BUILD:/);
    // A file the build read from a package counts too.
    const pkg = join(ROOT, 'node_modules', 'commander', 'package.json');
    const manifest = JSON.parse(readFileSync(join(dir, '.airlock-build', 'dist', 'manifest.json'), 'utf8')) as { parts: { cli: { inputs: [string, unknown][] } } };
    assert.ok(manifest.parts.cli.inputs.some(([p]) => p.startsWith(join(ROOT, 'node_modules', 'commander'))), `the packages are inputs (${pkg})`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a build that others may write, or whose output changed, is not run', () => {
  const dir = copyCheckout();
  try {
    build(dir);
    assert.equal(help(dir).loaded, 'build', 'control: the build runs');
    const dist = join(dir, '.airlock-build', 'dist');
    // Its folder open to everyone: anyone could have swapped the build, so it is not trusted.
    chmodSync(join(dir, '.airlock-build'), 0o777);
    const why: { reason?: string } = {};
    assert.equal(usableBuild(dir, 'cli', why), null);
    assert.match(why.reason ?? '', /only it may write/);
    assert.equal(help(dir).loaded, 'sources');
    chmodSync(join(dir, '.airlock-build'), 0o755);
    assert.equal(help(dir).loaded, 'build', 'control: closed again, it runs again');
    // An output that is not what the build wrote (its stamp moved) is not run either.
    const chunk = join(dist, 'js', 'main.mjs');
    writeFileSync(chunk, `${readFileSync(chunk, 'utf8')}\n`);
    const after = help(dir);
    assert.equal(after.loaded, 'sources');
    assert.match(after.out, /run code nobody trusts/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
