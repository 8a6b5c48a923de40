// Runs before the page's modules have all arrived: asks at once for what the first screen needs (the session and,
// on the timeline, the first page of photos), so that those requests overlap the loading of the scripts.
// app.js and views/timeline.js import these promises (the same module: it runs once).
const json = (r) => (r.ok ? r.json() : null);

export const session = fetch('/api/session').then(json, () => null);

let first = location.pathname === '/' ? fetch('/api/photos?limit=200').then(json, () => null) : null;

// The first page of the timeline, once: null when it was not asked for, was refused (a token is needed) or was
// taken already.
export function takeFirstPage() {
  const p = first;
  first = null;
  return p || Promise.resolve(null);
}
