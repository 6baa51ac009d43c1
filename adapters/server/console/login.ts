/** The sign-in page. */
import { esc, layout } from './html.js';

export function loginPage(error = ''): string {
  return layout(
    'Sign in',
    `<h1>Sign in</h1>
<p>Paste the admin token <code>patchscan init</code> printed (lost it? <code>patchscan admin-token reset</code> issues a new one
and signs every console session out).</p>
${error ? `<p class="Required" data-testid="login-error">${esc(error)}</p>` : ''}
<form class="search" method="post" action="/login">
<input type="password" name="token" aria-label="Admin token" autofocus> <button type="submit">Sign in</button></form>`,
    { signedIn: false },
  );
}
