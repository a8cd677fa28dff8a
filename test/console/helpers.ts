/**
 * Browser-test helpers: a real `airlock serve` (the CLI, in its own process, on loopback, with a
 * private AIRLOCK_HOME), API keys for tenants, JSON calls to its API, and Debian's chromium driven
 * by playwright-core. Every wait is on a condition, bounded; nothing depends on speed.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { tenantId } from '../../src/audit/store.ts';
import { KeyStore } from '../../src/server/keys.ts';

export const CHROMIUM = '/usr/bin/chromium';
const ROOT = join(import.meta.dirname, '..', '..');

export interface Serve extends AsyncDisposable {
  readonly url: string;
  readonly home: string;
  readonly key: (tenant: string) => string;
}

/** Starts `airlock serve --port 0` and resolves once it prints its URL (at most `withinMs`). */
export async function startServe(withinMs = 60_000): Promise<Serve> {
  const home = mkdtempSync(join(tmpdir(), 'airlock-console-'));
  const child: ChildProcess = spawn(process.execPath, [join(ROOT, 'bin', 'airlock.js'), 'serve', '--port', '0'], {
    env: { ...process.env, AIRLOCK_HOME: home },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (b: Buffer) => (stderr += b.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`airlock serve did not start within ${withinMs} ms: ${stderr}`)), withinMs);
    child.stdout?.on('data', (b: Buffer) => {
      out += b.toString();
      const m = /listening on (http:\/\/\S+) /.exec(out);
      if (m?.[1] !== undefined) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`airlock serve exited (${code}): ${stderr}`));
    });
  });
  const keys = KeyStore.open(home);
  return {
    url,
    home,
    key: (tenant) => keys.create(tenantId(tenant)).key,
    [Symbol.asyncDispose]: async () => {
      keys.close();
      // A server that already exited (it crashed mid-test) emits no 'exit' again: don't wait for one.
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        // Its drain is bounded (--drain-ms, 30 s); past that and a margin, it is killed.
        const killer = setTimeout(() => child.kill('SIGKILL'), 45_000);
        await exited;
        clearTimeout(killer);
      }
      rmSync(home, { recursive: true, force: true });
    },
  };
}

/** A JSON call to the API with a key. */
export async function api(base: string, key: string, method: string, path: string, body?: unknown): Promise<{ status: number; json: unknown }> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, json: text === '' ? null : (JSON.parse(text) as unknown) };
}

export interface Chromium extends AsyncDisposable {
  readonly browser: Browser;
  /** A page in a fresh context (its own cookies), with every dialog, console message and page error recorded. */
  readonly page: () => Promise<WatchedPage>;
}

export interface WatchedPage {
  readonly page: Page;
  readonly dialogs: string[];
  readonly errors: string[];
  readonly console: string[];
}

export async function launchChromium(): Promise<Chromium> {
  // Root can't use chromium's own sandbox (it needs an unprivileged user); the pages are our own.
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
  return {
    browser,
    page: async () => {
      const context = await browser.newContext();
      const page = await context.newPage();
      // Bounded, and generous: the machine is shared; a wait ends as soon as its condition holds.
      context.setDefaultTimeout(60_000);
      const watched: WatchedPage = { page, dialogs: [], errors: [], console: [] };
      page.on('dialog', (d) => {
        watched.dialogs.push(d.message());
        void d.dismiss();
      });
      page.on('pageerror', (e) => watched.errors.push(e.message));
      page.on('console', (m) => watched.console.push(m.text()));
      return watched;
    },
    [Symbol.asyncDispose]: async () => {
      await browser.close();
    },
  };
}

/** Signs in on the console's form and waits for the runs view. */
export async function signIn(page: Page, base: string, key: string): Promise<void> {
  await page.goto(`${base}/console/sign-in`);
  await page.getByLabel('Tenant API key').fill(key);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${base}/console/runs`);
}

/** `airlock warrant …` in a server's home (its keys are the server's trusted roots), answering its one JSON object. */
export function warrantCli(home: string, args: readonly string[]): Record<string, unknown> {
  const r = spawnSync(process.execPath, [join(ROOT, 'bin', 'airlock.js'), 'warrant', ...args, '--json'], { env: { ...process.env, AIRLOCK_HOME: home }, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`airlock warrant ${args[0] ?? ''}: ${r.stdout}${r.stderr}`);
  return JSON.parse(r.stdout) as Record<string, unknown>;
}

/**
 * Waits until `expression` is truthy in the page, polling from here: playwright's waitForFunction
 * evaluates its predicate with eval inside the page, which the console's CSP (rightly) refuses.
 */
export async function until(page: Page, expression: string, withinMs = 60_000): Promise<void> {
  const end = Date.now() + withinMs;
  for (;;) {
    if (await page.evaluate<unknown>(expression)) return;
    if (Date.now() > end) throw new Error(`not true within ${withinMs} ms: ${expression}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * A file's shared server and browser: started before its tests, disposed after them.
 * @example
 *   const { serve, browser } = serveAndBrowser();
 *   test('…', async () => { const page = await browser().page(); … serve().url … });
 */
export function serveAndBrowser(): { serve: () => Serve; browser: () => Chromium } {
  const state: { serve?: Serve; chromium?: Chromium } = {};
  before(async () => {
    state.serve = await startServe();
    state.chromium = await launchChromium();
  });
  after(async () => {
    await state.chromium?.[Symbol.asyncDispose]();
    await state.serve?.[Symbol.asyncDispose]();
  });
  return { serve: () => state.serve ?? assert.fail('no server'), browser: () => state.chromium ?? assert.fail('no browser') };
}
