// The page's only way to the server: the JSON API of docs/API.md. Changing calls carry "X-Darkroom: 1" (the
// server's CSRF check); an error's sentence is the server's own.
export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

let unauthorized = () => {};
// Called when a call is refused for want of a token (the session ended, the token was revoked).
export function onUnauthorized(fn) {
  unauthorized = fn;
}

async function call(method, path, body) {
  const init = { method, headers: {}, credentials: 'same-origin' };
  if (method !== 'GET' && method !== 'HEAD') init.headers['X-Darkroom'] = '1';
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(path, init);
  } catch (e) {
    throw new ApiError(0, 'the server does not answer (is darkroom serve still running?)');
  }
  let json = null;
  try {
    json = await res.json();
  } catch (e) {
    json = null;
  }
  if (!res.ok) {
    if (res.status === 401 && path !== '/api/session') unauthorized();
    throw new ApiError(res.status, (json && json.error) || `${res.status} ${res.statusText}`);
  }
  return json;
}

export const api = {
  get: (path) => call('GET', path),
  post: (path, body = {}) => call('POST', path, body),
  del: (path) => call('DELETE', path),
};

// URLs of images, named by what never changes under them.
export const thumbUrl = (hash, size = 'grid') => `/api/thumbs/${hash}/${size}`;
export const faceUrl = (face) => `/api/faces/${face}/thumb`;
export const originalUrl = (id) => `/api/photos/${id}/original`;

// A query string from an object, leaving out empty values.
export function qs(params) {
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') u.set(k, v);
  const s = u.toString();
  return s ? `?${s}` : '';
}
