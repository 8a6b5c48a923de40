// One event stream for the whole page (GET /api/events): a browser gives a site few connections, so every view
// listens to this one instead of opening its own.
let source = null;
const listeners = { progress: new Set(), job: new Set(), open: new Set() };
let last = null;

export function startEvents() {
  if (source) return;
  source = new EventSource('/api/events');
  source.addEventListener('progress', (e) => {
    last = JSON.parse(e.data);
    for (const fn of listeners.progress) fn(last);
  });
  source.addEventListener('job', (e) => {
    const j = JSON.parse(e.data);
    for (const fn of listeners.job) fn(j);
  });
  source.addEventListener('open', () => {
    for (const fn of listeners.open) fn();
  });
}

export function stopEvents() {
  if (source) source.close();
  source = null;
}

// Subscribes fn to 'progress' (the counts) or 'job' (one job's new state); returns the unsubscribe function. A new
// progress listener hears the latest counts at once.
export function listen(kind, fn) {
  listeners[kind].add(fn);
  if (kind === 'progress' && last) fn(last);
  return () => listeners[kind].delete(fn);
}
