// One photo, large: its preview, what is known about it (GET /api/photos/{id}) and overlays that can be switched
// on: face boxes with the person's name, object boxes with labels, the lines of text OCR read. The arrow keys move
// through the list it was opened from; Escape closes it.
import { html, useEffect, useRef, useState } from '../lib/ui.js';
import { api, thumbUrl, originalUrl } from '../lib/api.js';
import { baseName, formatBytes, formatDate, personName } from '../lib/format.js';
import { getSource } from '../lib/source.js';
import { navigate, withParam } from '../lib/router.js';

const LAYERS = ['faces', 'objects', 'text'];
const BROWSER_FORMATS = new Set(['jpeg', 'png', 'webp', 'gif']);

function savedLayers() {
  try {
    const s = JSON.parse(localStorage.getItem('darkroom.layers'));
    if (s && typeof s === 'object') return s;
  } catch (e) {
    // nothing saved
  }
  return { faces: true, objects: false, text: false };
}

function pct(v, of) {
  return `${(100 * v) / of}%`;
}

function Box({ box, W, H, kind, label }) {
  const ref = useRef(null);
  useEffect(() => {
    const s = ref.current.style;
    s.left = pct(box[0], W);
    s.top = pct(box[1], H);
    s.width = pct(box[2], W);
    s.height = pct(box[3], H);
  });
  return html`<div class=${`box ${kind}`} ref=${ref}><span class="label">${label}</span></div>`;
}

function Overlays({ photo, layers, names }) {
  const W = photo.width;
  const H = photo.height;
  if (!(W > 0 && H > 0)) return null;
  const faces = photo.people || [];
  const objects = photo.objects || [];
  const lines = (photo.text && photo.text.lines) || [];
  return html`
    <div class="overlays" aria-hidden="true">
      ${layers.text &&
      html`<svg class="textlines" viewBox=${`0 0 ${W} ${H}`} preserveAspectRatio="none">
        ${lines.map(
          (l) => html`<polygon points=${l.box.map((pt) => pt.join(',')).join(' ')}><title>${l.text}</title></polygon>`
        )}
      </svg>`}
      ${layers.objects &&
      objects.map(
        (o) => html`<${Box} box=${o.box} W=${W} H=${H} kind="object" label=${`${o.label} ${Math.round(o.score * 100)}%`} />`
      )}
      ${layers.faces &&
      faces.map(
        (f) => html`<${Box} box=${f.box} W=${W} H=${H} kind="face"
          label=${f.person ? personName(names.get(f.person) || { id: f.person }) : 'unknown'} />`
      )}
    </div>
  `;
}

function Facts({ photo }) {
  const date = photo.taken_at || photo.file_date;
  const rows = [
    ['Date', date ? `${formatDate(date)}${photo.taken_at ? '' : ' (the file’s date)'}` : 'unknown'],
    ['Camera', photo.camera || '—'],
    ['Place', photo.gps ? `${photo.gps.lat.toFixed(5)}, ${photo.gps.lon.toFixed(5)}` : '—'],
    ['Size', `${photo.width} × ${photo.height} · ${formatBytes(photo.size)} · ${photo.format}`],
  ];
  return html`<dl class="facts">
    ${rows.map(([k, v]) => html`<dt>${k}</dt><dd>${v}</dd>`)}
  </dl>`;
}

export function Viewer({ id, people }) {
  const [photo, setPhoto] = useState(null);
  const [error, setError] = useState(null);
  const [layers, setLayers] = useState(savedLayers);
  const [previewFailed, setPreviewFailed] = useState(false);
  const frameRef = useRef(null);
  const closeRef = useRef(null);
  const opener = useRef(document.activeElement);
  const source = getSource();
  const items = source.items();
  const index = items.findIndex((p) => p.id === id);

  useEffect(() => {
    let alive = true;
    setError(null);
    setPreviewFailed(false);
    api
      .get(`/api/photos/${id}`)
      .then((p) => alive && setPhoto(p))
      .catch((e) => alive && setError(e.message));
    return () => {
      alive = false;
    };
  }, [id]);

  useEffect(() => {
    localStorage.setItem('darkroom.layers', JSON.stringify(layers));
  }, [layers]);

  useEffect(() => {
    if (photo && frameRef.current) frameRef.current.style.setProperty('--ar', String(photo.width / photo.height || 1));
  }, [photo]);

  // Focus goes into the dialog when it opens and back to the photo's place when it closes.
  useEffect(() => {
    closeRef.current && closeRef.current.focus();
    document.body.classList.add('viewing');
    return () => document.body.classList.remove('viewing');
  }, []);

  const close = () => {
    const src = getSource();
    if (history.state && history.state.viewer) history.back();
    else navigate(withParam('photo', null), { replace: true });
    setTimeout(() => {
      if (src.reveal) src.reveal(id);
      else if (opener.current && opener.current.isConnected) opener.current.focus();
    }, 0);
  };

  const go = async (step) => {
    let list = source.items();
    let i = list.findIndex((p) => p.id === id);
    if (i < 0) return;
    if (step > 0 && i + 1 >= list.length && source.more && source.hasMore()) {
      await source.more();
      list = source.items();
    }
    const next = list[i + step];
    if (next) navigate(withParam('photo', next.id), { replace: true, state: history.state });
  };

  const onKey = (e) => {
    if (e.target.closest && e.target.closest('input:not([type="checkbox"]), select, textarea')) {
      if (e.key === 'Escape') close();
      return;
    }
    if (e.key === 'Escape') close();
    else if (e.key === 'ArrowRight') go(1);
    else if (e.key === 'ArrowLeft') go(-1);
    else if (e.key === 'Tab') {
      // Keep the focus inside the dialog.
      const f = [...e.currentTarget.querySelectorAll('button, a[href], input, select')].filter((x) => !x.disabled);
      if (!f.length) return;
      if (e.shiftKey && document.activeElement === f[0]) {
        e.preventDefault();
        f[f.length - 1].focus();
      } else if (!e.shiftKey && document.activeElement === f[f.length - 1]) {
        e.preventDefault();
        f[0].focus();
      }
      return;
    } else return;
    e.preventDefault();
  };

  const names = new Map((people || []).map((p) => [p.id, p]));
  const summary = items[index];
  const hash = photo ? photo.content_hash : summary && summary.content_hash;
  const name = photo ? baseName(photo.path) : summary ? baseName(summary.path) : `photo ${id}`;
  const previewSrc = previewFailed
    ? photo && BROWSER_FORMATS.has(photo.format)
      ? originalUrl(id)
      : null
    : hash
      ? thumbUrl(hash, 'preview')
      : null;
  const people_ = photo ? (photo.people || []).filter((f) => f.person) : [];
  const labels = photo ? [...new Set((photo.objects || []).map((o) => o.label))] : [];
  const lines = photo && photo.text ? photo.text.lines || [] : [];
  const hasClip = photo && photo.tasks && photo.tasks.clip && photo.tasks.clip.status === 'done';

  return html`
    <div class="viewer" role="dialog" aria-modal="true" aria-label=${name} onKeyDown=${onKey}>
      <div class="stage">
        <div class="frame" ref=${frameRef}>
          ${previewSrc
            ? html`<img src=${previewSrc} alt=${name} onError=${() => setPreviewFailed(true)} />`
            : html`<div class="nopreview">${photo ? 'No preview yet: the thumbs task makes it.' : ''}</div>`}
          ${photo && html`<${Overlays} photo=${photo} layers=${layers} names=${names} />`}
        </div>
        <button type="button" class="nav prev" aria-label="Previous photo" disabled=${index <= 0}
          onClick=${() => go(-1)}>‹</button>
        <button type="button" class="nav next" aria-label="Next photo"
          disabled=${index < 0 || (index + 1 >= items.length && !(source.more && source.hasMore()))} onClick=${() => go(1)}>›</button>
      </div>
      <aside class="info">
        <div class="info-head">
          <h2>${name}</h2>
          <button type="button" class="close" ref=${closeRef} onClick=${close} aria-label="Close (Escape)">✕</button>
        </div>
        ${error && html`<p class="error" role="alert">${error}</p>`}
        ${photo &&
        html`
          <${Facts} photo=${photo} />
          <fieldset class="layers">
            <legend>Show on the photo</legend>
            ${LAYERS.map(
              (l) => html`<label>
                <input type="checkbox" name=${l} checked=${layers[l]}
                  onChange=${(e) => setLayers({ ...layers, [l]: e.currentTarget.checked })} />
                ${l === 'faces' ? 'Faces' : l === 'objects' ? 'Objects' : 'Text'}
              </label>`
            )}
          </fieldset>
          ${people_.length > 0 &&
          html`<section><h3>People</h3><ul class="chips">
            ${people_.map(
              (f) => html`<li><a href=${`/people/${f.person}`}>${personName(names.get(f.person) || { id: f.person })}</a></li>`
            )}
          </ul></section>`}
          ${labels.length > 0 &&
          html`<section><h3>Objects</h3><ul class="chips">${labels.map((l) => html`<li><a href=${`/search?q=${encodeURIComponent(l)}`}>${l}</a></li>`)}</ul></section>`}
          ${lines.length > 0 &&
          html`<section><h3>Text</h3><ul class="textread">${lines.map((l) => html`<li>${l.text}</li>`)}</ul></section>`}
          <p class="actions">
            ${hasClip && html`<a href=${`/search?similar=${id}`}>Similar photos</a>`}
            <a href=${originalUrl(id)} target="_blank" rel="noopener">The original file</a>
          </p>
          <p class="path" title=${photo.path}>${photo.path}</p>
        `}
        <p class="hint">${index >= 0 ? `${index + 1} of ${items.length}${source.more && source.hasMore() ? '+' : ''} · ` : ''}← → move, Esc closes</p>
      </aside>
    </div>
  `;
}
