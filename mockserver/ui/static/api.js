// The admin API as the page calls it: same origin, JSON bodies, the admin token as a header when
// there is one (the security model of the README: the page is a same-origin client). Paths are
// relative to the page, so a page opened in a namespace (/__mock/ns/NAME/__mock/ui) reads and steers
// that namespace.

const TOKEN = "gptnb-mock.admin-token";

export class AdminError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

export const session = {
  onUnauthorized: () => {},
  get token() {
    return sessionStorage.getItem(TOKEN) || "";
  },
  set token(value) {
    if (value) sessionStorage.setItem(TOKEN, value);
    else sessionStorage.removeItem(TOKEN);
  },
};

export function adminHeaders(extra = {}) {
  const headers = { ...extra };
  if (session.token) headers["X-Mock-Admin-Token"] = session.token;
  return headers;
}

// ``path`` is relative to /__mock/ (the page is /__mock/ui): "journal", "tasks/ID/complete".
export async function admin(path, { method = "GET", body } = {}) {
  const options = { method, cache: "no-store", headers: adminHeaders() };
  if (body !== undefined) {
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(body);
  }
  const response = await fetch(path, options);
  const data = await response.json().catch(() => null);
  if (!response.ok) {
    const error = new AdminError(response.status, data?.error?.message || `${response.status} ${response.statusText}`);
    if (response.status === 401) session.onUnauthorized(error);
    throw error;
  }
  return data;
}

export function query(params) {
  const kept = Object.entries(params).filter(([, value]) => value !== "" && value !== null && value !== undefined && value !== false);
  return kept.length ? "?" + new URLSearchParams(kept).toString() : "";
}
