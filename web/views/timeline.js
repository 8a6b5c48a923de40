// The timeline: every photo, newest first, grouped by day or month, a page of the photo list at a time as one
// scrolls (GET /api/photos with its cursor), in a virtualised grid (lib/grid.js).
import { html, useEffect, useLayoutEffect, useRef, useState } from '../lib/ui.js';
import { api, qs } from '../lib/api.js';
import { TimelineGrid } from '../lib/grid.js';
import { listen, startEvents } from '../lib/events.js';
import { takeFirstPage } from '../boot.js';
import { setSource } from '../lib/source.js';
import { plural } from '../lib/format.js';

const FIRST_PAGE = 200; // enough for a large screen: the first thumbnails wait for no more than this
const PAGE = 1000;

export function Timeline() {
  const ref = useRef(null);
  const gridRef = useRef(null);
  const [groupBy, setGroupBy] = useState(localStorage.getItem('darkroom.groupBy') || 'day');
  const [state, setState] = useState({ loaded: 0, done: false, error: null, total: null, changed: false });

  // A layout effect: the grid exists, and asks for its first page, before the first paint, not after it.
  useLayoutEffect(() => {
    let next = null;
    let loading = false;
    let more = true;
    let alive = true;
    let loadedCount = null; // the library's photo count when the list was read
    const grid = new TimelineGrid(ref.current, {
      groupBy,
      hrefOf: (p) => `/?photo=${p.id}`,
      onNeedMore: () => load(),
    });
    gridRef.current = grid;
    const waiters = [];
    async function load() {
      if (loading || !more) return false;
      loading = true;
      try {
        const first = grid.photos.length === 0;
        const page =
          (first && (await takeFirstPage())) ||
          (await api.get(`/api/photos${qs({ limit: first ? FIRST_PAGE : PAGE, cursor: next })}`));
        if (!alive) return false;
        if (first) setTimeout(startEvents, 0);
        next = page.next;
        more = next !== null;
        grid.append(page.photos, more);
        setState((s) => ({ ...s, loaded: grid.photos.length, done: !more, error: null }));
        return page.photos.length > 0;
      } catch (e) {
        if (alive) setState((s) => ({ ...s, error: e.message }));
        return false;
      } finally {
        loading = false;
        while (waiters.length) waiters.shift()();
      }
    }
    setSource({
      items: () => grid.photos,
      hasMore: () => more,
      more: async () => {
        if (loading) await new Promise((r) => waiters.push(r));
        return load();
      },
      reveal: (id) => {
        const i = grid.indexOf.get(id);
        if (i !== undefined) grid.focusPhoto(i);
      },
    });
    load();
    const offJob = listen('job', (j) => {
      if (j.task === 'thumbs' && j.state === 'done') grid.thumbReady(j.photo_id);
    });
    const offProgress = listen('progress', (p) => {
      if (loadedCount === null) loadedCount = p.photos;
      else if (p.photos !== loadedCount) setState((s) => ({ ...s, changed: true }));
      setState((s) => (s.total === p.photos ? s : { ...s, total: p.photos }));
    });
    return () => {
      alive = false;
      offJob();
      offProgress();
      grid.destroy();
    };
  }, [state.reloads]);

  useEffect(() => {
    localStorage.setItem('darkroom.groupBy', groupBy);
    if (gridRef.current) gridRef.current.setGroupBy(groupBy);
  }, [groupBy]);

  const reload = () => {
    window.scrollTo(0, 0);
    setState((s) => ({ loaded: 0, done: false, error: null, total: s.total, changed: false, reloads: (s.reloads || 0) + 1 }));
  };

  return html`
    <section class="timeline" aria-labelledby="timeline-title">
      <div class="toolbar">
        <h1 id="timeline-title">Timeline</h1>
        <span class="count" aria-live="polite">
          ${state.total !== null ? plural(state.total, 'photo') : ''}
        </span>
        <div class="segmented" role="group" aria-label="Group photos by">
          <button type="button" aria-pressed=${groupBy === 'day'} onClick=${() => setGroupBy('day')}>Day</button>
          <button type="button" aria-pressed=${groupBy === 'month'} onClick=${() => setGroupBy('month')}>Month</button>
        </div>
        ${state.changed && html`<button type="button" class="notice" onClick=${reload}>New photos: show them</button>`}
      </div>
      ${state.error && html`<p class="error" role="alert">${state.error}</p>`}
      ${state.done && state.loaded === 0 &&
      html`<p class="empty">No photos yet. Add a folder on the <a href="/jobs">Jobs</a> page, or run
        <code>darkroom add PATH</code>.</p>`}
      <div class="grid" ref=${ref} aria-label="Photos, newest first" aria-busy=${!state.done && state.loaded === 0}></div>
      ${!state.done && state.loaded > 0 && html`<p class="more" aria-hidden="true">Loading more…</p>`}
    </section>
  `;
}
