/** The sign-in form: a tenant API key, posted (never in a URL); the page never shows it again. */
import { html } from 'hono/html';
import { problem, type Markup } from '../layout.ts';

export function signInView(error: { code: string; message: string } | null): Markup {
  return html`${error === null ? '' : problem(error)}
<form method="post" action="/console/sign-in" class="stack">
<label for="key">Tenant API key</label>
<input id="key" name="key" type="password" required autocomplete="off" spellcheck="false" size="60" aria-describedby="key-help">
<p id="key-help" class="note">A key from <code>airlock keys create --tenant T</code>. It stays on the server for this session; you see that tenant's data only.</p>
<button type="submit">Sign in</button>
</form>`;
}
