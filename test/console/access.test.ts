// Accessibility of every console view, checked by axe-core (WCAG 2 A and AA rules, colour contrast
// among them) in chromium, with a control page that has a known contrast failure so the check is
// seen to bite; and keyboard use: the first Tab reaches the skip link, which moves focus to main.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AxeBuilder } from '@axe-core/playwright';
import { api, serveAndBrowser, signIn, until } from './helpers.ts';

const { serve, browser } = serveAndBrowser();

const WCAG = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];

test('every view passes axe-core WCAG 2.1 A/AA, contrast included (control: a low-contrast page fails it)', async () => {
  const { url } = serve();
  const key = serve().key('acme');
  const run = await api(url, key, 'POST', '/v1/runs', { code: "export default async () => { try { await fetch('http://blocked.example/'); } catch { return 'refused'; } }", policy: { version: 1, network: { routes: [{ host: 'allowed.example', scheme: 'http' }] } } });
  const id = (run.json as { id: string }).id;
  assert.equal((await api(url, key, 'POST', '/v1/sandboxes', { policy: { version: 1, limits: { wallMs: 20_000 } } })).status, 201);
  const { page } = await browser().page();
  await page.goto(`${url}/console/sign-in`);
  const signInPage = await new AxeBuilder({ page }).withTags(WCAG).analyze();
  assert.deepEqual(signInPage.violations.map((v) => v.id), [], 'sign-in');
  await signIn(page, url, key);
  for (const view of ['/console/runs', `/console/runs/${id}`, '/console/sandboxes', '/console/warrants', '/console/check', '/console/audit']) {
    await page.goto(`${url}${view}`);
    const found = await new AxeBuilder({ page }).withTags(WCAG).analyze();
    assert.deepEqual(found.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`), [], view);
    assert.ok(found.passes.some((p) => p.id === 'color-contrast'), `${view}: contrast was checked`);
  }

  // Control: the same check on a page with grey-on-grey text reports it.
  const control = await browser().page();
  await control.page.setContent('<html lang="en"><head><title>control</title></head><body><main><p style="color:#999;background:#aaa">hard to read</p></main></body></html>');
  const bad = await new AxeBuilder({ page: control.page }).withTags(WCAG).analyze();
  assert.ok(bad.violations.some((v) => v.id === 'color-contrast'));
});

test('keyboard: the first Tab reaches "Skip to content", Enter moves focus to the main content; Tab then visits the views in order', async () => {
  const { url } = serve();
  const { page } = await browser().page();
  await signIn(page, url, serve().key('acme'));
  await page.goto(`${url}/console/sandboxes`);
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate<string>('document.activeElement.textContent'), 'Skip to content');
  await page.keyboard.press('Enter');
  await until(page, "document.activeElement && document.activeElement.id === 'main'");
  // Tabbing from the top visits each nav link in order.
  await page.goto(`${url}/console/runs`);
  const names: string[] = [];
  for (let i = 0; i < 7; i += 1) {
    await page.keyboard.press('Tab');
    names.push(await page.evaluate<string>('document.activeElement.textContent.trim()'));
  }
  assert.deepEqual(names, ['Skip to content', 'airlock console', 'Runs', 'Sandboxes', 'Warrants', 'Check', 'Audit integrity']);
});
