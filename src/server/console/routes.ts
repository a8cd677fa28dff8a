/**
 * The web console at /console, served by `airlock serve`: its doors (console/guard.ts), the
 * sign-in and sign-out, each view, the live-update stream and the two assets. Every view reads
 * through the server's own /v1 routes as the session's key (console/api.ts), so it shows exactly
 * what that key's tenant may see, and nothing the API would not give it.
 *
 * @example
 *   consoleRoutes(app);   // in buildApp, after the /v1 routes
 */
import { Hono, type Context } from 'hono';
import { deleteCookie, setCookie } from 'hono/cookie';
import { html } from 'hono/html';
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { ServerEnv } from '../guard.ts';
import { ConsoleApi, type Fetcher } from './api.ts';
import { loadAssets } from './assets.ts';
import { runEvents } from './events.ts';
import { checkedForm, formLimit, headers, requireSession, sameOriginPosts, type ConsoleEnv } from './guard.ts';
import { pathId, text } from './format.ts';
import { page, type Markup, type ViewName } from './layout.ts';
import { COOKIE, SessionStore } from './session.ts';
import { auditView } from './views/audit.ts';
import { checkView, DENY_ALL, runCheck } from './views/check.ts';
import { runView } from './views/run.ts';
import { filtersFrom, runsView } from './views/runs.ts';
import { sandboxesView } from './views/sandboxes.ts';
import { signInView } from './views/signin.ts';
import { inspectView, warrantForm } from './views/warrants.ts';

export const CONSOLE_PATH = '/console';

export function consoleRoutes(app: OpenAPIHono<ServerEnv>): void {
  const now = Date.now;
  const sessions = new SessionStore({ now });
  const assets = loadAssets();
  // The outer app, so a console read passes every /v1 door an API client's does.
  const fetch: Fetcher = (request) => app.fetch(request);
  const ui = new Hono<ConsoleEnv>();
  const apiFor = (c: Context<ConsoleEnv>): ConsoleApi => new ConsoleApi({ fetch, key: c.var.session.key, host: c.req.header('host') ?? '' });
  const render = (c: Context<ConsoleEnv>, title: string, view: ViewName, body: Markup, status: 200 | 400 | 403 | 404 = 200): Response | Promise<Response> =>
    c.html(page({ title, view, csrf: c.var.session.csrf, body }), status);

  ui.use('*', headers(), sameOriginPosts(), formLimit());

  ui.get('/assets/:name', (c) => {
    const asset = assets.get(c.req.param('name'));
    if (asset === undefined) return c.text('Not found', 404);
    return c.body(asset.body, 200, { 'content-type': asset.type, 'cache-control': 'no-cache', 'x-content-type-options': 'nosniff' });
  });

  ui.get('/sign-in', (c) => c.html(page({ title: 'Sign in', body: signInView(null) })));

  ui.post('/sign-in', async (c) => {
    const body = await c.req.parseBody();
    const key = typeof body['key'] === 'string' ? body['key'].trim() : '';
    // The API says whether the key is live: the console keeps no key list of its own.
    const probe = new ConsoleApi({ fetch, key, host: c.req.header('host') ?? '' });
    const answer = key === '' ? null : await probe.get('/v1/sandboxes');
    if (answer?.ok !== true) {
      return c.html(page({ title: 'Sign in', body: signInView({ code: 'AUTH_REQUIRED', message: 'That key was not accepted (unknown, revoked or malformed). Paste a key from `airlock keys create --tenant T`.' }) }), 401);
    }
    const session = sessions.create(key);
    setCookie(c, COOKIE, session.id, { path: CONSOLE_PATH, httpOnly: true, sameSite: 'Strict', maxAge: SessionStore.cookieMaxAge(), secure: new URL(c.req.url).protocol === 'https:' });
    return c.redirect('/console/runs', 303);
  });

  ui.use('*', requireSession(sessions));

  ui.post('/sign-out', async (c) => {
    if ((await checkedForm(c)) === null) return c.text('Forbidden: the form is stale; reload the page.', 403);
    sessions.end(c.var.session.id);
    deleteCookie(c, COOKIE, { path: CONSOLE_PATH });
    return c.redirect('/console/sign-in', 303);
  });

  ui.get('/', (c) => c.redirect('/console/runs', 303));

  ui.get('/runs', async (c) => render(c, 'Runs', 'runs', await runsView(apiFor(c), filtersFrom(c.req.query()), now())));

  ui.get('/runs/:id', async (c) => {
    const id = pathId(c.req.param('id'));
    if (id === null) return c.text('Not found', 404);
    const { title, body } = await runView(apiFor(c), id);
    return render(c, title, 'runs', body);
  });

  ui.get('/events', (c) => runEvents(c, fetch));

  ui.get('/sandboxes', async (c) => {
    const gone = pathId(c.req.query('destroyed') ?? '');
    const notice = gone === null ? null : html`<p class="verdict verdict-ok" role="status">Sandbox <code>${gone}</code> was destroyed; its <code>sandbox.destroyed</code> record is in the audit log.</p>`;
    return render(c, 'Sandboxes', 'sandboxes', await sandboxesView(apiFor(c), c.var.session.csrf, now(), notice));
  });

  ui.post('/sandboxes/:id/destroy', async (c) => {
    if ((await checkedForm(c)) === null) return c.text('Forbidden: the form is stale; reload the page.', 403);
    const id = pathId(c.req.param('id'));
    if (id === null) return c.text('Not found', 404);
    const r = await apiFor(c).delete(`/v1/sandboxes/${encodeURIComponent(id)}`);
    if (!r.ok) return render(c, 'Sandboxes', 'sandboxes', await sandboxesView(apiFor(c), c.var.session.csrf, now(), html`<div class="problem" role="alert"><p><strong>${text(r.error.code)}</strong></p><p>${text(r.error.message)}</p></div>`), 400);
    return c.redirect(`/console/sandboxes?destroyed=${encodeURIComponent(id)}`, 303);
  });

  ui.get('/warrants', (c) => render(c, 'Warrants', 'warrants', warrantForm(c.var.session.csrf)));

  ui.post('/warrants', async (c) => {
    const form = await checkedForm(c);
    if (form === null) return c.text('Forbidden: the form is stale; reload the page.', 403);
    const token = (form['token'] ?? '').trim();
    return render(c, 'Warrants', 'warrants', html`${warrantForm(c.var.session.csrf)}${token === '' ? '' : await inspectView(apiFor(c), token, now())}`);
  });

  ui.get('/check', async (c) => {
    const policy = c.req.query('policy') ?? DENY_ALL;
    return render(c, 'Check', 'check', await checkView(apiFor(c), c.var.session.csrf, policy, c.var.session.checks));
  });

  ui.post('/check', async (c) => {
    const form = await checkedForm(c);
    if (form === null) return c.text('Forbidden: the form is stale; reload the page.', 403);
    const policy = form['policy'] ?? DENY_ALL;
    c.var.session.checks.set(policy, await runCheck(apiFor(c), policy));
    return c.redirect(`/console/check${policy === DENY_ALL ? '' : `?policy=${encodeURIComponent(policy)}`}`, 303);
  });

  ui.get('/audit', async (c) => render(c, 'Audit integrity', 'audit', await auditView(apiFor(c))));

  app.route(CONSOLE_PATH, ui);
}
