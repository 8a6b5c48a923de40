// The timeline's grid: photos in justified rows (each row as tall as its photos' shapes allow, filling the width),
// under a heading per day or month. Virtualised: the layout of every loaded photo is a list of numbers, and only the
// rows near the screen are in the document, so 100,000 photos cost the page what 100 do. A cell's size comes from
// the photo's width and height in the list, so nothing moves while its thumbnail loads.
import { groupLabel, baseName, formatDate } from './format.js';
import { thumbUrl } from './api.js';

const GAP = 4;
const HEADER = 44;
const GROUP_END = 12;
const FAST = 5000; // px/s: faster, thumbnails wait
const SETTLE = 200; // ms of slower scrolling before they are asked for

function aspect(p) {
  if (!(p.width > 0 && p.height > 0)) return 1;
  return Math.min(3, Math.max(0.4, p.width / p.height));
}

export class TimelineGrid {
  // root: the element that holds the rows (it is given its full height); hrefOf(photo): the cell's link;
  // onNeedMore(): asked for the next page when the screen nears the end of what is loaded.
  constructor(root, { hrefOf, onNeedMore, groupBy = 'day' }) {
    this.root = root;
    this.hrefOf = hrefOf;
    this.onNeedMore = onNeedMore;
    this.groupBy = groupBy;
    this.photos = [];
    this.indexOf = new Map(); // photo id -> index
    this.more = true;
    this.rows = []; // {top, height, header} or {top, height, first, items: [{i, x, w}]}
    this.groups = []; // {key, first (photo index), row (row index), top}
    this.height = 0;
    this.rendered = new Map(); // row index -> element
    this.missing = new Set(); // ids of photos whose thumbnail was not there
    this.deferred = new Set(); // images whose thumbnail waits for the scrolling to slow down
    this.width = 0;
    this.raf = 0;
    this.schedule = () => {
      if (!this.raf) this.raf = requestAnimationFrame(() => {
        this.raf = 0;
        this.update();
      });
    };
    window.addEventListener('scroll', this.schedule, { passive: true });
    window.addEventListener('resize', this.schedule);
    this.resizeObserver = new ResizeObserver(() => this.resize());
    this.resizeObserver.observe(root);
    this.onKey = (e) => this.key(e);
    root.addEventListener('keydown', this.onKey);
    this.resize();
  }

  destroy() {
    window.removeEventListener('scroll', this.schedule);
    window.removeEventListener('resize', this.schedule);
    this.resizeObserver.disconnect();
    this.root.removeEventListener('keydown', this.onKey);
    if (this.raf) cancelAnimationFrame(this.raf);
    clearTimeout(this.settle);
    this.clear();
  }

  keyOf(p) {
    const d = p.date || '';
    return this.groupBy === 'month' ? d.slice(0, 7) : d.slice(0, 10);
  }

  targetHeight() {
    return this.width < 640 ? 110 : 200;
  }

  // Adds a page of photos; more: whether the server has more.
  append(photos, more) {
    for (const p of photos) {
      this.indexOf.set(p.id, this.photos.length);
      this.photos.push(p);
    }
    const first = this.photos.length === photos.length;
    this.more = more;
    this.root.dataset.loaded = this.photos.length;
    // The last group may go on in the new page: it is laid out again, with everything after it.
    this.layout(Math.max(0, this.groups.length - 1));
    // The first screen's thumbnails are asked for now, not a frame later.
    if (first) this.update();
  }

  setGroupBy(groupBy) {
    if (groupBy === this.groupBy) return;
    const anchor = this.firstVisiblePhoto();
    this.groupBy = groupBy;
    this.layout(0);
    this.scrollToPhoto(anchor);
  }

  resize() {
    const w = Math.floor(this.root.clientWidth);
    if (!w || w === this.width) return this.schedule();
    const anchor = this.width ? this.firstVisiblePhoto() : -1;
    this.width = w;
    this.layout(0);
    if (anchor > 0) this.scrollToPhoto(anchor);
  }

  // Lays out the photos from group `fromGroup` on; the rows it replaces leave the document.
  layout(fromGroup) {
    let i = 0;
    let top = 0;
    if (fromGroup > 0 && fromGroup < this.groups.length) {
      const g = this.groups[fromGroup];
      i = g.first;
      top = g.top;
      this.rows.length = g.row;
      this.groups.length = fromGroup;
    } else {
      this.rows = [];
      this.groups = [];
    }
    for (const [r, el] of this.rendered) {
      if (r >= this.rows.length) {
        el.remove();
        this.rendered.delete(r);
      }
    }
    const W = this.width;
    const H = this.targetHeight();
    const n = this.photos.length;
    const emit = (first, count, sum, scale) => {
      const avail = sum * scale;
      const h = Math.round(scale);
      const items = [];
      let acc = 0;
      for (let k = 0; k < count; k++) {
        const a = aspect(this.photos[first + k]);
        const x0 = Math.round((avail * acc) / sum) + k * GAP;
        acc += a;
        const x1 = Math.round((avail * acc) / sum) + k * GAP;
        items.push({ i: first + k, x: x0, w: x1 - x0 });
      }
      this.rows.push({ top, height: h, first, items });
      top += h + GAP;
    };
    while (W > 0 && i < n) {
      const key = this.keyOf(this.photos[i]);
      this.groups.push({ key, first: i, row: this.rows.length, top });
      this.rows.push({ top, height: HEADER, header: groupLabel(key) });
      top += HEADER;
      let first = i;
      let sum = 0;
      while (i < n && this.keyOf(this.photos[i]) === key) {
        sum += aspect(this.photos[i]);
        i++;
        const count = i - first;
        if (sum * H + GAP * (count - 1) >= W) {
          emit(first, count, sum, (W - GAP * (count - 1)) / sum);
          first = i;
          sum = 0;
        }
      }
      if (i > first) emit(first, i - first, sum, H);
      top += GROUP_END;
    }
    this.height = top;
    this.root.style.height = `${this.height + (this.more ? Math.max(window.innerHeight, 400) : 0)}px`;
    this.schedule();
  }

  clear() {
    for (const el of this.rendered.values()) el.remove();
    this.rendered.clear();
  }

  // The index of the first row whose bottom is below y.
  rowAt(y) {
    let lo = 0;
    let hi = this.rows.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const r = this.rows[mid];
      if (r.top + r.height < y) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  // The row that holds photo i (-1 before any layout).
  rowOfPhoto(i) {
    let lo = 0;
    let hi = this.rows.length - 1;
    let best = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      let m = mid;
      while (m <= hi && !this.rows[m].items) m++; // a heading: the photo row after it
      if (m > hi) {
        hi = mid - 1;
      } else if (this.rows[m].first <= i) {
        best = m;
        lo = m + 1;
      } else {
        hi = mid - 1;
      }
    }
    return best;
  }

  viewport() {
    const top = -this.root.getBoundingClientRect().top;
    return { top, bottom: top + window.innerHeight };
  }

  firstVisiblePhoto() {
    if (!this.rows.length) return -1;
    const { top } = this.viewport();
    for (let r = this.rowAt(Math.max(0, top)); r < this.rows.length; r++) if (this.rows[r].items) return this.rows[r].first;
    return -1;
  }

  update() {
    if (!this.width) return;
    const { top, bottom } = this.viewport();
    // Flung faster than a few screens a second, the rows that pass ask for no thumbnail until the page has been slow
    // for a moment: the rows where it stops are then not queued behind those it passed.
    const now = performance.now();
    const speed = this.lastTop === undefined ? 0 : (Math.abs(top - this.lastTop) * 1000) / Math.max(1, now - this.lastT);
    this.lastTop = top;
    this.lastT = now;
    if (speed > FAST) this.fastUntil = now + SETTLE;
    this.fast = now < (this.fastUntil || 0);
    clearTimeout(this.settle);
    if (this.deferred.size) {
      if (this.deferred.size > 500) for (const img of this.deferred) if (!img.isConnected) this.deferred.delete(img);
      if (this.fast) this.settle = setTimeout(() => this.schedule(), this.fastUntil - now + 10);
      else this.loadDeferred();
    }
    const over = window.innerHeight * 0.75;
    const from = this.rowAt(top - over);
    let to = from;
    while (to < this.rows.length && this.rows[to].top < bottom + over) to++;
    const focused = document.activeElement && this.root.contains(document.activeElement)
      ? Number(document.activeElement.closest('[data-row]')?.dataset.row)
      : -1;
    for (const [r, el] of this.rendered) {
      if ((r < from || r >= to) && r !== focused) {
        el.remove();
        this.rendered.delete(r);
      }
    }
    for (let r = from; r < to; r++) {
      if (this.rendered.has(r)) continue;
      const row = this.rows[r];
      this.renderRow(r, row.top < bottom && row.top + row.height > top);
    }
    if (this.more && bottom + 2 * window.innerHeight > this.height) this.onNeedMore();
  }

  // visible: on screen now (its thumbnails are asked for first), else near it.
  renderRow(r, visible) {
    const row = this.rows[r];
    let el;
    if (row.header) {
      el = document.createElement('h2');
      el.className = 'group';
      el.textContent = row.header;
    } else {
      el = document.createElement('div');
      el.className = 'row';
      el.setAttribute('role', 'list');
      for (const it of row.items) el.appendChild(this.renderCell(it, row.height, visible));
    }
    el.dataset.row = r;
    el.style.transform = `translateY(${row.top}px)`;
    el.style.height = `${row.height}px`;
    // Rows stay in the document in their order, for the keyboard and screen readers.
    let next = null;
    for (const [k, other] of this.rendered) if (k > r && (!next || k < Number(next.dataset.row))) next = other;
    this.root.insertBefore(el, next);
    this.rendered.set(r, el);
  }

  renderCell(it, height, visible) {
    const p = this.photos[it.i];
    const a = document.createElement('a');
    a.className = 'cell';
    a.href = this.hrefOf(p);
    a.dataset.i = it.i;
    a.setAttribute('role', 'listitem');
    a.style.left = `${it.x}px`;
    a.style.width = `${it.w}px`;
    a.style.height = `${height}px`;
    const name = baseName(p.path);
    a.title = name;
    this.fillCell(a, p, name, visible);
    return a;
  }

  fillCell(a, p, name, visible = true) {
    const img = document.createElement('img');
    img.fetchPriority = visible ? 'high' : 'low';
    img.alt = `${name}, ${formatDate(p.date)}`;
    img.decoding = 'async';
    img.width = Math.max(1, parseInt(a.style.width, 10));
    img.height = Math.max(1, parseInt(a.style.height, 10));
    img.setAttribute('elementtiming', 'thumb');
    img.onerror = () => {
      this.missing.add(p.id);
      a.classList.add('nothumb');
      if (!a.querySelector('.name')) {
        const s = document.createElement('span');
        s.className = 'name';
        s.textContent = name;
        a.appendChild(s);
      }
    };
    const src = thumbUrl(p.content_hash, 'grid');
    if (this.fast) {
      img.dataset.src = src;
      this.deferred.add(img);
    } else {
      img.src = src;
    }
    a.appendChild(img);
  }

  loadDeferred() {
    for (const img of this.deferred) if (img.isConnected) img.src = img.dataset.src;
    this.deferred.clear();
  }

  // The thumbs task made this photo's thumbnail: a cell that showed its name shows the picture.
  thumbReady(photoId) {
    if (!this.missing.delete(photoId)) return;
    const i = this.indexOf.get(photoId);
    if (i === undefined) return;
    const a = this.root.querySelector(`a.cell[data-i="${i}"]`);
    if (!a) return;
    a.classList.remove('nothumb');
    a.textContent = '';
    this.fillCell(a, this.photos[i], baseName(this.photos[i].path));
  }

  scrollToPhoto(i) {
    if (i < 0 || i >= this.photos.length) return;
    const row = this.rows[this.rowOfPhoto(i)];
    if (!row) return;

    const rootTop = this.root.getBoundingClientRect().top + window.scrollY;
    const { top, bottom } = this.viewport();
    const header = document.querySelector('header.top');
    const covered = header ? header.getBoundingClientRect().height : 0;
    if (row.top < top + covered || row.top + row.height > bottom) {
      window.scrollTo(0, rootTop + row.top - covered - HEADER);
    }
    this.update();
  }

  // Scrolls photo i into view and gives it the keyboard focus.
  focusPhoto(i) {
    this.scrollToPhoto(i);
    const a = this.root.querySelector(`a.cell[data-i="${i}"]`);
    if (a) a.focus({ preventScroll: true });
  }

  key(e) {
    const a = e.target.closest && e.target.closest('a.cell');
    if (!a) return;
    const i = Number(a.dataset.i);
    let to = -1;
    if (e.key === 'ArrowRight') to = i + 1;
    else if (e.key === 'ArrowLeft') to = i - 1;
    else if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      const r = this.rowOfPhoto(i);
      const row = this.rows[r];
      if (!row) return;
      const x = row.items.find((it) => it.i === i);
      const centre = x.x + x.w / 2;
      const step = e.key === 'ArrowDown' ? 1 : -1;
      let k = r + step;
      while (k >= 0 && k < this.rows.length && !this.rows[k].items) k += step;
      const target = this.rows[k];
      if (target) {
        let best = target.items[0];
        for (const it of target.items) if (Math.abs(it.x + it.w / 2 - centre) < Math.abs(best.x + best.w / 2 - centre)) best = it;
        to = best.i;
      }
    } else return;
    e.preventDefault();
    if (to >= 0 && to < this.photos.length) this.focusPhoto(to);
  }
}
