// Sign-in: a server with tokens on asks for one (made by `darkroom token create`) and exchanges it for a session
// cookie (POST /api/session); a wrong token is refused with the server's sentence.
import { html, useEffect, useRef, useState } from '../lib/ui.js';
import { api } from '../lib/api.js';

export function SignIn({ onDone }) {
  const [token, setToken] = useState('');
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const input = useRef(null);
  useEffect(() => input.current && input.current.focus(), []);
  const submit = async (e) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const r = await api.post('/api/session', { token: token.trim() });
      if (r.authenticated) onDone();
      else setError('The server did not accept the token.');
    } catch (err) {
      setError(err.status === 401 ? `Wrong token: ${err.message}` : err.message);
      setToken('');
      input.current && input.current.focus();
    } finally {
      setBusy(false);
    }
  };
  return html`
    <main class="signin" id="main">
      <form onSubmit=${submit} aria-labelledby="signin-title">
        <h1 id="signin-title">darkroom</h1>
        <p>This library needs a token. Make one on the server with <code>darkroom token create</code>.</p>
        <label for="token">Token</label>
        <input id="token" ref=${input} type="password" autocomplete="current-password" value=${token} spellcheck="false"
          aria-invalid=${error ? 'true' : 'false'} aria-describedby=${error ? 'signin-error' : undefined}
          onInput=${(e) => setToken(e.currentTarget.value)} />
        <button type="submit" class="primary" disabled=${busy || !token.trim()}>Sign in</button>
        ${error && html`<p id="signin-error" class="error" role="alert">${error}</p>`}
      </form>
    </main>
  `;
}
