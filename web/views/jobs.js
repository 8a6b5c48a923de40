// Jobs: a live progress bar per task from the event stream (GET /api/events), photos per second, the failures with
// their reasons and retry buttons (GET /api/status, POST /api/retry), and adding a folder under the library's
// folders (GET /api/roots, POST /api/photos).
import { html, useEffect, useRef, useState } from '../lib/ui.js';
import { api } from '../lib/api.js';
import { listen } from '../lib/events.js';
import { plural, baseName } from '../lib/format.js';

const STATES = ['queued', 'running', 'done', 'failed', 'dead'];
const TASK_ORDER = ['pdq', 'thumbs', 'faces', 'objects', 'text', 'clip'];

function counts(c) {
  const out = {};
  for (const s of STATES) out[s] = (c && c[s]) || 0;
  out.total = STATES.reduce((n, s) => n + out[s], 0);
  out.finished = out.done + out.failed + out.dead;
  return out;
}

function Bar({ name, c }) {
  const k = counts(c);
  const label = `${name}: ${k.finished.toLocaleString()} of ${k.total.toLocaleString()} finished`;
  return html`
    <div class="bar" data-task=${name}>
      <div class="bar-head">
        <span class="task">${name}</span>
        <span class="nums">
          ${k.done.toLocaleString()} done
          ${k.running ? html` · ${k.running} running` : ''}
          ${k.queued ? html` · ${k.queued.toLocaleString()} queued` : ''}
          ${k.failed ? html` · <span class="bad">${k.failed} failed</span>` : ''}
          ${k.dead ? html` · <span class="bad">${k.dead} gave up</span>` : ''}
        </span>
      </div>
      <progress max=${Math.max(1, k.total)} value=${k.finished} aria-label=${label}>${label}</progress>
    </div>
  `;
}

// Photos finished per second over the last ten seconds of progress events.
function useRate(progress) {
  const samples = useRef([]);
  if (!progress) return null;
  const now = performance.now();
  const finished = progress.photos - progress.pending_photos;
  const s = samples.current;
  if (!s.length || s[s.length - 1].finished !== finished || now - s[s.length - 1].t > 1000) s.push({ t: now, finished });
  while (s.length > 2 && now - s[0].t > 10000) s.shift();
  if (progress.pending_photos === 0 || s.length < 2) return null;
  const dt = (s[s.length - 1].t - s[0].t) / 1000;
  return dt > 0 ? Math.max(0, (s[s.length - 1].finished - s[0].finished) / dt) : null;
}

function Failures({ status, onRetried }) {
  const [message, setMessage] = useState(null);
  const retry = async (body) => {
    try {
      const r = await api.post('/api/retry', body);
      setMessage(`${plural(r.queued, 'job')} queued again.`);
      onRetried();
    } catch (e) {
      setMessage(e.message);
    }
  };
  const failures = status ? status.failures : [];
  return html`
    <section class="failures" aria-labelledby="failures-title">
      <h2 id="failures-title">Failures</h2>
      ${message && html`<p class="notice-text" role="status">${message}</p>`}
      ${failures.length === 0
        ? html`<p class="empty">None.</p>`
        : html`
            <button type="button" onClick=${() => retry({})}>Retry every failed job</button>
            <ul class="failure-list">
              ${failures.map(
                (f) => html`<li>
                  <div><a href=${`?photo=${f.photo_id}`} class="name" title=${f.path}>${baseName(f.path)}</a>
                    <span class="task">${f.task}</span>
                    <span class="state">${f.state === 'dead' ? 'gave up' : 'failed'} after ${plural(f.attempts, 'attempt')}</span></div>
                  <p class="reason">${f.error}</p>
                  <button type="button" onClick=${() => retry({ photos: [f.photo_id] })}
                    aria-label=${`Retry ${baseName(f.path)}`}>Retry</button>
                </li>`
              )}
            </ul>
          `}
    </section>
  `;
}

function AddFolder({ roots }) {
  const [path, setPath] = useState('');
  const [result, setResult] = useState(null);
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const add = async (e) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    setResult(null);
    try {
      setResult(await api.post('/api/photos', { path: path.trim() }));
    } catch (err) {
      setError(err.message);
    } finally {
      setBusy(false);
    }
  };
  return html`
    <section class="add" aria-labelledby="add-title">
      <h2 id="add-title">Add photos</h2>
      ${roots && roots.length === 0
        ? html`<p class="empty">This server adds no photos from the page: start it with <code>darkroom serve --root
            DIR</code> (or set "roots" in the library's settings.json).</p>`
        : html`
            <form onSubmit=${add}>
              <label for="add-path">A folder or file on the server${roots ? html`, under ${roots.join(', ')}` : ''}</label>
              <div class="row-form">
                <input id="add-path" type="text" value=${path} list="roots" placeholder=${roots && roots[0] ? roots[0] : '/photos'}
                  onInput=${(e) => setPath(e.currentTarget.value)} autocomplete="off" />
                <button type="submit" disabled=${busy || !path.trim()}>Add</button>
              </div>
              ${roots && html`<datalist id="roots">${roots.map((r) => html`<option value=${r} />`)}</datalist>`}
            </form>
          `}
      ${error && html`<p class="error" role="alert">${error}</p>`}
      ${result &&
      html`<p class="notice-text" role="status">
        Found ${plural(result.found, 'photo')}: ${result.added} new, ${result.changed} changed, ${result.unchanged} as
        before; ${plural(result.queued, 'job')} queued (${result.tasks.join(', ')}).
        ${result.problems.length ? html`<br />Skipped: ${result.problems.join('; ')}` : ''}
      </p>`}
    </section>
  `;
}

export function Jobs() {
  const [progress, setProgress] = useState(null);
  const [status, setStatus] = useState(null);
  const [roots, setRoots] = useState(null);
  const [error, setError] = useState(null);
  const lastBad = useRef(-1);
  const rate = useRate(progress);

  const loadStatus = () =>
    api.get('/api/status').then(
      (s) => {
        setStatus(s);
        setError(null);
      },
      (e) => setError(e.message)
    );

  useEffect(() => {
    loadStatus();
    api.get('/api/roots').then((r) => setRoots(r.roots), () => setRoots(null));
    return listen('progress', (p) => {
      setProgress(p);
      // The failures are read again when their number changes.
      const bad = ((p.jobs && p.jobs.failed) || 0) + ((p.jobs && p.jobs.dead) || 0);
      if (bad !== lastBad.current) {
        lastBad.current = bad;
        loadStatus();
      }
    });
  }, []);

  const p = progress || (status && { photos: status.photos, jobs: status.jobs, by_task: status.by_task, pending_photos: null });
  const tasks = p ? Object.keys(p.by_task || {}).sort((a, b) => TASK_ORDER.indexOf(a) - TASK_ORDER.indexOf(b)) : [];
  const all = p ? counts(p.jobs) : null;
  return html`
    <section class="jobs" aria-labelledby="jobs-title">
      <div class="toolbar">
        <h1 id="jobs-title">Jobs</h1>
        <span class="count" aria-live="polite">
          ${p ? plural(p.photos, 'photo') : 'Loading…'}
          ${p && p.pending_photos ? ` · ${p.pending_photos.toLocaleString()} to analyse` : p && p.pending_photos === 0 ? ' · all analysed' : ''}
          ${rate !== null ? ` · ${rate.toFixed(1)} photos/s` : ''}
        </span>
      </div>
      ${error && html`<p class="error" role="alert">${error}</p>`}
      ${all && html`<div class="bars">
        <${Bar} name="all tasks" c=${p.jobs} />
        ${tasks.map((t) => html`<${Bar} key=${t} name=${t} c=${p.by_task[t]} />`)}
      </div>`}
      <${Failures} status=${status} onRetried=${loadStatus} />
      <${AddFolder} roots=${roots} />
    </section>
  `;
}
