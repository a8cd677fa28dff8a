// The web console in a real browser (Debian's chromium, driven by playwright-core) against a real
// `airlock serve`: sign-in keeps the key on the server; the CSP admits no inline script; destroying
// a sandbox works with the session's CSRF token (and is audited) and does nothing without it; one
// tenant's session sees none of another's sandboxes. The runs views are in runs.test.ts.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { test } from 'node:test';
import { api, serveAndBrowser, signIn, until } from './helpers.ts';

const { serve, browser } = serveAndBrowser();

const VIEWS = ['/console/runs', '/console/sandboxes', '/console/warrants', '/console/check', '/console/audit'];

async function newSandbox(key: string): Promise<string> {
  const made = await api(serve().url, key, 'POST', '/v1/sandboxes', { policy: { version: 1, limits: { wallMs: 20_000 } } });
  assert.equal(made.status, 201, JSON.stringify(made.json));
  return (made.json as { id: string }).id;
}

async function destroyedInAudit(key: string, id: string): Promise<boolean> {
  const records = await api(serve().url, key, 'GET', `/v1/audit/${id}`);
  return (records.json as { records: { event: { kind: string } }[] }).records.some((r) => r.event.kind === 'sandbox.destroyed');
}

test('sign-in holds the key on the server: the cookie is HttpOnly, SameSite=Strict, Path=/console; the key is in no URL, page or script; a wrong key is refused', async () => {
  const { url } = serve();
  const key = serve().key('acme');
  const { page } = await browser().page();
  await page.goto(`${url}/console/runs`);
  assert.equal(new URL(page.url()).pathname, '/console/sign-in', 'signed out, a view sends you to sign in');

  await page.getByLabel('Tenant API key').fill(`${key.slice(0, -2)}xx`);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('alert').waitFor();
  assert.match(await page.getByRole('alert').innerText(), /AUTH_REQUIRED/, 'attack: a wrong key gets no session');
  assert.deepEqual(await page.context().cookies(), []);

  // Login CSRF: another site's page posting its own key into the victim's browser gets no session.
  for (const origin of ['http://evil.example', 'null']) {
    const res = await fetch(`${url}/console/sign-in`, { method: 'POST', headers: { origin, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ key }), redirect: 'manual' });
    assert.equal(res.status, 403, `Origin ${origin}`);
    assert.equal(res.headers.get('set-cookie'), null);
  }

  await signIn(page, url, key);
  const cookies = await page.context().cookies();
  assert.equal(cookies.length, 1);
  assert.deepEqual({ httpOnly: cookies[0]?.httpOnly, sameSite: cookies[0]?.sameSite, path: cookies[0]?.path }, { httpOnly: true, sameSite: 'Strict', path: '/console' });
  assert.ok(!cookies[0]?.value.includes(key.slice(4, 20)), 'the cookie is a session id, not the key');
  assert.equal(await page.evaluate<string>('document.cookie'), '', "the page's scripts can't read the session");
  for (const view of VIEWS) {
    await page.goto(`${url}${view}`);
    assert.ok(!page.url().includes(key) && !(await page.content()).includes(key), `${view}: the key is not in the URL or the page`);
  }
  const script = await (await fetch(`${url}/console/assets/console.js`)).text();
  assert.ok(!script.includes(key));

  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.waitForURL(`${url}/console/sign-in`);
  await page.goto(`${url}/console/sandboxes`);
  assert.equal(new URL(page.url()).pathname, '/console/sign-in', 'after sign-out the session is gone');
});

test('every view is served with the CSP and has no inline script, style or event handler; markup injected into a console page runs no inline handler (controls: the assets load and apply; the same markup runs without the CSP)', async () => {
  const { url } = serve();
  const key = serve().key('acme');
  const watched = await browser().page();
  await signIn(watched.page, url, key);
  const cookie = (await watched.page.context().cookies()).map((c) => `${c.name}=${c.value}`).join('; ');
  const csp = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";
  for (const view of [...VIEWS, '/console/sign-in']) {
    const res = await fetch(`${url}${view}`, { headers: { cookie }, redirect: 'manual' });
    assert.equal(res.status, 200, view);
    assert.equal(res.headers.get('content-security-policy'), csp, view);
    assert.equal(res.headers.get('x-frame-options'), 'DENY', view);
    const body = await res.text();
    const scripts = [...body.matchAll(/<script\b([^>]*)>/gi)].map((m) => m[1] ?? '');
    assert.deepEqual(scripts.map((a) => /\bsrc="\/console\/assets\/console\.js"/.test(a)), [true], `${view}: one script, from the assets`);
    assert.doesNotMatch(body, /<style\b|\sstyle=|\son[a-z]+=|javascript:/i, `${view}: nothing inline`);
  }
  // Control: the assets are served, and the browser applied the stylesheet under that CSP.
  await watched.page.goto(`${url}/console/sandboxes`);
  const font = await watched.page.evaluate<string>("getComputedStyle(document.querySelector('main')).maxWidth");
  assert.equal(font, '1280px', 'console.css applied');
  assert.deepEqual(watched.errors, []);
  assert.ok(!watched.console.some((m) => /Content Security Policy/i.test(m)), `no CSP violation: ${watched.console.join('\n')}`);

  // The second layer: markup that got into a console page anyway runs no inline handler there
  // (control: the same markup in a page without the CSP runs it).
  const inject = `document.querySelector('main').insertAdjacentHTML('beforeend', '<img src=x onerror="window.__pwned=1">'); new Promise((r) => setTimeout(r, 0))`;
  const blank = await browser().page();
  await blank.page.setContent('<main></main>');
  await blank.page.evaluate(inject);
  await until(blank.page, 'window.__pwned === 1');
  // Waited on: the browser reports the refused handler (securitypolicyviolation), then the flag is read.
  await watched.page.evaluate("document.addEventListener('securitypolicyviolation', (e) => { window.__refused = e.violatedDirective; })");
  await watched.page.evaluate(inject);
  await until(watched.page, 'window.__refused !== undefined');
  assert.match(await watched.page.evaluate<string>('window.__refused'), /^script-src/);
  assert.equal(await watched.page.evaluate<unknown>('window.__pwned'), undefined, 'the CSP refused the inline handler');
});

test("destroy a sandbox from the console: gone from the API, recorded as sandbox.destroyed; tenant B's session sees none of A's sandboxes", async () => {
  const { url } = serve();
  const keyA = serve().key('acme');
  const keyB = serve().key('globex');
  const id = await newSandbox(keyA);

  const b = await browser().page();
  await signIn(b.page, url, keyB);
  await b.page.goto(`${url}/console/sandboxes`);
  await b.page.getByText('No live sandboxes.').waitFor();
  assert.ok(!(await b.page.content()).includes(id), "tenant B's page does not show A's sandbox");
  assert.deepEqual((await api(url, keyB, 'GET', '/v1/sandboxes')).json, { sandboxes: [] });

  const a = await browser().page();
  await signIn(a.page, url, keyA);
  await a.page.goto(`${url}/console/sandboxes`);
  const row = a.page.locator(`tr[data-sandbox="${id}"]`);
  await row.waitFor();
  assert.match(await row.innerText(), /container/);
  assert.match(await row.innerText(), /20.0 s per command/, 'the limits it was made with');
  await a.page.getByRole('button', { name: `Destroy sandbox ${id}` }).click();
  await a.page.getByRole('status').filter({ hasText: 'was destroyed' }).waitFor();
  assert.equal(await a.page.locator(`tr[data-sandbox="${id}"]`).count(), 0, 'the row is gone');
  assert.equal((await api(url, keyA, 'GET', `/v1/sandboxes/${id}`)).status, 404, 'the API no longer has it');
  assert.ok(await destroyedInAudit(keyA, id), 'the destroy is in the audit log');
});

test('CSRF: a destroy posted without the session token, with a wrong one, or from another Origin destroys nothing (control: the same post with the token does)', async () => {
  const { url } = serve();
  const key = serve().key('acme');
  const id = await newSandbox(key);
  const { page } = await browser().page();
  await signIn(page, url, key);
  await page.goto(`${url}/console/sandboxes`);
  await page.locator(`tr[data-sandbox="${id}"]`).waitFor();
  const token = await page.locator(`tr[data-sandbox="${id}"] input[name="csrf"]`).inputValue();

  // From the signed-in page itself (same origin, cookie attached): no token, then a wrong one.
  const post = (body: Record<string, string>): Promise<number> =>
    page.evaluate(async ([path, form]) => {
      const res = await fetch(path, { method: 'POST', body: new URLSearchParams(form), redirect: 'manual' });
      // A redirect (the console's answer to a done destroy) is opaque to a page's fetch.
      return res.type === 'opaqueredirect' ? 303 : res.status;
    }, [`/console/sandboxes/${id}/destroy`, body] as const);
  assert.equal(await post({}), 403, 'no token');
  assert.equal(await post({ csrf: `${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}` }), 403, 'wrong token');
  // With the cookie and the right token, but sent from another site's page (its Origin).
  const cookie = (await page.context().cookies()).map((c) => `${c.name}=${c.value}`).join('; ');
  for (const origin of ['http://evil.example', `http://localhost:${new URL(url).port}`]) {
    const res = await fetch(`${url}/console/sandboxes/${id}/destroy`, { method: 'POST', headers: { cookie, origin, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ csrf: token }), redirect: 'manual' });
    assert.equal(res.status, 403, `Origin ${origin}`);
  }
  // Nor without any Origin at all (not a browser form).
  const bare = await fetch(`${url}/console/sandboxes/${id}/destroy`, { method: 'POST', headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ csrf: token }), redirect: 'manual' });
  assert.equal(bare.status, 403, 'no Origin');
  assert.equal((await api(url, key, 'GET', `/v1/sandboxes/${id}`)).status, 200, 'the sandbox is still alive');
  assert.equal(await destroyedInAudit(key, id), false, 'and nothing was destroyed');

  // Control: the same post with the token, from the page, destroys it.
  assert.equal(await post({ csrf: token }), 303);
  assert.equal((await api(url, key, 'GET', `/v1/sandboxes/${id}`)).status, 404);
  assert.ok(await destroyedInAudit(key, id));
});

test('check: a re-run posted without the session token runs no probe (control: the button runs the five questions, each answered with its evidence)', async () => {
  const { url } = serve();
  const key = serve().key('initech');
  const { page } = await browser().page();
  await signIn(page, url, key);
  await page.goto(`${url}/console/check`);
  await page.getByText('No report yet').waitFor();
  const probes = async (): Promise<number> => ((await api(url, key, 'GET', '/v1/audit')).json as { records: unknown[] }).records.length;
  const status = await page.evaluate<number>(`fetch('/console/check', { method: 'POST', body: new URLSearchParams({ policy: '' }), redirect: 'manual' }).then((r) => r.status)`);
  assert.equal(status, 403);
  assert.equal(await probes(), 0, 'no probe ran for this tenant');
  await page.reload();
  await page.getByText('No report yet').waitFor();

  await page.getByRole('button', { name: 'Run the check' }).click();
  await page.locator('table.check').waitFor({ timeout: 120_000 });
  assert.match(await page.getByRole('status').innerText(), /all five answers are no/);
  const rows = page.locator('table.check tbody tr');
  assert.equal(await rows.count(), 5);
  for (const text of await rows.allInnerTexts()) {
    const cells = text.split('\t');
    assert.equal(cells[1]?.trim(), 'no', text);
    assert.ok((cells[2]?.trim() ?? '') !== '' && (cells[3]?.trim() ?? '') !== '', `the policy's answer and the probe's observation are shown: ${text}`);
  }
  assert.ok((await probes()) > 0, 'control: the check ran its probes in this tenant');
});

test("check a stored policy: chosen by name, its five answers with evidence (a granted route answers yes to network); tenant B's page does not list A's policies", async () => {
  const { url } = serve();
  const keyA = serve().key('acme');
  const keyB = serve().key('globex');
  const stored = await api(url, keyA, 'PUT', '/v1/policies/web-out', { version: 1, network: { routes: [{ host: 'example.org', scheme: 'https' }] } });
  assert.equal(stored.status, 200, JSON.stringify(stored.json));

  const b = await browser().page();
  await signIn(b.page, url, keyB);
  await b.page.goto(`${url}/console/check`);
  assert.deepEqual(await b.page.locator('select[name="policy"] option').allInnerTexts(), ['no policy (deny all)'], "B's list holds none of A's policies");

  const { page } = await browser().page();
  await signIn(page, url, keyA);
  await page.goto(`${url}/console/check`);
  await page.getByLabel('Policy').selectOption('web-out');
  await page.getByRole('button', { name: 'Run the check' }).click();
  await page.locator('table.check').waitFor({ timeout: 120_000 });
  assert.equal(new URL(page.url()).search, '?policy=web-out');
  // Network is among the yes answers; which others join it can depend on a loaded machine (a probe
  // that could not verify answers yes, failing closed), so only network's is held here.
  assert.match(await page.getByRole('status').innerText(), /Policy web-out[\s\S]*yes to [^.;]*\bnetwork\b/);
  const network = await page.locator('table.check tbody tr').filter({ hasText: 'reach the network' }).innerText();
  assert.match(network, /yes/);
  assert.match(network, /example\.org/, 'the evidence names the route');
});

// Last in this file: it breaks the shared server's log.
test("audit integrity: the page shows the chain holding with its head (control), then an edited record as a broken chain at its seq", async () => {
  const { url, home } = serve();
  const key = serve().key('acme');
  assert.equal((await api(url, key, 'POST', '/v1/runs', { code: "export default () => 'recorded'" })).status, 200);
  const verdict = (await api(url, key, 'GET', '/v1/audit/verify')).json as { ok: boolean; head: { seq: number; hash: string } };
  assert.equal(verdict.ok, true);
  const { page } = await browser().page();
  await signIn(page, url, key);
  await page.goto(`${url}/console/audit`);
  assert.match(await page.getByRole('status').innerText(), /^The chain holds/);
  const head = await page.locator('dl.facts dd').first().innerText();
  assert.ok(head.includes(`seq ${verdict.head.seq}`) && head.includes(verdict.head.hash), head);

  const db = new DatabaseSync(join(home, 'audit.db'));
  db.exec("DROP TRIGGER audit_events_no_update; UPDATE audit_events SET event = replace(event, 'recorded', 'rewritten') WHERE kind = 'run.ended'");
  db.close();
  await page.reload();
  assert.match(await page.getByRole('status').innerText(), /does NOT hold/);
  assert.match(await page.getByRole('alert').innerText(), /AUDIT_CHAIN_BROKEN/);
});
