// The warrants view in a real browser: a pasted two-level chain shows each level's grants and what
// the child narrowed (control); a token with one character changed shows as not verifying, its
// links marked as unverified claims; another tenant's warrant shows nothing of it; the token is
// never echoed into the page.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { serveAndBrowser, signIn, warrantCli } from './helpers.ts';

const { serve, browser } = serveAndBrowser();

function chain(tenant: string): string {
  const home = serve().home;
  const kid = String(warrantCli(home, ['keygen', '--trust'])['kid']);
  const root = String(warrantCli(home, ['issue', '--key', kid, '--tenant', tenant, '--ttl', '1h', '--grants', JSON.stringify([{ tool: 'mail.*', ops: ['read', 'send'], resources: ['mail:thread/*'] }])])['token']);
  return String(warrantCli(home, ['attenuate', root, '--ttl', '10m', '--grants', JSON.stringify([{ tool: 'mail.*', ops: ['read'], resources: ['mail:thread/*'] }])])['token']);
}

async function inspect(key: string, token: string): Promise<{ status: string; levels: string[]; html: string }> {
  const { url } = serve();
  const { page } = await browser().page();
  await signIn(page, url, key);
  await page.goto(`${url}/console/warrants`);
  await page.getByLabel('Warrant token').fill(token);
  await page.getByRole('button', { name: 'Inspect' }).click();
  await page.getByRole('status').waitFor();
  return { status: await page.getByRole('status').innerText(), levels: await page.locator('ol.chain > li').allInnerTexts(), html: await page.content() };
}

test('a two-level chain: each level with its grants, the child narrowed to read only and a sooner expiry (control)', async () => {
  const token = chain('acme');
  const seen = await inspect(serve().key('acme'), token);
  assert.match(seen.status, /^The chain verifies/);
  assert.ok(!seen.html.includes('id="unverified"'));
  assert.equal(seen.levels.length, 2);
  assert.match(seen.levels[0] ?? '', /Level 0[\s\S]*mail\.\*: read, send on mail:thread\/\*/);
  assert.match(seen.levels[1] ?? '', /Level 1[\s\S]*Narrowed from its parent[\s\S]*expires sooner/);
  assert.ok(!seen.html.includes(token), 'the token is not echoed into the page');
});

test("a token with one character changed does not verify (its links shown as unverified claims); another tenant's warrant shows nothing of it", async () => {
  const token = chain('acme');
  const at = token.length - 5;
  const forged = `${token.slice(0, at)}${token[at] === 'A' ? 'B' : 'A'}${token.slice(at + 1)}`;
  const bad = await inspect(serve().key('acme'), forged);
  assert.match(bad.status, /does not verify/);
  assert.match(bad.html, /WARRANT_INVALID/);
  assert.ok(bad.levels.length === 0 || bad.html.includes('id="unverified"'), 'what it claims is marked as not verified');

  const other = await inspect(serve().key('globex'), token);
  assert.match(other.status, /does not verify/);
  assert.equal(other.levels.length, 0, "B sees none of A's chain");
  assert.ok(!other.html.includes('mail:thread'), "none of A's grants");
});
