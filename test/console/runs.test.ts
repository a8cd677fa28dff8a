// The runs views in a real browser against a real `airlock serve`: a run the test made is in the
// timeline (and arrives live), opening it shows the denied call and its reason; a guest whose
// output and code are markup shows them as text and runs nothing; tenant B's session sees none of
// tenant A's runs; live updates survive many page loads.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { api, serveAndBrowser, signIn, until } from './helpers.ts';

const { serve, browser } = serveAndBrowser();

/** A run whose fetch to a host its policy does not grant is denied (the guest catches it and says so). */
const DENIED_FETCH = {
  code: `export default async () => { try { await fetch('http://blocked.example/steal'); return 'fetched'; } catch (e) { return 'refused'; } }`,
  policy: { version: 1, network: { routes: [{ host: 'allowed.example', scheme: 'http', methods: ['GET'] }] } },
};

const XSS = '<img src=x onerror="window.__pwned=1;alert(1)">';

async function run(key: string, body: unknown): Promise<string> {
  const r = await api(serve().url, key, 'POST', '/v1/runs', body);
  const id = (r.json as { id?: string }).id;
  assert.ok(typeof id === 'string', JSON.stringify(r.json));
  return id;
}

test('sign in, see the run the test made (and one made later, live), open it: the denied call and its reason', async () => {
  const { url } = serve();
  const key = serve().key('acme');
  const id = await run(key, DENIED_FETCH);
  const { page } = await browser().page();
  await signIn(page, url, key);
  // The code the API gives the denial (the console shows what the API says).
  const detail = (await api(url, key, 'GET', `/v1/runs/${id}`)).json as { decisions: { verdict: string; code: string | null }[] };
  const deniedCode = detail.decisions.find((d) => d.verdict === 'deny')?.code;
  assert.ok(typeof deniedCode === 'string' && deniedCode !== '', JSON.stringify(detail));
  const row = page.locator(`tr[data-run="${id}"]`);
  await row.waitFor();
  assert.ok((await row.innerText()).includes(deniedCode), 'the timeline names the denial');

  // Live: a run made while the page is open arrives without a reload.
  await page.locator('#runs[data-following="yes"]').waitFor();
  const later = await run(key, { code: 'export default () => 6 * 7' });
  await page.locator(`tr[data-run="${later}"]`).waitFor({ timeout: 30_000 });

  // Filtered by the denial code: the denied run is there, the clean one is not.
  await page.goto(`${url}/console/runs?code=${deniedCode}`);
  await page.locator(`tr[data-run="${id}"]`).waitFor();
  assert.equal(await page.locator(`tr[data-run="${later}"]`).count(), 0);

  await page.getByRole('link', { name: id }).click();
  await page.waitForURL(`${url}/console/runs/${id}`);
  const denied = page.locator('table.decisions tr.verdict-deny');
  await denied.first().waitFor();
  const text = await denied.first().innerText();
  assert.match(text, /denied/);
  assert.ok(text.includes(deniedCode), text);
  assert.match(text, /blocked\.example/, 'the target and reason name the host that was refused');
  assert.match(await page.locator('#output').innerText(), /refused/);
});

test('a guest whose output and code are markup: shown as text, nothing runs (control: the same markup in a page without the console runs its handler)', async () => {
  const { url } = serve();
  const key = serve().key('acme');
  // Single-quoted in the code, so the code itself holds the markup verbatim too.
  const code = `// </pre><script>window.__pwned=2</script>\nconsole.log('${XSS}');\nexport default () => '${XSS}';`;
  const id = await run(key, { code });
  const watched = await browser().page();
  await signIn(watched.page, url, key);
  await watched.page.goto(`${url}/console/runs/${id}`);
  const output = watched.page.locator('#output');
  await output.waitFor();
  assert.ok((await output.innerText()).includes(XSS), 'the markup it returned is visible, as text');
  assert.ok((await watched.page.locator('#stdout').innerText()).includes(XSS), 'and the markup it printed');
  assert.ok((await watched.page.locator('pre.code').innerText()).includes('<script>window.__pwned=2</script>'));
  assert.equal(await watched.page.locator('main img, main script').count(), 0, 'no element was made from it');
  assert.equal(await watched.page.evaluate<unknown>('window.__pwned'), undefined, 'no handler ran');
  assert.deepEqual(watched.dialogs, []);
  await watched.page.goto(`${url}/console/runs`);
  await watched.page.locator(`tr[data-run="${id}"]`).waitFor();
  assert.equal(await watched.page.evaluate<unknown>('window.__pwned'), undefined);

  // Control: the detector sees a handler that does run.
  const control = await browser().page();
  await control.page.setContent(`<main>${XSS}</main>`);
  await until(control.page, 'window.__pwned === 1');
  assert.deepEqual(control.dialogs, ['1']);
});

test("tenant B's session sees none of tenant A's runs: not in the timeline, not by id (control: A's session sees them)", async () => {
  const { url } = serve();
  const keyA = serve().key('acme');
  const keyB = serve().key('globex');
  const id = await run(keyA, DENIED_FETCH);
  const own = await run(keyB, { code: 'export default () => 1' });

  const b = await browser().page();
  await signIn(b.page, url, keyB);
  await b.page.locator(`tr[data-run="${own}"]`).waitFor();
  assert.ok(!(await b.page.content()).includes(id), "A's run is not in B's timeline");
  const listed = (await api(url, keyB, 'GET', '/v1/runs')).json as { runs: { id: string }[] };
  assert.ok(listed.runs.some((r) => r.id === own) && !listed.runs.some((r) => r.id === id), "nor in B's API answer");
  await b.page.goto(`${url}/console/runs/${id}`);
  await b.page.getByRole('alert').waitFor();
  assert.match(await b.page.getByRole('alert').innerText(), /NOT_FOUND/);
  assert.ok(!(await b.page.content()).includes('blocked.example'), "none of A's run is shown");

  const a = await browser().page();
  await signIn(a.page, url, keyA);
  await a.page.locator(`tr[data-run="${id}"]`).waitFor();
  assert.equal(await a.page.locator(`tr[data-run="${own}"]`).count(), 0);
  await a.page.goto(`${url}/console/runs/${id}`);
  assert.match(await a.page.locator('pre.code').innerText(), /blocked\.example/);
});

test("live updates survive many page loads: each closed page gives back its event stream (the API holds 8 per key), so the next page's still arrives", async () => {
  const { url } = serve();
  const key = serve().key('acme');
  const { page } = await browser().page();
  await signIn(page, url, key);
  // Each load opens a stream through the console and closes the previous page's.
  for (let i = 0; i < 12; i += 1) {
    await page.goto(`${url}/console/runs`);
    await page.locator('#runs[data-following="yes"]').waitFor();
  }
  const id = await run(key, { code: 'export default () => 1' });
  await page.locator(`tr[data-run="${id}"]`).waitFor({ timeout: 30_000 });
});
