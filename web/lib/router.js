// The page's own routes (/, /search, /people, /people/ID, /dupes, /jobs) on the History API; the server sends the
// page for every such path. An open photo is `?photo=ID` on top of whichever view opened it.
import { useState, useEffect } from './ui.js';

const subscribers = new Set();

export function currentLocation() {
  return { path: location.pathname, params: new URLSearchParams(location.search) };
}

function notify() {
  for (const fn of subscribers) fn(currentLocation());
}

export function navigate(url, { replace = false, state = null } = {}) {
  if (replace) history.replaceState(state, '', url);
  else history.pushState(state, '', url);
  notify();
}

export function useLocation() {
  const [loc, setLoc] = useState(currentLocation());
  useEffect(() => {
    subscribers.add(setLoc);
    return () => subscribers.delete(setLoc);
  }, []);
  return loc;
}

window.addEventListener('popstate', notify);

// Links inside the page move without reloading it.
document.addEventListener('click', (e) => {
  if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  const a = e.target.closest && e.target.closest('a[href]');
  if (!a || a.target || a.hasAttribute('download')) return;
  const url = new URL(a.href, location.href);
  if (url.origin !== location.origin || url.pathname.startsWith('/api/') || url.pathname.startsWith('/vendor/')) return;
  e.preventDefault();
  // Opening a photo is a step back can undo; moving between photos or closing one is not.
  const opens = url.searchParams.has('photo') && !new URLSearchParams(location.search).has('photo');
  navigate(url.pathname + url.search, { state: opens ? { viewer: true } : null });
});

// The URL of this location with one query parameter set (or removed, for null).
export function withParam(name, value) {
  const u = new URL(location.href);
  if (value === null || value === undefined) u.searchParams.delete(name);
  else u.searchParams.set(name, value);
  return u.pathname + u.search;
}
