// JSON API client for page scripts: CSRF header, one silent token refresh on 401, ApiError.

export class ApiError extends Error {
  constructor(status, code, message, details) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details || {};
  }
}

export function csrfToken() {
  const meta = document.querySelector('meta[name="csrf-token"]');
  return meta ? meta.content : '';
}

function url(path, params) {
  const target = new URL(path.startsWith('/') ? path : `/api/v1/${path}`, window.location.origin);
  for (const [key, value] of Object.entries(params || {})) {
    if (value !== undefined && value !== null && value !== '') target.searchParams.set(key, value);
  }
  return target;
}

let refreshing = null;

async function refreshLogin() {
  // concurrent 401s share one refresh: a refresh token works only once
  refreshing = refreshing || fetch('/auth/refresh', {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'X-CSRF-Token': csrfToken() },
  }).then((response) => response.ok).finally(() => { refreshing = null; });
  return refreshing;
}

function toLogin() {
  const next = window.location.pathname + window.location.search;
  window.location.assign(`/login?next=${encodeURIComponent(next)}`);
}

async function send(method, path, { params, body, form } = {}, retried = false) {
  const headers = { Accept: 'application/json' };
  if (method !== 'GET') headers['X-CSRF-Token'] = csrfToken();
  let payload;
  if (form) payload = form;
  else if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    payload = JSON.stringify(body);
  }
  const response = await fetch(url(path, params), {
    method, headers, body: payload, credentials: 'same-origin',
  });
  if (response.status === 401 && !retried) {
    if (await refreshLogin()) return send(method, path, { params, body, form }, true);
    toLogin();
  }
  const type = response.headers.get('Content-Type') || '';
  const data = type.includes('application/json') ? await response.json() : await response.text();
  if (!response.ok) {
    const error = (data && data.error) || {};
    throw new ApiError(response.status, error.code || 'http_error', error.message || String(response.status), error.details);
  }
  return data;
}

// paths are relative to /api/v1 ("leads") or absolute ("/healthz")
export const api = {
  get: (path, params) => send('GET', path, { params }),
  post: (path, body) => send('POST', path, { body }),
  patch: (path, body) => send('PATCH', path, { body }),
  put: (path, body) => send('PUT', path, { body }),
  del: (path) => send('DELETE', path),
  upload: (path, form) => send('POST', path, { form }),
  url: (path, params) => url(path, params).toString(),
};
