// darkroom's page: the sign-in when the server wants a token, then the header and the view the address names, with
// the open photo (?photo=ID) on top. Everything it shows comes from the API of docs/API.md.
import { html, render, useEffect, useRef, useState } from './lib/ui.js';
import { api, onUnauthorized } from './lib/api.js';
import { useLocation, navigate } from './lib/router.js';
import { startEvents, stopEvents, listen } from './lib/events.js';
import { setSource } from './lib/source.js';
import { usePeople } from './lib/people.js';
import { session as firstSession } from './boot.js';
import { SignIn } from './views/signin.js';
import { Timeline } from './views/timeline.js';
import { Search } from './views/search.js';
import { People } from './views/people.js';
import { Person } from './views/person.js';
import { Dupes } from './views/dupes.js';
import { Jobs } from './views/jobs.js';
import { Viewer } from './views/viewer.js';

const SECTIONS = [
  ['/', 'Timeline'],
  ['/people', 'People'],
  ['/dupes', 'Duplicates'],
  ['/jobs', 'Jobs'],
];

function route(path) {
  if (path === '/' || path === '/index.html') return { view: 'timeline', title: 'Timeline' };
  if (path === '/search') return { view: 'search', title: 'Search' };
  if (path === '/people') return { view: 'people', title: 'People' };
  let m = /^\/people\/(\d+)$/.exec(path);
  if (m) return { view: 'person', id: Number(m[1]), title: 'Person' };
  if (path === '/dupes') return { view: 'dupes', title: 'Duplicates' };
  if (path === '/jobs') return { view: 'jobs', title: 'Jobs' };
  m = /^\/photos\/(\d+)$/.exec(path);
  if (m) return { view: 'photo', id: Number(m[1]) };
  return { view: 'missing', title: 'Not found' };
}

function Header({ loc, auth }) {
  const q = loc.path === '/search' ? loc.params.get('q') || '' : '';
  const [text, setText] = useState(q);
  const [pending, setPending] = useState(0);
  useEffect(() => setText(q), [q]);
  useEffect(() => listen('progress', (p) => setPending(p.pending_photos || 0)), []);
  const submit = (e) => {
    e.preventDefault();
    if (text.trim()) navigate(`/search?q=${encodeURIComponent(text.trim())}`);
  };
  const signOut = async () => {
    await api.del('/api/session').catch(() => {});
    location.reload();
  };
  const current = (href) => (href === '/' ? loc.path === '/' : loc.path.startsWith(href));
  return html`
    <header class="top">
      <a class="skip" href="#main">Skip to the content</a>
      <a class="brand" href="/">darkroom</a>
      <nav aria-label="Sections">
        ${SECTIONS.map(
          ([href, label]) => html`<a href=${href} aria-current=${current(href) ? 'page' : undefined}>${label}${
            href === '/jobs' && pending > 0 ? html` <span class="badge" title="photos to analyse">${pending.toLocaleString()}</span>` : ''
          }</a>`
        )}
      </nav>
      <form class="searchbox" role="search" onSubmit=${submit}>
        <label for="q" class="sr">Search photos</label>
        <input id="q" type="search" name="q" value=${text} placeholder="Search words, things, people, dates"
          autocomplete="off" onInput=${(e) => setText(e.currentTarget.value)} />
        <button type="submit">Search</button>
      </form>
      ${auth && html`<button type="button" class="signout" onClick=${signOut}>Sign out</button>`}
    </header>
  `;
}

function Shell({ auth }) {
  const loc = useLocation();
  const r = route(loc.path);
  const [people] = usePeople();
  const main = useRef(null);
  const first = useRef(true);
  const photo = r.view === 'photo' ? r.id : Number(loc.params.get('photo')) || null;

  // The event stream starts once the timeline has its first page (its first reading of the counts is slow on a big
  // library, and would hold the list back), or at once on another view.
  useEffect(() => {
    const t = setTimeout(startEvents, r.view === 'timeline' ? 2000 : 0);
    return () => {
      clearTimeout(t);
      stopEvents();
    };
  }, []);
  useEffect(() => {
    if (r.view === 'photo') navigate(`/?photo=${r.id}`, { replace: true });
  }, [r.view, r.id]);
  // A new view: a new title, the top of the page, and the focus on its content for screen readers.
  const key = `${loc.path}?${loc.params.get('q') || ''}${loc.params.get('similar') || ''}`;
  useEffect(() => {
    document.title = `${r.title || 'darkroom'} · darkroom`;
    if (first.current) {
      first.current = false;
      return;
    }
    window.scrollTo(0, 0);
    const h1 = main.current && main.current.querySelector('h1');
    if (h1) {
      h1.tabIndex = -1;
      h1.focus({ preventScroll: true });
    }
  }, [key]);

  let view;
  if (r.view === 'timeline' || r.view === 'photo') view = html`<${Timeline} />`;
  else if (r.view === 'search') view = html`<${Search} q=${loc.params.get('q') || ''} similar=${loc.params.get('similar')} />`;
  else if (r.view === 'people') view = html`<${People} />`;
  else if (r.view === 'person') view = html`<${Person} key=${r.id} id=${r.id} />`;
  else if (r.view === 'dupes') view = html`<${Dupes} />`;
  else if (r.view === 'jobs') view = html`<${Jobs} />`;
  else view = html`<section><h1>Not found</h1><p>There is no page at ${loc.path}. <a href="/">The timeline</a>.</p></section>`;

  return html`
    <${Header} loc=${loc} auth=${auth} />
    <main id="main" ref=${main} key=${r.view}>${view}</main>
    ${photo && html`<${Viewer} key="viewer" id=${photo} people=${people ? people.people : []} />`}
  `;
}

function App() {
  const [session, setSession] = useState(null);
  const [error, setError] = useState(null);
  useEffect(() => {
    onUnauthorized(() => setSession({ auth: true, authenticated: false }));
    firstSession.then((s) => s || api.get('/api/session')).then(setSession, (e) => setError(e.message));
  }, []);
  if (error) return html`<main id="main" class="signin"><p class="error" role="alert">${error}</p></main>`;
  if (!session) return html`<main id="main" aria-busy="true"></main>`;
  if (session.auth && !session.authenticated)
    return html`<${SignIn} onDone=${() => setSession({ auth: true, authenticated: true })} />`;
  return html`<${Shell} auth=${session.auth} />`;
}

setSource({ items: () => [] });
render(html`<${App} />`, document.getElementById('app'));
