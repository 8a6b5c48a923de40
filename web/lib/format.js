// How things are said on the page: file names, dates, sizes.
export const baseName = (path) => (path ? path.slice(path.lastIndexOf('/') + 1) : '');

// Dates come as "2019-07-04T10:12:00" (the photo's own clock, no zone) or "2019-07-04": shown as written, never
// moved by the browser's time zone.
function utcOf(date) {
  const m = /^(\d{4})-(\d{2})(?:-(\d{2}))?(?:[T ](\d{2}):(\d{2}))?/.exec(date || '');
  if (!m) return null;
  return new Date(Date.UTC(+m[1], +m[2] - 1, m[3] ? +m[3] : 1, m[4] ? +m[4] : 0, m[5] ? +m[5] : 0));
}

const dayFormat = new Intl.DateTimeFormat(undefined, { weekday: 'short', day: 'numeric', month: 'long', year: 'numeric', timeZone: 'UTC' });
const monthFormat = new Intl.DateTimeFormat(undefined, { month: 'long', year: 'numeric', timeZone: 'UTC' });
const fullFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short', timeZone: 'UTC' });
const shortFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeZone: 'UTC' });

export function groupLabel(key) {
  const d = utcOf(key);
  if (!d) return 'No date';
  return key.length > 7 ? dayFormat.format(d) : monthFormat.format(d);
}

export function formatDate(date) {
  const d = utcOf(date);
  if (!d) return 'no date';
  return (date.length > 10 ? fullFormat : shortFormat).format(d);
}

export function formatBytes(n) {
  if (n === undefined || n === null) return '';
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(n < 10240 ? 1 : 0)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

export const plural = (n, one, many = one + 's') => `${n.toLocaleString()} ${n === 1 ? one : many}`;

export function personName(p) {
  return p && p.name ? p.name : `Person ${p ? p.id : '?'}`;
}
