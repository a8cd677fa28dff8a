/**
 * The console's doors, in order, for every /console request (after the server's host guard):
 *   1. response headers: a CSP with no inline script or style and nothing from elsewhere, no
 *      framing, no referrer to other sites, no caching of pages that hold tenant data;
 *   2. a POST must come from the console's own pages (its Origin is this server's), and its body
 *      is a small form;
 *   3. the session from the cookie (signed-in pages redirect to sign-in without one);
 *   4. a POST that acts for a session carries that session's CSRF token.
 */
import type { Context, MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { getCookie } from 'hono/cookie';
import { secureHeaders } from 'hono/secure-headers';
import { COOKIE, csrfMatches, type Session, type SessionStore } from './session.ts';

export interface ConsoleEnv {
  Variables: { session: Session };
}

/** The one policy for every console response (the brief's, word for word). */
export const CSP = {
  defaultSrc: ["'none'"],
  scriptSrc: ["'self'"],
  styleSrc: ["'self'"],
  imgSrc: ["'self'"],
  connectSrc: ["'self'"],
  formAction: ["'self'"],
  frameAncestors: ["'none'"],
  baseUri: ["'none'"],
};

/** Largest console form body: a pasted warrant chain fits many times over. */
const MAX_FORM_BYTES = 256 * 1024;

export function headers(): MiddlewareHandler {
  const secure = secureHeaders({
    contentSecurityPolicy: CSP,
    xFrameOptions: 'DENY',
    // same-origin, not no-referrer: under no-referrer Chromium posts a form with `Origin: null`,
    // and the Origin check needs ours. Other sites still get no referrer.
    referrerPolicy: 'same-origin',
    crossOriginResourcePolicy: 'same-origin',
    // The server speaks plain HTTP on loopback by default; HSTS there means nothing.
    strictTransportSecurity: false,
  });
  return async (c, next) => {
    await secure(c, async () => {
      await next();
      if (!c.res.headers.has('cache-control')) c.res.headers.set('cache-control', 'no-store');
    });
  };
}

/** Bounds what a console form may send. */
export function formLimit(): MiddlewareHandler {
  return bodyLimit({ maxSize: MAX_FORM_BYTES, onError: (c) => c.text('The form is too large.', 413) });
}

/**
 * Refuses a state-changing request that does not come from this server's own pages: its Origin
 * must be this server's (the Host the host guard already checked), or, when a browser sent no
 * Origin, its Sec-Fetch-Site must say same-origin. A request with neither is refused, not waved
 * through. (hono's csrf middleware checks form posts only, and its refusal would be answered as
 * a malformed request; this one covers every method and content type.)
 */
export function sameOriginPosts(): MiddlewareHandler {
  return async (c, next) => {
    if (c.req.method === 'GET' || c.req.method === 'HEAD') {
      await next();
      return;
    }
    const host = c.req.header('host') ?? '';
    const origin = c.req.header('origin');
    const own = origin === undefined ? c.req.header('sec-fetch-site') === 'same-origin' : origin === `http://${host}` || origin === `https://${host}`;
    if (!own) return c.text("Forbidden: this form must be posted from the console's own page.", 403);
    await next();
  };
}

/** The signed-in session, or a redirect to the sign-in page (a POST without one is refused). */
export function requireSession(sessions: SessionStore): MiddlewareHandler<ConsoleEnv> {
  return async (c, next) => {
    const session = sessions.get(getCookie(c, COOKIE));
    if (session === undefined) {
      if (c.req.method !== 'GET') return c.text('Forbidden: sign in first.', 403);
      return c.redirect('/console/sign-in', 303);
    }
    c.set('session', session);
    await next();
  };
}

/** The posted form, once its CSRF token was checked against the session's; null when it does not match. */
export async function checkedForm(c: Context<ConsoleEnv>): Promise<Record<string, string> | null> {
  const body = await c.req.parseBody();
  if (!csrfMatches(c.var.session, body['csrf'])) return null;
  const form: Record<string, string> = {};
  for (const [k, v] of Object.entries(body)) if (typeof v === 'string') form[k] = v;
  return form;
}
