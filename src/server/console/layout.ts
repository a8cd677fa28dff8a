/**
 * The page every console view is rendered into: landmarks (header, nav, main), a skip link, the
 * one stylesheet and the one script (both from /console/assets: the CSP allows nothing inline),
 * and the sign-out form with the session's CSRF token.
 */
import { html } from 'hono/html';
import type { HtmlEscapedString } from 'hono/utils/html';
import { text } from './format.ts';

export type Markup = HtmlEscapedString | Promise<HtmlEscapedString>;

export type ViewName = 'runs' | 'sandboxes' | 'warrants' | 'check' | 'audit';

const NAV: readonly (readonly [ViewName, string])[] = [
  ['runs', 'Runs'],
  ['sandboxes', 'Sandboxes'],
  ['warrants', 'Warrants'],
  ['check', 'Check'],
  ['audit', 'Audit integrity'],
];

export interface PageParts {
  readonly title: string;
  /** The nav entry shown as current; none on the sign-in page. */
  readonly view?: ViewName;
  /** The session's CSRF token; absent when nobody is signed in. */
  readonly csrf?: string;
  readonly body: Markup;
}

export function page(parts: PageParts): Markup {
  const signedIn = parts.csrf !== undefined;
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${parts.title} · airlock console</title>
<link rel="stylesheet" href="/console/assets/console.css">
<script src="/console/assets/console.js" defer></script>
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
<header class="top">
<p class="brand"><a href="/console/runs">airlock console</a></p>
${signedIn
  ? html`<nav aria-label="Console views"><ul>${NAV.map(([name, label]) => html`<li><a href="/console/${name}"${name === parts.view ? html` aria-current="page"` : ''}>${label}</a></li>`)}</ul></nav>
<form method="post" action="/console/sign-out" class="signout"><input type="hidden" name="csrf" value="${parts.csrf ?? ''}"><button type="submit">Sign out</button></form>`
  : ''}
</header>
<main id="main" tabindex="-1">
<h1>${parts.title}</h1>
${parts.body}
</main>
</body>
</html>`;
}

/** A coded error from the API, shown as text. */
export function problem(error: { readonly code: string; readonly message: string; readonly hint?: string }): Markup {
  return html`<div class="problem" role="alert"><p><strong>${text(error.code)}</strong></p><p>${text(error.message)}</p>${typeof error.hint === 'string' ? html`<p class="note">${error.hint}</p>` : ''}</div>`;
}
