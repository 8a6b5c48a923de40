// One person: the name, every face (each opens its photo), and for each face "not this person" or a move to
// another person (GET /api/people/{id}, then the decisions of docs/API.md).
import { html, useEffect, useState } from '../lib/ui.js';
import { api, faceUrl } from '../lib/api.js';
import { usePeople, refreshPeople } from '../lib/people.js';
import { setSource } from '../lib/source.js';
import { personName, plural, baseName, formatDate } from '../lib/format.js';
import { NameForm, MoveSelect } from './people.js';

export function Person({ id }) {
  const [person, setPerson] = useState(null);
  const [error, setError] = useState(null);
  const [people] = usePeople();
  const [version, setVersion] = useState(0);

  useEffect(() => {
    let alive = true;
    api
      .get(`/api/people/${id}`)
      .then((p) => {
        if (!alive) return;
        setPerson(p);
        setError(null);
        const seen = new Set();
        const photos = p.faces.map((f) => f.photo).filter((ph) => !seen.has(ph.id) && seen.add(ph.id));
        setSource({ items: () => photos });
      })
      .catch((e) => alive && setError(e.message));
    return () => {
      alive = false;
    };
  }, [id, version]);

  const act = async (path, body) => {
    try {
      await api.post(path, body);
      setError(null);
      await refreshPeople();
      setVersion(version + 1);
    } catch (e) {
      setError(e.message);
    }
  };

  if (!person) {
    return html`<section class="person"><h1>Person ${id}</h1>
      ${error ? html`<p class="error" role="alert">${error}</p>` : html`<p>Loading…</p>`}</section>`;
  }
  const others = people ? people.people : [];
  return html`
    <section class="person" aria-labelledby="person-title">
      <p class="crumbs"><a href="/people">People</a></p>
      <div class="toolbar">
        <h1 id="person-title">${personName(person)}</h1>
        <span class="count">${plural(person.faces.length, 'face')}</span>
      </div>
      <${NameForm} key=${`${person.id}:${person.name}`} person=${person} onSaved=${() => setVersion(version + 1)} />
      ${error && html`<p class="error" role="alert">${error}</p>`}
      <ul class="faces-grid large">
        ${person.faces.map(
          (f) => html`<li key=${f.face} data-face=${f.face}>
            <a href=${`?photo=${f.photo.id}`} aria-label=${`${baseName(f.photo.path)}, ${formatDate(f.photo.date)}`}>
              <img src=${faceUrl(f.face)} alt="" width="160" height="160" loading="lazy"
                onError=${(e) => e.currentTarget.classList.add('missing')} />
            </a>
            <span class="name" title=${f.photo.path}>${baseName(f.photo.path)}</span>
            <button type="button" onClick=${() => act(`/api/faces/${f.face}/reject`, { from: person.id })}>
              Not ${personName(person)}
            </button>
            ${others.length > 1 &&
            html`<${MoveSelect} people=${others} except=${person.id} label="Move to"
              onMove=${(to) => act(`/api/faces/${f.face}/move`, { to })} />`}
          </li>`
        )}
      </ul>
    </section>
  `;
}
