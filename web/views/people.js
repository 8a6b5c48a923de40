// People: every person with a face and a count, to name, to merge (select two or more), to open; and the faces that
// are in no person yet, to place. Every change is a call of docs/API.md ("Decisions"), shown at once.
import { html, useState } from '../lib/ui.js';
import { api, faceUrl } from '../lib/api.js';
import { usePeople, refreshPeople } from '../lib/people.js';
import { plural, personName, baseName } from '../lib/format.js';

export function NameForm({ person, onSaved }) {
  const [name, setName] = useState(person.name || '');
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const id = `name-${person.id}`;
  const save = async (e) => {
    e.preventDefault();
    setBusy(true);
    try {
      await api.post(`/api/people/${person.id}/name`, { name });
      setError(null);
      await refreshPeople();
      if (onSaved) onSaved(name);
    } catch (err) {
      setError(err.message);
    } finally {
      setBusy(false);
    }
  };
  return html`
    <form class="name-form" onSubmit=${save}>
      <label for=${id} class="sr">Name of ${personName(person)}</label>
      <input id=${id} type="text" value=${name} placeholder="Add a name" maxlength="200" autocomplete="off"
        onInput=${(e) => setName(e.currentTarget.value)} />
      <button type="submit" disabled=${busy || !name.trim() || name === (person.name || '')}>Save</button>
      ${error && html`<p class="error" role="alert">${error}</p>`}
    </form>
  `;
}

function PersonCard({ person, selected, onSelect }) {
  return html`
    <li class=${`person${selected ? ' selected' : ''}`} data-person=${person.id}>
      <a class="face" href=${`/people/${person.id}`}>
        <img src=${faceUrl(person.face)} alt=${`Face of ${personName(person)}`} width="160" height="160"
          loading="lazy" onError=${(e) => e.currentTarget.classList.add('missing')} />
        <span class="pname">${personName(person)}</span>
      </a>
      <span class="faces">${plural(person.faces, 'face')}</span>
      <${NameForm} key=${`${person.id}:${person.name}`} person=${person} />
      <label class="select">
        <input type="checkbox" checked=${selected} onChange=${(e) => onSelect(person.id, e.currentTarget.checked)} />
        Select <span class="sr">${personName(person)}</span>
      </label>
    </li>
  `;
}

function MergeBar({ people, selected, onDone }) {
  const chosen = people.filter((p) => selected.has(p.id));
  // Into the named one with most faces, else the one with most faces; the user can pick another.
  const best = [...chosen].sort((a, b) => !!b.name - !!a.name || b.faces - a.faces)[0];
  const [into, setInto] = useState(null);
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const target = chosen.find((p) => p.id === into) || best;
  if (chosen.length < 2) return null;
  const merge = async () => {
    setBusy(true);
    setError(null);
    try {
      for (const p of chosen) if (p.id !== target.id) await api.post(`/api/people/${target.id}/merge`, { from: p.id });
      await refreshPeople();
      onDone();
    } catch (e) {
      setError(e.message);
    } finally {
      setBusy(false);
    }
  };
  return html`
    <div class="mergebar" role="region" aria-label="Merge people">
      <span>${plural(chosen.length, 'person', 'people')} selected: the same person?</span>
      <label>Keep
        <select value=${target.id} onChange=${(e) => setInto(Number(e.currentTarget.value))}>
          ${chosen.map((p) => html`<option value=${p.id}>${personName(p)}</option>`)}
        </select>
      </label>
      <button type="button" class="primary" disabled=${busy} onClick=${merge}>Merge ${chosen.length} into one</button>
      <button type="button" onClick=${onDone}>Cancel</button>
      ${error && html`<p class="error" role="alert">${error}</p>`}
    </div>
  `;
}

export function MoveSelect({ people, except, label, onMove }) {
  return html`
    <select aria-label=${label} onChange=${(e) => e.currentTarget.value && onMove(Number(e.currentTarget.value))}>
      <option value="">${label}…</option>
      ${people.filter((p) => p.id !== except).map((p) => html`<option value=${p.id}>${personName(p)}</option>`)}
    </select>
  `;
}

function Unassigned({ faces, people }) {
  const [error, setError] = useState(null);
  const [shown, setShown] = useState(60);
  if (!faces.length) return null;
  const move = async (face, to) => {
    try {
      await api.post(`/api/faces/${face}/move`, { to });
      setError(null);
      await refreshPeople();
    } catch (e) {
      setError(e.message);
    }
  };
  return html`
    <section class="unassigned" aria-labelledby="unassigned-title">
      <h2 id="unassigned-title">Faces in no person yet <span class="count">${faces.length}</span></h2>
      ${error && html`<p class="error" role="alert">${error}</p>`}
      <ul class="faces-grid">
        ${faces.slice(0, shown).map(
          (f) => html`<li key=${f.face}>
            <a href=${`?photo=${f.photo_id}`}>
              <img src=${faceUrl(f.face)} alt=${`A face in ${baseName(f.photo)}`} width="120" height="120" loading="lazy"
                onError=${(e) => e.currentTarget.classList.add('missing')} />
            </a>
            ${people.length > 0 && html`<${MoveSelect} people=${people} label="Place with" onMove=${(to) => move(f.face, to)} />`}
          </li>`
        )}
      </ul>
      ${faces.length > shown && html`<button type="button" onClick=${() => setShown(shown + 120)}>Show more faces</button>`}
    </section>
  `;
}

export function People() {
  const [data, error] = usePeople();
  const [selected, setSelected] = useState(new Set());
  const [busy, setBusy] = useState(false);
  const select = (id, on) => {
    const s = new Set(selected);
    if (on) s.add(id);
    else s.delete(id);
    setSelected(s);
  };
  const recluster = async () => {
    setBusy(true);
    try {
      await api.post('/api/people/recluster');
      await refreshPeople();
    } finally {
      setBusy(false);
    }
  };
  const people = data ? data.people : [];
  return html`
    <section class="people" aria-labelledby="people-title">
      <div class="toolbar">
        <h1 id="people-title">People</h1>
        <span class="count" aria-live="polite">${data ? plural(people.length, 'person', 'people') : 'Loading…'}</span>
        <button type="button" disabled=${busy} onClick=${recluster}
          title="Group the faces again; names, merges, moves and “not this person” are kept">Regroup faces</button>
      </div>
      ${error && html`<p class="error" role="alert">${error}</p>`}
      <${MergeBar} people=${people} selected=${selected} onDone=${() => setSelected(new Set())} />
      ${data && people.length === 0 &&
      html`<p class="empty">No people yet: faces are grouped into people as the faces task finds them.</p>`}
      <ul class="people-grid">
        ${people.map(
          (p) => html`<${PersonCard} key=${p.id} person=${p} selected=${selected.has(p.id)} onSelect=${select} />`
        )}
      </ul>
      ${data && html`<${Unassigned} faces=${data.unassigned} people=${people} />`}
    </section>
  `;
}
