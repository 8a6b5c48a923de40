// A photo as a card in a list (search results, a duplicates group, a person's faces): its thumbnail in a box of
// fixed size (nothing moves while it loads), its name and date, and what the view adds below.
import { html } from '../lib/ui.js';
import { thumbUrl } from '../lib/api.js';
import { baseName, formatDate } from '../lib/format.js';
import { withParam } from '../lib/router.js';

export function PhotoCard({ photo, children, label }) {
  const name = baseName(photo.path);
  return html`
    <li class="card" data-photo=${photo.id}>
      <a class="thumb" href=${withParam('photo', photo.id)} aria-label=${label || `${name}, ${formatDate(photo.date)}`}>
        <img src=${thumbUrl(photo.content_hash, 'grid')} alt="" loading="lazy" decoding="async" width="240" height="160"
          onError=${(e) => e.currentTarget.classList.add('missing')} />
      </a>
      <div class="caption">
        <span class="name" title=${photo.path}>${name}</span>
        <span class="date">${formatDate(photo.date)}</span>
        ${children}
      </div>
    </li>
  `;
}
