// api.js - the dashboard's one way to the HTTP API (docs/api.md): every call
// under /api/v1 with the token the user signed in with, kept in this tab's
// sessionStorage (gone when the tab closes) and sent as
// "Authorization: Bearer". An error answer (RFC 9457 problem+json) becomes an
// ApiError whose message is the problem's detail, shown to the user as it is.

const KEY = 'slipway.token';

export const token = {
  get: () => sessionStorage.getItem(KEY),
  set: (t) => sessionStorage.setItem(KEY, t),
  clear: () => sessionStorage.removeItem(KEY),
};

export class ApiError extends Error {
  constructor(status, detail, problem) {
    super(detail);
    this.status = status;
    this.problem = problem;
  }
}

// The server's clock minus this browser's (from the Date header), so that
// "time left" counts down by the server's clock.
let skewMs = 0;
export function serverNow() {
  return Date.now() + skewMs;
}

export async function api(method, path, body) {
  const headers = { Accept: 'application/json' };
  const t = token.get();
  if (t) headers.Authorization = 'Bearer ' + t;
  const init = { method, headers, cache: 'no-store' };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let r;
  try {
    r = await fetch('/api/v1' + path, init);
  } catch (e) {
    throw new ApiError(0, 'cannot reach the slipway API: ' + e.message, null);
  }
  const date = Date.parse(r.headers.get('Date') || '');
  if (!Number.isNaN(date)) skewMs = date - Date.now();
  let doc = null;
  try {
    doc = await r.json();
  } catch (e) {
    doc = null;
  }
  if (!r.ok) {
    const detail = doc && typeof doc.detail === 'string' ? doc.detail : `${r.status} ${r.statusText}`;
    throw new ApiError(r.status, detail, doc);
  }
  return doc;
}
