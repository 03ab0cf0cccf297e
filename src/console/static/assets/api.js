// The one door to the sandbar API: same origin, bearer token from session storage.
const TOKEN_KEY = 'sandbar.console.token';

export const session = {
  get token() {
    return sessionStorage.getItem(TOKEN_KEY);
  },
  signIn(token) {
    sessionStorage.setItem(TOKEN_KEY, token);
  },
  signOut() {
    sessionStorage.removeItem(TOKEN_KEY);
  },
};

/** An API answer outside 2xx; `message` is the server's human sentence when it gave one. */
export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

let onUnauthorized = () => {};
/** Called once with the error when the server rejects the token (expired, revoked, mistyped). */
export function whenUnauthorized(handler) {
  onUnauthorized = handler;
}

async function request(path, { method = 'GET', json, headers = {}, token = session.token } = {}) {
  const h = new Headers(headers);
  if (token) h.set('authorization', `Bearer ${token}`);
  if (json !== undefined) h.set('content-type', 'application/json');
  let res;
  try {
    res = await fetch(path, {
      method,
      headers: h,
      body: json === undefined ? undefined : JSON.stringify(json),
      cache: 'no-store',
      credentials: 'omit',
    });
  } catch {
    throw new ApiError(0, 'network', 'The server could not be reached. Check your connection and try again.');
  }
  if (!res.ok) {
    let body = null;
    try {
      body = await res.json();
    } catch {
      // Not JSON (a proxy's error page, say): fall back to the status line.
    }
    const error = new ApiError(
      res.status,
      body?.error ?? 'http_error',
      body?.message || body?.error || `The server answered ${res.status} ${res.statusText}.`,
    );
    if (res.status === 401) onUnauthorized(error);
    throw error;
  }
  return res;
}

/** JSON in, JSON out; null for an empty answer (204). */
export async function api(path, options) {
  const res = await request(path, options);
  const text = await res.text();
  return text ? JSON.parse(text) : null;
}

/** The raw body as a Blob, for downloads that need the bearer header a plain link cannot carry. */
export async function apiBlob(path, options) {
  const res = await request(path, options);
  return res.blob();
}

export const enc = encodeURIComponent;
