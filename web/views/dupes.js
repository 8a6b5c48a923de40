// Duplicates: each group side by side, with sizes, resolutions, dates and distances (GET /api/dupes, the sizes from
// GET /api/photos/{id}), and "not duplicates" (POST /api/dupes/dismiss). darkroom never deletes a file.
import { html, useEffect, useState } from '../lib/ui.js';
import { api, qs } from '../lib/api.js';
import { setSource } from '../lib/source.js';
import { formatBytes, plural } from '../lib/format.js';
import { PhotoCard } from './cards.js';

const SHOWN = 30;

function Group({ group, sizes, onDismiss }) {
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const dismiss = async () => {
    setBusy(true);
    try {
      await api.post('/api/dupes/dismiss', { key: group.key });
      onDismiss(group.key);
    } catch (e) {
      setError(e.message);
      setBusy(false);
    }
  };
  const identical = group.kind !== 'similar';
  return html`
    <li class="dupe-group" data-key=${group.key}>
      <div class="group-head">
        <h2>${identical ? `One file at ${group.photos.length} places` : `${plural(group.members.length, 'similar photo')}`}
          ${!identical && html`<span class="dist">largest distance ${group.max_distance}</span>`}</h2>
        <button type="button" disabled=${busy} onClick=${dismiss}>Not duplicates</button>
      </div>
      ${error && html`<p class="error" role="alert">${error}</p>`}
      <ul class="cards side">
        ${group.members.map(
          (m) => html`<${PhotoCard} key=${m.id} photo=${m}>
            <span class="res">${m.width} × ${m.height}</span>
            <span class="bytes">${sizes[m.id] !== undefined ? formatBytes(sizes[m.id]) : ''}</span>
            ${!identical && html`<span class="distance">distance ${m.distance}</span>`}
          </${PhotoCard}>`
        )}
      </ul>
      ${identical && html`<ul class="paths">${group.photos.map((p) => html`<li>${p}</li>`)}</ul>`}
    </li>
  `;
}

export function Dupes() {
  const [state, setState] = useState({ loading: true });
  const [shown, setShown] = useState(SHOWN);
  const [sizes, setSizes] = useState({});
  const [distance, setDistance] = useState('');

  useEffect(() => {
    let alive = true;
    setState((s) => ({ ...s, loading: true }));
    api
      .get(`/api/dupes${qs({ distance })}`)
      .then((r) => {
        if (!alive) return;
        setState({ groups: r.groups, hashed: r.hashed, skipped: r.skipped_low_quality });
      })
      .catch((e) => alive && setState({ error: e.message }));
    return () => {
      alive = false;
    };
  }, [distance]);

  // The file sizes of the groups on screen (the group lists photo-list facts; the size is the photo's).
  useEffect(() => {
    if (!state.groups) return;
    const members = state.groups.slice(0, shown).flatMap((g) => g.members);
    setSource({ items: () => members });
    let alive = true;
    const want = members.filter((m) => sizes[m.id] === undefined).map((m) => m.id);
    (async () => {
      const got = {};
      for (let k = 0; k < want.length; k += 6) {
        const chunk = await Promise.all(want.slice(k, k + 6).map((id) => api.get(`/api/photos/${id}`).catch(() => null)));
        for (const p of chunk) if (p) got[p.id] = p.size;
        if (!alive) return;
      }
      if (want.length) setSizes((s) => ({ ...s, ...got }));
    })();
    return () => {
      alive = false;
    };
  }, [state.groups, shown]);

  const dismissed = (key) => setState((s) => ({ ...s, groups: s.groups.filter((g) => g.key !== key) }));

  return html`
    <section class="dupes" aria-labelledby="dupes-title">
      <div class="toolbar">
        <h1 id="dupes-title">Duplicates</h1>
        <span class="count" aria-live="polite">
          ${state.groups ? `${plural(state.groups.length, 'group')} · ${plural(state.hashed, 'photo')} compared` : 'Loading…'}
          ${state.skipped ? ` · ${state.skipped} too plain to compare` : ''}
        </span>
        <label class="distance-input">Largest distance
          <input type="number" min="0" max="256" placeholder="31" value=${distance}
            onChange=${(e) => setDistance(e.currentTarget.value)} />
        </label>
      </div>
      <p class="note">Rotated, mirrored and edited copies are found by their PDQ hashes (distance: differing bits of
        256). darkroom never deletes a file: remove the copies you do not want yourself, or mark a group “not
        duplicates” to keep it apart.</p>
      ${state.error && html`<p class="error" role="alert">${state.error}</p>`}
      ${state.groups && state.groups.length === 0 && html`<p class="empty">No duplicates.</p>`}
      ${state.groups &&
      html`<ul class="groups">
        ${state.groups.slice(0, shown).map((g) => html`<${Group} key=${g.key} group=${g} sizes=${sizes} onDismiss=${dismissed} />`)}
      </ul>`}
      ${state.groups && state.groups.length > shown &&
      html`<button type="button" onClick=${() => setShown(shown + SHOWN)}>Show more groups</button>`}
    </section>
  `;
}
