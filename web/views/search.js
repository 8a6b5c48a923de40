// Search: one box for words read in photos, object labels, people's names, file names and dates (and a description,
// when a CLIP model is installed), GET /api/search; or the photos most like one (GET /api/photos/{id}/similar).
// Each result says why it matched.
import { html, useEffect, useState } from '../lib/ui.js';
import { api, qs } from '../lib/api.js';
import { setSource } from '../lib/source.js';
import { plural, baseName } from '../lib/format.js';
import { PhotoCard } from './cards.js';

export function Search({ q, similar }) {
  const [state, setState] = useState({ loading: true });
  useEffect(() => {
    let alive = true;
    setState({ loading: true });
    const call = similar
      ? api.get(`/api/photos/${encodeURIComponent(similar)}/similar${qs({ limit: 100 })}`)
      : q
        ? api.get(`/api/search${qs({ q, limit: 200 })}`)
        : Promise.resolve({ results: [] });
    call
      .then((r) => {
        if (!alive) return;
        setState({ results: r.results, photo: r.photo });
        setSource({ items: () => r.results });
      })
      .catch((e) => alive && setState({ error: e.message }));
    return () => {
      alive = false;
    };
  }, [q, similar]);

  const title = similar ? `Photos like ${state.photo ? baseName(state.photo) : `photo ${similar}`}` : q ? `“${q}”` : 'Search';
  return html`
    <section class="search" aria-labelledby="search-title">
      <div class="toolbar">
        <h1 id="search-title">${title}</h1>
        <span class="count" aria-live="polite">
          ${state.results ? plural(state.results.length, 'photo') : state.loading ? 'Searching…' : ''}
        </span>
      </div>
      ${!q && !similar && html`<p class="empty">Type in the search box: words in photos, things (cats, cars),
        people’s names, file names, dates (2019, 2019-07).</p>`}
      ${state.error && html`<p class="error" role="alert">${state.error}</p>`}
      ${state.results && state.results.length === 0 && (q || similar) && html`<p class="empty">Nothing found.</p>`}
      ${state.results &&
      html`<ol class="cards results">
        ${state.results.map(
          (r) => html`<${PhotoCard} key=${r.id} photo=${r}>
            <ul class="matched" aria-label="Why it matched">
              ${(r.matched || []).map((m) => html`<li>${m}</li>`)}
            </ul>
          </${PhotoCard}>`
        )}
      </ol>`}
    </section>
  `;
}
